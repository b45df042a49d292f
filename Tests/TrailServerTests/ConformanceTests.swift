import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailTestSupport

/// Runs every scenario of `shared/conformance/` (copied into `Conformance/`) step by step against the real
/// router on a fresh store of every available kind, with the matching rules of the conformance README.
@Suite struct ConformanceTests {
    /// `ingest` and `read` are copies of shared/conformance; `trail` holds Trail's own scenarios in the same format.
    static let folders = ["ingest", "read", "trail"]

    static var scenarios: [String] {
        folders.flatMap { folder in
            let directory = Bundle.module.resourceURL!.appendingPathComponent("Conformance/\(folder)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return files.filter { $0.hasSuffix(".json") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    @Test func everyFolderHasScenarios() {
        #expect(ConformanceTests.scenarios.count >= 9)
    }

    @Test(arguments: StoreKind.available, ConformanceTests.scenarios)
    func scenario(kind: StoreKind, _ name: String) async throws {
        try await run(kind: kind, name)
    }

    func run(kind: StoreKind, _ name: String) async throws {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Conformance/\(name)")
        let scenario = try JSONParser.parse(Array(try Data(contentsOf: url)))
        let steps = try #require(scenario["steps"]?.arrayValue)
        try await withRouter(kind) { client in
            for (number, step) in steps.enumerated() {
                let request = try #require(step["request"]?.objectValue)
                let expect = try #require(step["expect"]?.objectValue)
                var headers: HTTPFields = [.contentType: "application/json"]
                for member in request["headers"]?.objectValue ?? JSONObject() {
                    headers[HTTPField.Name(member.key)!] = member.value.stringValue
                }
                var body: ByteBuffer? = nil
                if let raw = request["raw_body"]?.stringValue {
                    body = ByteBuffer(string: raw)
                } else if let value = request["body"] {
                    body = jsonBody(value)
                }
                let method = HTTPRequest.Method(request["method"]!.stringValue!)!
                let path = request["path"]!.stringValue!
                let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
                let context = "\(name) step \(number + 1): \(method) \(path)"
                let text = String(buffer: response.body)

                #expect(Int64(response.status.code) == expect["status"]?.intValue, "\(context): \(text)")
                if let contentType = expect["content_type"]?.stringValue {
                    #expect(response.headers[.contentType]?.hasPrefix(contentType) == true, "\(context)")
                }
                guard expect["body"] != nil || expect["error_paths"] != nil else { continue }
                let actual = try parseJSON(response.body)
                if let expected = expect["body"] {
                    let mismatches = ConformanceMatcher.mismatches(expected: expected, actual: actual)
                    #expect(mismatches.isEmpty, "\(context): \(mismatches.joined(separator: "; "))\n\(text)")
                }
                for errorPath in expect["error_paths"]?.arrayValue ?? [] {
                    let errors = actual["errors"]?.arrayValue ?? []
                    let found = errors.contains { error in
                        (errorPath["index"] == nil || error["index"] == errorPath["index"])
                            && (errorPath["path"] == nil || error["path"] == errorPath["path"])
                    }
                    #expect(found, "\(context): no error matching \(JSONWriter.string(errorPath)) in \(text)")
                }
            }
        }
    }
}

/// The subset match of the conformance README: expected keys present with matching values, exact keys in
/// order under `fields` and `changes`, arrays element by element, numbers by value.
enum ConformanceMatcher {
    static func mismatches(expected: JSONValue, actual: JSONValue, path: String = "$", exactKeys: Bool = false) -> [String] {
        switch (expected, actual) {
        case (.object(let want), .object(let have)):
            var problems: [String] = []
            if exactKeys && want.keys != have.keys {
                problems.append("\(path): keys \(have.keys) instead of \(want.keys)")
            }
            for member in want {
                guard let value = have[member.key] else {
                    problems.append("\(path).\(member.key): missing")
                    continue
                }
                let exact = member.key == "fields" || member.key == "changes"
                problems += mismatches(expected: member.value, actual: value, path: "\(path).\(member.key)", exactKeys: exact)
            }
            return problems
        case (.array(let want), .array(let have)):
            guard want.count == have.count else {
                return ["\(path): \(have.count) elements instead of \(want.count)"]
            }
            return zip(want, have).enumerated().flatMap { index, pair in
                mismatches(expected: pair.0, actual: pair.1, path: "\(path)[\(index)]")
            }
        default:
            return expected == actual ? [] : ["\(path): \(JSONWriter.string(actual)) instead of \(JSONWriter.string(expected))"]
        }
    }
}
