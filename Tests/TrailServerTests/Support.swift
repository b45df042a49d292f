import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// Trail's router on a fresh store of `kind`, for in-process requests.
func withRouter(
    _ kind: StoreKind, configuration: ServerConfiguration = ServerConfiguration(authentication: .disabled),
    workers: WorkerConfiguration = WorkerConfiguration(),
    checkpoints: CheckpointConfiguration = CheckpointConfiguration(),
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    try await withFreshLocation(kind) { location, _ in
        try await location.withStore { store in
            try await buildApplication(configuration: configuration, store: store, workers: workers, checkpoints: checkpoints)
                .test(.router, body)
        }
    }
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
}
