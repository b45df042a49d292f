import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// The queue through real `trail` processes: a crash while workers run, and workers in a process of their own.
@Suite struct QueueProcessTests {
    struct Sent: Sendable {
        var id: String
        var client: Int
        var index: Int
        var resource: String
    }

    /// Queues `count` async updates over `resources` resources from `clients` concurrent clients.
    static func queue(port: Int, count: Int, clients: Int, resources: Int) async throws -> [Sent] {
        try await withThrowingTaskGroup(of: [Sent].self) { group in
            for client in 0..<clients {
                group.addTask {
                    try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                        var sent: [Sent] = []
                        for index in 0..<(count / clients) {
                            let resource = "q\((client + index) % resources)"
                            let body = ByteBuffer(string: #"{"actor":{"id":"c\#(client)"},"verb":"update","object":{"id":"\#(resource)","type":"counter","c\#(client)":\#(index)}}"#)
                            let response = try await connection.post("/audit/activity-stream/", headers: AsyncIngestTests.asyncHeaders, body: body)
                            #expect(response.status == .accepted)
                            let responseBody = try #require(response.body)
                            let id = try #require(try parseJSON(responseBody)["message_id"]?.stringValue)
                            sent.append(Sent(id: id, client: client, index: index, resource: resource))
                        }
                        return sent
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// Waits (bounded) until the store has no open message.
    static func drained(_ store: any TrailStorage, within seconds: Int = 120) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await store.openMessageCount() == 0 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Every sent message completed exactly once, in order per client and resource.
    static func expectCompletedOnce(_ sent: [Sent], store: any TrailStorage, resources: Int) async throws {
        let completed = try await store.messages(tenant: "default", status: .completed, limit: sent.count + 10)
        let byId = Dictionary(uniqueKeysWithValues: completed.map { ($0.id, $0) })
        #expect(completed.count == sent.count)
        #expect(sent.allSatisfy { byId[$0.id]?.eventCount == 1 }, "every accepted message completed with its event")
        #expect(Set(completed.compactMap(\.firstSequence)).count == sent.count, "no two messages share an event")
        var total = 0
        var sequenceOf: [String: Int64] = [:]
        for r in 0..<resources {
            let history = try await store.history(tenant: "default", resourceType: "counter", resourceId: "q\(r)")
            total += history.count
            #expect(history.map(\.version) == (0..<history.count).map { Int64($0 + 1) }, "q\(r): versions contiguous")
            for event in history { sequenceOf[event.id] = event.sequence }
        }
        #expect(total == sent.count, "one event per message, none twice")
        // Each client's messages on one resource were processed in the order it sent them.
        for client in Set(sent.map(\.client)) {
            for r in 0..<resources {
                let mine = sent.filter { $0.client == client && $0.resource == "q\(r)" }.sorted { $0.index < $1.index }
                let sequences = mine.compactMap { byId[$0.id]?.firstSequence }
                #expect(sequences == sequences.sorted(), "client \(client), q\(r): in submission order")
            }
        }
    }

    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func queuedMessagesSurviveKill9AndCompleteExactlyOnce(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            _ = try await location.migrate()
            // Queue 10,000 messages with no worker running…
            let accepting = try TrailProcess(database: fresh.text, arguments: ["--workers", "0"])
            let sent = try await Self.queue(port: try await accepting.port(), count: 10_000, clients: 20, resources: 50)
            accepting.terminate()
            #expect(sent.count == 10_000)

            // …then let workers run, and kill -9 the process in the middle of the work.
            let working = try TrailProcess(database: fresh.text, arguments: ["--workers", "2", "--message-lease", "2"])
            _ = try await working.port()
            try await location.withStore { store in
                let deadline = ContinuousClock.now + .seconds(60)
                while try await store.openMessageCount() > 7_000, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                working.kill9()
                let open = try await store.openMessageCount()
                #expect(open > 0, "killed while messages were still open")

                // Restart: claims of the killed process expire (2 s) and every message completes once.
                let restarted = try TrailProcess(database: fresh.text, arguments: ["--workers", "2", "--message-lease", "2"])
                _ = try await restarted.port()
                #expect(try await Self.drained(store))
                restarted.terminate()
                try await Self.expectCompletedOnce(sent, store: store, resources: 50)
            }
        }
    }

    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func aWorkerProcessDrainsWhatAServerWithoutWorkersQueued(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            _ = try await location.migrate()
            let server = try TrailProcess(database: fresh.text, arguments: ["--workers", "0"])
            let sent = try await Self.queue(port: try await server.port(), count: 300, clients: 6, resources: 10)
            try await location.withStore { store in
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await store.openMessageCount() == 300, "nothing processes them yet")
                let worker = try TrailProcess(database: fresh.text, arguments: ["--workers", "2"], command: "worker")
                #expect(try await Self.drained(store, within: 60))
                worker.terminate()
                server.terminate()
                try await Self.expectCompletedOnce(sent, store: store, resources: 10)
            }
        }
    }
}
