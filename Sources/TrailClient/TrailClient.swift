public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A client of Trail's API (SPEC §15): records events and reads the history, over AsyncHTTPClient. Failed
/// calls throw ``TrailClientError``; writes that meet `429`, `503` or a lost connection are retried with
/// exponential backoff and jitter (honouring `Retry-After`) under one idempotency key, so that a retry never
/// stores an event twice. The key is sent in `Authorization` and never logged or put in an error.
public struct TrailClient: Sendable {
    public struct Configuration: Sendable {
        /// Trail's address, e.g. `http://127.0.0.1:9002`. Default: `TRAIL_URL`, else that address.
        public var baseURL: String
        /// An API key (or a JWT). Default: `TRAIL_API_KEY`.
        public var apiKey: String?
        /// Attempts of a call in all (the first and its retries). Default 4.
        public var attempts: Int
        /// The first retry's wait; each next one doubles, with jitter, up to ``maximumBackoff``. Default 200 ms.
        public var backoff: Duration
        public var maximumBackoff: Duration
        /// How long one attempt may take. Default 30 s.
        public var timeout: Duration

        public init(baseURL: String? = nil, apiKey: String? = nil, attempts: Int = 4, backoff: Duration = .milliseconds(200),
                    maximumBackoff: Duration = .seconds(10), timeout: Duration = .seconds(30)) {
            let environment = ProcessInfo.processInfo.environment
            self.baseURL = String((baseURL ?? environment["TRAIL_URL"] ?? "http://127.0.0.1:9002").trimmingSuffix("/"))
            self.apiKey = apiKey ?? environment["TRAIL_API_KEY"]
            self.attempts = max(1, attempts)
            self.backoff = backoff
            self.maximumBackoff = maximumBackoff
            self.timeout = timeout
        }
    }

    public let configuration: Configuration
    let http: HTTPClient

    public init(configuration: Configuration = Configuration(), httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = httpClient
    }

    // MARK: Writing

    /// Records one event; returns it as stored. `idempotencyKey`: a repeat with the same key and event stores
    /// nothing and returns the first result (retries use one, made up when none is given).
    @discardableResult
    public func record(_ event: AuditEvent, idempotencyKey: String? = nil) async throws(TrailClientError) -> StoredEvent {
        let body = try encode(event)
        return try await send(.POST, "/api/v1/audit/logs", body: body, idempotencyKey: idempotencyKey ?? UUID().uuidString,
                              as: StoredEvent.self)
    }

    /// Records events all or none (SPEC §3: one transaction); returns them as stored, in order.
    @discardableResult
    public func recordBatch(_ events: [AuditEvent], idempotencyKey: String? = nil) async throws(TrailClientError) -> [StoredEvent] {
        struct Batch: Encodable { var logs: [AuditEvent] }
        struct Stored: Decodable { var data: [StoredEvent] }
        let body = try encode(Batch(logs: events))
        return try await send(.POST, "/api/v1/audit/logs/batch", body: body,
                              idempotencyKey: idempotencyKey ?? UUID().uuidString, as: Stored.self).data
    }

    // MARK: Reading

    /// One event by id, nil if there is none.
    public func event(id: String) async throws(TrailClientError) -> StoredEvent? {
        try await optional { () async throws(TrailClientError) in
            try await send(.GET, "/api/v1/audit/logs/\(Self.segment(id))", as: StoredEvent.self)
        }
    }

    /// A resource's events, oldest first, every page.
    public func history(type: String, id: String) -> EventPages {
        EventPages(client: self, path: "/api/v1/resources/\(Self.segment(type))/\(Self.segment(id))/history", parameters: [])
    }

    /// The events matching `filter`, newest first, fetched a page at a time as they are iterated.
    public func events(filter: EventFilter = EventFilter()) -> EventPages {
        EventPages(client: self, path: "/api/v1/audit/logs", parameters: filter.parameters)
    }

    /// A resource's state now, or at `version`; nil if it did not exist (then).
    public func state(type: String, id: String, version: Int64? = nil) async throws(TrailClientError) -> ResourceState? {
        let query = version.map { "?version=\($0)" } ?? ""
        return try await optional { () async throws(TrailClientError) in
            try await send(.GET, "/api/v1/resources/\(Self.segment(type))/\(Self.segment(id))\(query)", as: ResourceState.self)
        }
    }

    // MARK: Transport

    private func optional<T>(_ body: () async throws(TrailClientError) -> T) async throws(TrailClientError) -> T? {
        do {
            return try await body()
        } catch where error.code == .notFound {
            return nil
        }
    }

    /// JSON with sorted keys: the same event is the same body, which an idempotency key's repeat must be.
    private func encode(_ value: some Encodable) throws(TrailClientError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return try encoder.encode(value)
        } catch {
            throw TrailClientError(code: .invalid, detail: "The event cannot be encoded as JSON: \(error).")
        }
    }

    /// Sends a request, retrying what may be retried, and decodes the answer.
    func send<T: Decodable>(_ method: HTTPMethod, _ path: String, body: Data? = nil, idempotencyKey: String? = nil,
                            as type: T.Type) async throws(TrailClientError) -> T {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "trail-client-swift")
        if let key = configuration.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        // Reads are safe to repeat; writes carry an idempotency key.
        let retryable = method == .GET || idempotencyKey != nil
        var failure = TrailClientError(code: .transport, detail: "No attempt was made.")
        for attempt in 1...configuration.attempts {
            var wait: Duration?
            do {
                let response = try await http.execute(request, timeout: TimeAmount(configuration.timeout))
                let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    do {
                        return try JSONDecoder().decode(T.self, from: Data(bytes.readableBytesView))
                    } catch {
                        throw TrailClientError(code: .decoding, status: status, detail: "Trail's answer could not be read: \(error).")
                    }
                }
                failure = Self.problem(status: status, body: bytes)
                guard failure.code == .unavailable else { throw failure }
                wait = response.headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds($0) }
            } catch let error as TrailClientError {
                throw error
            } catch {
                failure = TrailClientError(code: .transport, detail: "Trail at \(configuration.baseURL) could not be reached: \(error).")
            }
            guard retryable, attempt < configuration.attempts else { break }
            try? await Task.sleep(for: wait ?? delay(attempt: attempt))
        }
        throw failure
    }

    /// The wait before retry `attempt`: the backoff doubled per attempt, capped, with full jitter.
    func delay(attempt: Int) -> Duration {
        let base = configuration.backoff * (1 << min(attempt - 1, 20))
        let capped = min(base, configuration.maximumBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    /// A refusal, from its problem+json.
    static func problem(status: Int, body: ByteBuffer) -> TrailClientError {
        struct Problem: Decodable {
            var type: String?
            var title: String?
            var detail: String?
            var errors: [TrailClientError.FieldError]?
        }
        let problem = try? JSONDecoder().decode(Problem.self, from: Data(body.readableBytesView))
        let code: TrailClientError.Code = switch status {
        case 400, 413, 415, 422: .invalid
        case 401, 403: .authentication
        case 404: .notFound
        case 409: .conflict
        case 429, 500...: .unavailable
        default: .invalid
        }
        return TrailClientError(code: code, status: status, type: problem?.type, title: problem?.title,
                                detail: problem?.detail ?? "Trail answered \(status).", errors: problem?.errors ?? [])
    }

    /// A path segment, percent-encoded.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

extension String {
    func trimmingSuffix(_ suffix: Character) -> Substring {
        var text = Substring(self)
        while text.last == suffix { text = text.dropLast() }
        return text
    }
}
