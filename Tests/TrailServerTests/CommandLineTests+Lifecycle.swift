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
            #expect(try trail(["migrate", "--database", database.text]).status == 0)
            let ingest = try trail(["ingest", "--file", "-", "--database", database.text], stdin: """
                [{"actor": {"id": "12"}, "verb": "create", "object": {"id": "u-1", "type": "user", "email": "a@x.io"}},
                 {"actor": {"id": "12"}, "verb": "create", "object": {"id": "o-1", "type": "order"}}]
                """)
            #expect(ingest.status == 0, "\(ingest.errors)")

            let refused = try trail(["retention", "set", "--tenant", "default", "--rules", "-", "--database", database.text],
                                    stdin: #"{"rules":[{"resource_type":"user","keep_days":-1}]}"#)
            #expect(refused.status == 1 && refused.errors.contains("rules[0].keep_days"), "\(refused.errors)")
            let set = try trail(["retention", "set", "--tenant", "default", "--rules", "-", "--database", database.text],
                                stdin: #"{"rules":[{"resource_type":"user","keep_days":0.000001}]}"#)
            #expect(set.status == 0, "\(set.errors)")
            let shown = try trail(["retention", "show", "--tenant", "default", "--database", database.text])
            #expect(shown.output.contains(#""resource_type":"user""#))
            try await Task.sleep(for: .milliseconds(300))

            let dry = try JSONParser.parse(try trail(["cleanup", "--dry-run", "--database", database.text]).output
                .trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(dry["tenant"] == "default" && dry["dry_run"] == .bool(true) && dry["removed"] == 1, "\(dry)")
            let real = try JSONParser.parse(try trail(["cleanup", "--tenant", "default", "--database", database.text]).output
                .trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(real["dry_run"] == .bool(false) && real["removed"] == 1, "\(real)")
            let verify = try trail(["verify", "--tenant", "default", "--database", database.text])
            #expect(verify.output.contains("of which 1 removed by retention"), "\(verify.output)\(verify.errors)")
        }
    }
}
