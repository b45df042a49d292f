public import GRDB

/// A connection to a SQLite store's file from outside Trail, for setting up and for tampering in tests. It waits
/// for the write lock as any second writer of a file does: a store open on the file takes it on its own now and
/// then (its search indexer, a moment after each commit).
public func outsideConnection(_ path: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    return try DatabaseQueue(path: path, configuration: configuration)
}
