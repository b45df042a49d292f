/// One event of a `text/event-stream` (the WHATWG HTML standard's Server-Sent Events).
public enum ServerSentEvent {
    /// `id: <id>`, `event: <type>`, `data: <data>` and the blank line that ends the event. `data` must hold no line
    /// break (JSON as `JSONWriter` writes it has none: line breaks inside strings are escaped).
    public static func frame(id: Int64, type: String, data: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(data.count + type.utf8.count + 40)
        frame += Array("id: \(id)\nevent: \(type)\ndata: ".utf8)
        frame += data
        frame += [10, 10]
        return frame
    }
}
