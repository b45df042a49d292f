import Hummingbird
import TrailCore

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"data": [...]}`, each item written by `write` (about `bytesPerItem` bytes each).
    static func dataList<Item>(_ items: [Item], bytesPerItem: Int,
                               _ write: (Item, inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter(capacity: bytesPerItem * (items.count + 1))
        writer.raw("{"); writer.key("data"); writer.raw("[")
        for (i, item) in items.enumerated() {
            if i > 0 { writer.raw(",") }
            write(item, &writer)
        }
        writer.raw("]}")
        return json(writer.bytes)
    }
}
