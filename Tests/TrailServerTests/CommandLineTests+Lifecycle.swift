import Foundation
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

extension CommandLineTests {
    /// `trail retention set|show` and `trail cleanup [--dry-run]`, then `trail verify` counting what was removed.
    @Test(arguments: StoreKind.available)
    func retentionAndCleanup(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
            #expect(try await trail(["migrate", "--database", database.text]).status == 0)
            let ingest = try await trail(["ingest", "--file", "-", "--database", database.text], stdin: """
                [{"actor": {"id": "12"}, "verb": "create", "object": {"id": "u-1", "type": "user", "email": "a@x.io"}},
                 {"actor": {"id": "12"}, "verb": "create", "object": {"id": "o-1", "type": "order"}}]
                """)
            #expect(ingest.status == 0, "\(ingest.errors)")

            let refused = try await trail(["retention", "set", "--tenant", "default", "--rules", "-", "--database", database.text],
                                    stdin: #"{"rules":[{"resource_type":"user","keep_days":-1}]}"#)
            #expect(refused.status == 1 && refused.errors.contains("rules[0].keep_days"), "\(refused.errors)")
            let set = try await trail(["retention", "set", "--tenant", "default", "--rules", "-", "--database", database.text],
                                stdin: #"{"rules":[{"resource_type":"user","keep_days":0.000001}]}"#)
            #expect(set.status == 0, "\(set.errors)")
            let shown = try await trail(["retention", "show", "--tenant", "default", "--database", database.text])
            #expect(shown.output.contains(#""resource_type":"user""#))
            try await Task.sleep(for: .milliseconds(300))

            let dry = try JSONParser.parse(try await trail(["cleanup", "--dry-run", "--database", database.text]).output
                .trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(dry["tenant"] == "default" && dry["dry_run"] == .bool(true) && dry["removed"] == 1, "\(dry)")
            let real = try JSONParser.parse(try await trail(["cleanup", "--tenant", "default", "--database", database.text]).output
                .trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(real["dry_run"] == .bool(false) && real["removed"] == 1, "\(real)")
            let verify = try await trail(["verify", "--tenant", "default", "--database", database.text])
            #expect(verify.output.contains("of which 1 removed by retention"), "\(verify.output)\(verify.errors)")
        }
    }

    /// `trail personal-keys set|show`, then `trail erase --value` destroying the key of a value sealed under it.
    @Test(arguments: StoreKind.available)
    func personalKeysAndErasure(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
            #expect(try await trail(["migrate", "--database", database.text]).status == 0)
            let set = try await trail(["personal-keys", "set", "--tenant", "default", "--keys", "nickname, Badge", "--database", database.text])
            #expect(set.status == 0, "\(set.errors)")
            let shown = try JSONParser.parse(try await trail(["personal-keys", "show", "--tenant", "default", "--database", database.text]).output
                .trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(shown["keys"] == ["badge", "nickname"], "\(shown)")
            let ingest = try await trail(["ingest", "--file", "-", "--database", database.text], stdin: """
                {"actor": {"id": "12"}, "verb": "create", "object": {"id": "u-1", "type": "user", "badge": "B-9081"}}
                """)
            #expect(ingest.status == 0 && ingest.output.contains("B-9081"), "\(ingest.output)\(ingest.errors)")
            let erase = try await trail(["erase", "--tenant", "default", "--value", "b-9081", "--database", database.text])
            #expect(erase.status == 0 && erase.output.contains(#""key_destroyed":true"#), "\(erase.output)\(erase.errors)")
            let history = try await trail(["history", "--resource-type", "user", "--resource-id", "u-1", "--json", "--database", database.text])
            #expect(history.output.contains("[erased]") && !history.output.contains("B-9081"), "\(history.output)")
        }
    }

    @Test(arguments: StoreKind.available)
    func sinksAddListShowRemove(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, database in
            #expect(try await trail(["migrate", "--database", database.text]).status == 0)
            let refused = try await trail(["sinks", "add", "--tenant", "acme", "--definition", #"{"type": "syslog", "address": "tcp://127.0.0.1:6514"}"#,
                                     "--database", database.text])
            #expect(refused.status != 0 && refused.errors.contains("allow-private-sinks"), "\(refused.errors)")
            let added = try await trail(["sinks", "add", "--tenant", "acme", "--allow-private-sinks", "--database", database.text, "--definition",
                                   #"{"type": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef-xyz", "headers": {"Authorization": "Splunk t0ken"}}"#])
            #expect(added.status == 0, "\(added.errors)")
            let sink = try JSONParser.parse(added.output.trimmingCharacters(in: .whitespacesAndNewlines))
            let id = try #require(sink["id"]?.stringValue)
            #expect(sink["headers"] == ["Authorization"] && !added.output.contains("t0ken") && !added.output.contains("0123456789abcdef-xyz"))
            let listed = try await trail(["sinks", "list", "--tenant", "acme", "--database", database.text])
            #expect(listed.output.contains(id) && listed.output.contains(#""lag":"#), "\(listed.output)")
            #expect(try await trail(["sinks", "show", "--tenant", "globex", id, "--database", database.text]).status != 0, "tenant-confined")
            #expect(try await trail(["sinks", "remove", "--tenant", "acme", id, "--database", database.text]).status == 0)
            #expect(try await trail(["sinks", "show", "--tenant", "acme", id, "--database", database.text]).status != 0)
        }
    }
}
