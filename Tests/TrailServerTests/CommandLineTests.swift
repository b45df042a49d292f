import Foundation
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// The `trail` executable's one-shot commands, run as a user would.
@Suite struct CommandLineTests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the `trail` executable to its end on a thread of its own, not on one of Swift's pool (the servers
    /// and other tests of this process share the few threads of that pool: two commands waiting on them at once
    /// starved everything else on a 2-core machine).
    func trail(_ arguments: [String], stdin: String? = nil) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Self.run(arguments, stdin: stdin) }) }.start()
        }
    }

    private static func run(_ arguments: [String], stdin: String?) throws -> Run {
        let process = try Spawned(try TrailProcess.binary().path, arguments)
        if let stdin { process.write(stdin) }
        process.closeInput()
        var (out, err) = (Data(), Data())
        process.drain(onOutput: { out.append($0) }, onError: { err.append($0) })
        let status = process.wait()
        return Run(status: status, output: String(decoding: out, as: UTF8.self), errors: String(decoding: err, as: UTF8.self))
    }

    /// The cells of the table row that begins with `first`.
    static func row(of first: String, in table: String) -> [String] {
        table.split(separator: "\n").first { $0.hasPrefix(first) }?.split(separator: " ").map(String.init) ?? []
    }

    @Test(arguments: StoreKind.available)
    func migrateIngestAndHistory(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
        let migrate = try await trail(["migrate", "--database", database.text])
        #expect(migrate.status == 0)
        #expect(migrate.output.contains("applied 0001_events_heads_idempotency, 0002_messages"))

        let file = database.directory.appendingPathComponent("payloads.json")
        try Data("""
            {"type": "audit_logs", "id": "w-1", "payload": [
              {"actor": {"id": "12"}, "verb": "create", "object": {"id": "user-1", "type": "user", "email": "a@x.io"}},
              {"actor_id": "12", "verb": "edit", "type": "user", "id": "user-1", "email": "b@x.io"}
            ]}
            """.utf8).write(to: file)
        let ingest = try await trail(["ingest", "--file", file.path, "--database", database.text])
        #expect(ingest.status == 0, "\(ingest.errors)")
        let records = try JSONParser.parse(ingest.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(records[1]?["description"] == "Email changed from a@x.io to b@x.io.")
        #expect(records[1]?["version"]?.intValue == 2)

        // The wrapper id makes a second run of the same file a replay: nothing new is stored.
        let again = try await trail(["ingest", "--file", file.path, "--database", database.text])
        #expect(try JSONParser.parse(again.output.trimmingCharacters(in: .whitespacesAndNewlines)) == records)

        let history = try await trail(["history", "--resource-type", "user", "--resource-id", "user-1", "--database", database.text])
        #expect(history.status == 0)
        #expect(history.output.contains("user user-1: 2 events, version 2"))
        #expect(history.output.contains("Email changed from a@x.io to b@x.io."))
        let json = try await trail(["history", "--resource-type", "user", "--resource-id", "user-1", "--json", "--database", database.text])
        #expect(try JSONParser.parse(json.output.trimmingCharacters(in: .whitespacesAndNewlines)) == records)

        let ndjson = try await trail(["export", "--format", "ndjson", "--action", "edit", "--database", database.text])
        #expect(ndjson.status == 0, "\(ndjson.errors)")
        let lines = ndjson.output.split(separator: "\n")
        #expect(lines.count == 1)
        // NDJSON is the log as stored (what `trail verify --export` checks): e-mails sealed. CSV is for people.
        let summary = try JSONParser.parse(String(lines[0]))["summary"]?.stringValue ?? ""
        #expect(summary.hasPrefix("Email changed from trail:sealed:1:") && !summary.contains("a@x.io"), "\(summary)")
        let csvFile = database.directory.appendingPathComponent("export.csv")
        let csv = try await trail(["export", "--format", "csv", "--output", csvFile.path, "--database", database.text])
        #expect(csv.status == 0, "\(csv.errors)")
        let rows = try String(contentsOf: csvFile, encoding: .utf8).components(separatedBy: "\r\n")
        #expect(rows.count == 4 && rows[0].hasPrefix("id,sequence,tenant,"))
        #expect(rows.contains { $0.contains("Email changed from a@x.io to b@x.io.") })

        let report = try await trail(["report", "--days", "7", "--database", database.text])
        #expect(report.status == 0, "\(report.errors)")
        #expect(report.output.contains("Audit report (last 7 days): 2 events"))
        #expect(report.output.contains("By resource type:\n  user  2"))
        let reportJSON = try await trail(["report", "--format", "json", "--actor", "12", "--database", database.text])
        #expect(try JSONParser.parse(reportJSON.output.trimmingCharacters(in: .whitespacesAndNewlines))["total"]?.intValue == 2)
        let reportCSV = try await trail(["report", "--format", "csv", "--resource-type", "nothing", "--database", database.text])
        #expect(reportCSV.output == "facet,value,events\r\n")
        }
    }

    @Test(arguments: StoreKind.available)
    func ingestTakesGenericAuditEvents(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
        #expect(try await trail(["migrate", "--database", database.text]).status == 0)
        let single = try await trail(["ingest", "--format", "audit-event", "--file", "-", "--database", database.text],
                               stdin: #"{"event_type":"user_login","user_id":"u1","ip_address":"10.0.0.1"}"#)
        #expect(single.status == 0, "\(single.errors)")
        let stored = try JSONParser.parse(single.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(stored[0]?["action"] == "user_login" && stored[0]?["context"]?["ip"] == "10.0.0.1")
        let batch = try await trail(["ingest", "--format", "audit-event-batch", "--file", "-", "--database", database.text],
                              stdin: #"{"logs":[{"action":"a","user":"x"},{"action":"b"}]}"#)
        #expect(batch.status == 1)
        #expect(batch.errors.contains("item 1, actor"))
        let list = try await trail(["export", "--format", "ndjson", "--database", database.text])
        #expect(list.output.split(separator: "\n").count == 1, "the refused batch stored nothing")
        }
    }

    /// Each command's help lists only its own options; a missing required one prints that command's usage.
    @Test func helpAndUsageAreThoseOfTheCommand() async throws {
        let help = try await trail(["history", "--help"]).output
        #expect(help.contains("--resource-type") && help.contains("--database"))
        for foreign in ["--durability", "--pool-size", "--redact-keys", "--store-timeout", "--workers"] {
            #expect(!help.contains(foreign), "history --help lists \(foreign)")
        }
        #expect(try await trail(["serve", "--help"]).output.contains("--durability"))
        let missing = try await trail(["history", "--resource-id", "x"])
        #expect(missing.status != 0 && missing.errors.contains("Missing expected argument '--resource-type")
                && missing.errors.contains("Usage: trail history --resource-type"), "\(missing.errors)")
    }

    /// `trail history` reads a long history a page at a time and prints all of it.
    @Test func historyPagesThroughALongHistory() async throws {
        try await withFreshLocation(.sqlite) { _, database in
            #expect(try await trail(["migrate", "--database", database.text]).status == 0)
            let updates = (1...2_500).map { #"{"actor":"a","verb":"update","object":{"id":"long","type":"doc","n":\#($0)}}"# }
            #expect(try await trail(["ingest", "--file", "-", "--database", database.text], stdin: "[" + updates.joined(separator: ",") + "]").status == 0)
            let text = try await trail(["history", "--resource-type", "doc", "--resource-id", "long", "--database", database.text])
            #expect(text.output.hasSuffix("doc long: 2500 events, version 2500\n"))
            #expect(text.output.contains("v2500  #2500") && text.output.contains("v1001  #1001"))
            let json = try JSONParser.parse(try await trail(["history", "--resource-type", "doc", "--resource-id", "long", "--json", "--database", database.text]).output)
            #expect(json.arrayValue?.map { $0["version"]?.intValue } == (1...2_500).map { Int64($0) })
        }
    }

    @Test(arguments: StoreKind.available)
    func refusedInputSaysWhyAndStoresNothing(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
        #expect(try await trail(["migrate", "--database", database.text]).status == 0)
        let run = try await trail(["ingest", "--file", "-", "--database", database.text], stdin: #"[{"verb":"create"}]"#)
        #expect(run.status == 1)
        #expect(run.errors.contains("item 0, actor: actor is required"))
        #expect(run.output.isEmpty)
        let missing = try await trail(["history", "--resource-type", "t", "--resource-id", "x", "--database", database.text])
        #expect(missing.status == 1)
        #expect(missing.output.contains("No history for t x."))
        }
    }

    // The limit includes the wait for one of the few PostgreSQL test databases, behind the slow process tests.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func asyncIngestMessagesAndAWorker(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
            let payload = #"{"actor": {"id": "12"}, "verb": "create", "object": {"id": "user-9", "type": "user", "email": "a@x.io"}}"#
            #expect(try await trail(["migrate", "--database", database.text]).status == 0)
            let queued = try await trail(["ingest", "--file", "-", "--async", "--database", database.text], stdin: payload)
            #expect(queued.status == 0, "\(queued.errors)")
            let id = queued.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(id.count == 36)
            let pending = try await trail(["messages", "list", "--status", "pending", "--database", database.text])
            #expect(pending.output.hasPrefix("ID ") && pending.output.contains("STATUS"), "a header")
            #expect(Self.row(of: id, in: pending.output).prefix(4) == [id, "pending", "default", "0"])
            #expect(try await trail(["messages", "list", "--status", "failed", "--database", database.text]).output == "No failed messages.\n")
            let notFailed = try await trail(["messages", "retry", id, "--database", database.text])
            #expect(notFailed.status == 1)
            #expect(notFailed.output.contains("No failed message"))

            let worker = try TrailProcess(database: database.text, arguments: ["--workers", "1"], command: "worker")
            let deadline = ContinuousClock.now + .seconds(30)
            var completed = ""
            while ContinuousClock.now < deadline {
                completed = try await trail(["messages", "list", "--status", "completed", "--database", database.text]).output
                if completed.contains(id) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            worker.terminate()
            #expect(Self.row(of: id, in: completed).prefix(4) == [id, "completed", "default", "1"])
            let history = try await trail(["history", "--resource-type", "user", "--resource-id", "user-9", "--database", database.text])
            #expect(history.output.contains("user user-9: 1 event, version 1"))
        }
    }

    /// Only serve, worker and migrate create a store: every other command refuses a place that holds none, says
    /// so, and creates nothing there.
    @Test(arguments: StoreKind.available)
    func commandsOtherThanServeWorkerAndMigrateCreateNoStore(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, database in
            let commands: [[String]] = [
                ["verify"], ["history", "--resource-type", "t", "--resource-id", "x"], ["report"], ["export"],
                ["keys", "list"], ["keys", "create", "--tenant", "a", "--role", "admin"], ["keys", "revoke", "0123456789abcdef"],
                ["messages", "list"], ["messages", "retry", "01a209c4-ffe1-7ceb-a9a2-36ffb2490cb0"],
                ["ingest", "--file", "-"],
            ]
            for command in commands {
                let run = try await trail(command + ["--database", database.text], stdin: #"{"actor":"1","verb":"create","type":"t","id":"x"}"#)
                #expect(run.status == (command == ["verify"] ? 2 : 1), "\(command): verify's 2 is 'nothing to verify'")
                #expect(run.errors.contains("no Trail store") || run.errors.contains("holds no Trail store"), "\(command): \(run.errors)")
                #expect(!run.errors.contains("Error:"), "one line, not a usage error")
            }
            switch location {
            case .sqlite(let path, _):
                #expect(!FileManager.default.fileExists(atPath: path))
                #expect(try FileManager.default.contentsOfDirectory(atPath: database.directory.path).isEmpty)
            case .postgres(let url, _):
                let tables = try await PostgresAdmin.rows("SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public'", on: url)
                #expect(tables == [["0"]])
            }
            #expect(try await trail(["migrate", "--database", database.text]).status == 0)
            #expect(try await trail(["report", "--database", database.text]).status == 0)
        }
    }

    @Test func anUnreachableOrMalformedDatabaseURLFailsWithItsReason() async throws {
        let malformed = try await trail(["migrate", "--database", "postgres:///nohost"])
        #expect(malformed.status != 0)
        #expect(malformed.errors.contains("not a PostgreSQL URL"))
        // Port 1 on loopback: nothing listens there.
        let unreachable = try await trail(["history", "--resource-type", "t", "--resource-id", "x",
                                     "--database", "postgres://trail:secret@127.0.0.1:1/trail?sslmode=disable"])
        #expect(unreachable.status == 1)
        #expect(unreachable.errors == "error: PostgreSQL at 127.0.0.1:1 refused the connection: is it running, and listening on that address and port?\n")
        #expect(!unreachable.errors.contains("secret"), "the password is never printed")
    }

    /// What is wrong with a PostgreSQL server that cannot be used, in one line, for `trail serve` as for every
    /// command: no such database, a role it refuses, TLS it does not offer.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func postgreSQLStartErrorsSayWhatIsWrongInOneLine() async throws {
        let base = try PostgresURL(try #require(StoreKind.postgresURL))
        func url(database: String = "trail_no_such_database", user: String? = nil, sslmode: String = "disable") -> String {
            "postgres://\(user ?? base.username)@\(base.host):\(base.port)/\(database)?sslmode=\(sslmode)"
        }
        for (database, expected) in [
            (url(), "has no database trail_no_such_database: create it (createdb trail_no_such_database) or fix the URL"),
            (url(database: base.database, user: "trail_no_such_role"), "refused user trail_no_such_role"),
            (url(database: base.database, sslmode: "require"), "does not offer TLS, which sslmode=require asks for"),
        ] {
            for command in [["serve", "--port", "0"], ["report"]] {
                let run = try await trail(command + ["--database", database])
                #expect(run.status == 1, "\(command) \(database)")
                let lines = run.errors.split(separator: "\n").filter { !$0.contains(" info ") }
                #expect(lines.count == 1 && lines[0].hasPrefix("error: PostgreSQL at ") && lines[0].contains(String(expected)), "\(run.errors)")
            }
        }
    }
}
