import GRDB
public import TrailCore

/// The write side: appends and queued messages go through the store's one writer (group commit).
extension SQLiteEventStore {
    public func append(_ request: AppendRequest) async throws(StoreError) -> AppendResult {
        try await append([request])[0].get()
    }

    public func append(_ requests: [AppendRequest]) async -> [Result<AppendResult, StoreError>] {
        await personal.append(requests) { sealed in await appendSealed(sealed) }
    }

    private func appendSealed(_ requests: [AppendRequest]) async -> [Result<AppendResult, StoreError>] {
        // Work that does not depend on current state happens here, on the caller's thread, not the writer's.
        let writes = requests.map { request in
            let prepared = PreparedRequest(request, redactor: appender.redactor, cacheGeneration: appender.cacheGeneration,
                                           expectedHead: appender.expectedHead)
            return (SQLiteAppender.Write.append(prepared), weight: max(request.activities.count, 1))
        }
        return await writer.submit(writes).map { result in
            result.flatMap { outcome in
                guard case .appended(let appended) = outcome else { return .failure(StoreError(.rejected, "unexpected outcome")) }
                return .success(appended)
            }
        }
    }

    func enqueueThroughWriter(_ message: NewMessage) async throws(StoreError) -> EnqueueResult {
        let outcome = try await writer.submit(.enqueue(message), weight: max(message.resources.count, 1))
        guard case .enqueued(let result) = outcome else { throw StoreError(.rejected, "unexpected outcome") }
        if !result.replayed { queued.notify() }
        return result
    }
}
