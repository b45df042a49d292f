import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TrailCore
import TrailServer
import TrailStore

/// A SQLite file in a fresh temporary directory, removed when the test is done with it.
struct TemporaryDatabase: ~Copyable {
    let directory: URL
    var path: String { directory.appendingPathComponent("trail.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trail-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

func parseJSON(_ buffer: ByteBuffer) throws -> JSONValue {
    try JSONParser.parse(buffer.readableBytesView)
}

func jsonBody(_ value: JSONValue) -> ByteBuffer {
    ByteBuffer(bytes: JSONWriter.encode(value))
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

extension JSONValue {
    subscript(key: String) -> JSONValue? { objectValue?[key] }
    subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
    var intValue: Int64? {
        if case .number(let number) = self { return Int64(number.literal) }
        return nil
    }
}
