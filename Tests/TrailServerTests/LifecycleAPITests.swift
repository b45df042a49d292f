import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
@testable import TrailServer
import TrailService
import TrailStore
import TrailTestSupport

/// Retention, cleanups and legal holds through the API (SPEC §11): admins only, bad input refused with its path,
/// and a cleanup whose removed events read as removed and still verify.
@Suite struct LifecycleAPITests {
    static let paths: [(HTTPRequest.Method, String, String?)] = [
        (.get, "/api/v1/retention", nil),
        (.put, "/api/v1/retention", #"{"rules":[]}"#),
        (.post, "/api/v1/retention/run", #"{"dry_run":true}"#),
        (.get, "/api/v1/legal-holds", nil),
        (.post, "/api/v1/legal-holds", #"{"name":"x","match":{"actor":"1"}}"#),
        (.delete, "/api/v1/legal-holds/some-id", nil),
        (.post, "/api/v1/erasures", #"{"value":"nobody@example.com"}"#),
        (.get, "/api/v1/personal-data", nil),
        (.put, "/api/v1/personal-data", #"{"keys":["nickname"]}"#),
    ]

    @Test(arguments: StoreKind.available)
    func onlyAdminsManageData(kind: StoreKind) async throws {
        try await SecurityTests.withWorld(kind) { client, world, _ in
            for (method, path, body) in Self.paths {
                for role in ["writer", "reader", "auditor"] {
                    let response = try await client.execute(uri: path, method: method, headers: SecurityTests.header(world.keys["acme-\(role)"]!),
                                                            body: body.map { ByteBuffer(string: $0) })
                    #expect(response.status == .forbidden, "\(role) \(method) \(path): \(response.status)")
                }
                let admin = try await client.execute(uri: path, method: method, headers: SecurityTests.header(world.keys["acme-admin"]!),
                                                     body: body.map { ByteBuffer(string: $0) })
                #expect(admin.status.code < 400 || (path.hasSuffix("some-id") && admin.status == .notFound), "admin \(method) \(path): \(admin.status)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func badRulesRunsAndHoldsAre422WithTheirPath(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            for (method, path, body, field) in [
                (HTTPRequest.Method.put, "/api/v1/retention", #"{"rules":[{"resource_type":"user","keep_days":30,"colour":"red"}]}"#, "rules[0].colour"),
                (.put, "/api/v1/retention", #"{"rules":[{"resource_type":"user","keep_days":-3}]}"#, "rules[0].keep_days"),
                (.put, "/api/v1/retention", #"{"rule":[]}"#, "rule"),
                (.post, "/api/v1/retention/run", #"{"dry_run":"yes"}"#, "dry_run"),
                (.post, "/api/v1/legal-holds", #"{"name":"x","match":{}}"#, "match"),
                (.post, "/api/v1/legal-holds", #"{"name":"x","match":{"until":"soon"}}"#, "match.until"),
            ] {
                let response = try await client.execute(uri: path, method: method, headers: jsonHeaders, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(body): \(response.status)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let errors = try parseJSON(response.body)["errors"]?.arrayValue ?? []
                #expect(errors.contains { $0["path"]?.stringValue == field }, "\(body): \(String(buffer: response.body))")
            }
            // Nothing was stored by the refusals.
            let rules = try await client.execute(uri: "/api/v1/retention", method: .get)
            #expect(try parseJSON(rules.body)["rules"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func aCleanupThroughTheAPI(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            func send(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> (HTTPResponse.Status, JSONValue) {
                let response = try await client.execute(uri: path, method: method, headers: jsonHeaders, body: body.map { ByteBuffer(string: $0) })
                return (response.status, try parseJSON(response.body))
            }
            for (verb, id, email) in [("create", "u-1", "a@example.com"), ("update", "u-1", "b@example.com"), ("create", "u-2", "c@example.com")] {
                let (status, _) = try await send(.post, "/api/v1/audit/activity-stream",
                                                 #"{"actor":{"id":"12"},"verb":"\#(verb)","object":{"id":"\#(id)","type":"user","email":"\#(email)"}}"#)
                #expect(status == .created)
            }
            let (held, hold) = try await send(.post, "/api/v1/legal-holds", #"{"name":"dispute","reason":"court","match":{"resource_id":"u-2"}}"#)
            #expect(held == .created && hold["active"] == .bool(true))
            // Kept for about a tenth of a second.
            let (set, rules) = try await send(.put, "/api/v1/retention", #"{"rules":[{"resource_type":"user","keep_days":0.000001}]}"#)
            #expect(set == .ok && rules["rules"]?[0]?["keep_days"] == .number(JSONNumber(literal: "1e-06")!))
            try await Task.sleep(for: .milliseconds(300))

            let (_, dry) = try await send(.post, "/api/v1/retention/run", #"{"dry_run":true}"#)
            #expect(dry["dry_run"] == .bool(true) && dry["removed"] == 2 && dry["held"] == 1, "\(dry)")
            let (_, before) = try await send(.get, "/api/v1/resources/user/u-1/history")
            #expect(before["data"]?[0]?["removed"] == nil)

            let (ran, report) = try await send(.post, "/api/v1/retention/run")
            #expect(ran == .ok && report["dry_run"] == .bool(false) && report["removed"] == 2 && report["held"] == 1, "\(report)")
            let (_, history) = try await send(.get, "/api/v1/resources/user/u-1/history")
            let versions = history["data"]?.arrayValue ?? []
            #expect(versions.count == 2 && versions.allSatisfy { $0["removed"] == .bool(true) && $0["actor"] == .null && $0["version"] != .null })
            let (_, state) = try await send(.get, "/api/v1/resources/user/u-1?version=1")
            #expect(state["removed"] == .bool(true) && state["state"] == .null && state["deleted"] == .bool(false))
            let (_, current) = try await send(.get, "/api/v1/resources/user/u-1")
            #expect(current["state"]?["email"] == "b@example.com")
            let (_, verified) = try await send(.post, "/api/v1/integrity/verify")
            #expect(verified["valid"] == .bool(true) && verified["removed_events"] == 2, "\(verified)")

            let (released, gone) = try await send(.delete, "/api/v1/legal-holds/\(hold["id"]?.stringValue ?? "")")
            #expect(released == .ok && gone["active"] == .bool(false))
            let (missing, _) = try await send(.delete, "/api/v1/legal-holds/no-such-hold")
            #expect(missing == .notFound)
            let (_, list) = try await send(.get, "/api/v1/legal-holds")
            #expect(list["data"]?.arrayValue?.count == 1)
            let (_, records) = try await send(.get, "/api/v1/audit/logs?category=AUDIT_ADMIN")
            #expect(Set((records["data"]?.arrayValue ?? []).compactMap { $0["action"]?.stringValue })
                    == ["legal_hold_created", "retention_rules_set", "retention_cleanup", "legal_hold_released"])
        }
    }
}

extension LifecycleAPITests {
    @Test(arguments: StoreKind.available)
    func anErasureThroughTheAPI(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            func send(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> (HTTPResponse.Status, JSONValue) {
                let response = try await client.execute(uri: path, method: method, headers: jsonHeaders, body: body.map { ByteBuffer(string: $0) })
                return (response.status, try parseJSON(response.body))
            }
            let (created, _) = try await send(.post, "/api/v1/audit/activity-stream",
                                              #"{"actor":{"id":"12","name":"Zed"},"verb":"create","object":{"id":"u-1","type":"user","email":"ann@example.com"}}"#)
            #expect(created == .created)
            for (body, field) in [(#"{"value":"ab"}"#, "value"), (#"{"actor":"1","value":"ann@example.com"}"#, ""), (#"{"who":"x"}"#, "who")] {
                let (status, problem) = try await send(.post, "/api/v1/erasures", body)
                #expect(status == .unprocessableContent && problem["errors"]?.arrayValue?.contains { $0["path"]?.stringValue == field } == true,
                        "\(body): \(problem)")
            }
            let (erased, report) = try await send(.post, "/api/v1/erasures", #"{"value":"ANN@example.com","reason":"request 42"}"#)
            // The e-mail was stored sealed under its own key: the erasure destroys the key, nothing is rewritten.
            #expect(erased == .ok && report["events"] == 0 && report["sealed_events"] == 1 && report["key_destroyed"] == true
                    && report["subject"] == "value", "\(report)")
            let (_, history) = try await send(.get, "/api/v1/resources/user/u-1/history")
            let event = history["data"]?[0]
            #expect(event?["changes"]?["email"]?[1] == "[erased]" && event?["actor"]?["name"] == "Zed", "\(String(describing: event))")
            let (_, state) = try await send(.get, "/api/v1/resources/user/u-1")
            #expect(state["state"]?["email"] == "[erased]")
            let (_, found) = try await send(.get, "/api/v1/audit/logs?q=ann")
            #expect(found["data"]?.arrayValue?.contains { $0["resource"]?["id"] == "u-1" } == false, "searching by the erased value finds nothing")
            let (_, verified) = try await send(.post, "/api/v1/integrity/verify")
            #expect(verified["valid"] == .bool(true) && verified["erased_events"] == 0, "\(verified)")
        }
    }
}

extension LifecycleAPITests {
    /// Keys a tenant marks personal: values under them are sealed from then on (opened by reads, sealed in the
    /// NDJSON export), and an erasure of such a value destroys its key.
    @Test(arguments: StoreKind.available)
    func keysATenantMarksPersonal(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            func send(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> (HTTPResponse.Status, ByteBuffer) {
                let response = try await client.execute(uri: path, method: method, headers: jsonHeaders, body: body.map { ByteBuffer(string: $0) })
                return (response.status, response.body)
            }
            for (body, field) in [(#"{"keys":"nickname"}"#, "keys"), (#"{"keys":[""]}"#, "keys[0]"), (#"{"keys":[],"other":1}"#, "other")] {
                let (status, problem) = try await send(.put, "/api/v1/personal-data", body)
                let errors = try parseJSON(problem)["errors"]?.arrayValue ?? []
                #expect(status == .unprocessableContent && errors.contains { $0["path"]?.stringValue == field }, "\(body): \(String(buffer: problem))")
            }
            let (set, answer) = try await send(.put, "/api/v1/personal-data", #"{"keys":["NickName","nickname","shoe_size"]}"#)
            let keys = try parseJSON(answer)
            #expect(set == .ok && keys["keys"] == ["nickname", "shoe_size"] && keys["installation_keys"]?.arrayValue?.contains("email") == true, "\(keys)")
            #expect(try parseJSON(try await send(.get, "/api/v1/personal-data").1) == keys)

            let (created, _) = try await send(.post, "/api/v1/audit/activity-stream",
                                              #"{"actor":{"id":"12"},"verb":"create","object":{"id":"u-1","type":"user","nickname":"Zazie","team":"blue"}}"#)
            #expect(created == .created)
            let (_, state) = try await send(.get, "/api/v1/resources/user/u-1")
            #expect(try parseJSON(state)["state"]?["nickname"] == "Zazie")
            let (_, export) = try await send(.get, "/api/v1/audit/logs/export?format=ndjson&resource_type=user")
            let stored = String(buffer: export)
            #expect(!stored.contains("Zazie") && stored.contains("trail:sealed:1:") && stored.contains("blue"), "\(stored)")

            let (erased, report) = try await send(.post, "/api/v1/erasures", #"{"value":"zazie"}"#)
            let destroyed = try parseJSON(report)["key_destroyed"]
            #expect(erased == .ok && destroyed == true, "\(String(buffer: report))")
            let after = try parseJSON(try await send(.get, "/api/v1/resources/user/u-1").1)["state"]
            #expect(after?["nickname"] == "[erased]" && after?["team"] == "blue", "\(String(describing: after))")
            let (_, records) = try await send(.get, "/api/v1/audit/logs?category=AUDIT_ADMIN")
            let actions = try parseJSON(records)["data"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
            #expect(actions == ["subject_key_destroyed", "personal_keys_set"], "\(actions)")
        }
    }
}
