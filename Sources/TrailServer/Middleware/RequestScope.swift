public import Logging
import Synchronization

/// The request being served, for every logger: ``RequestIDMiddleware`` sets its `request_id` (and `trace_id`,
/// from a W3C `traceparent`) for the task serving it and the tasks that task starts, and
/// ``metadataProvider``, given to `LoggingSystem.bootstrap`, adds them to each line any logger writes there —
/// the use cases' and the stores' loggers too, not only the request's own.
public enum RequestScope {
    @TaskLocal static var metadata: Logger.Metadata = [:]

    /// Adds the request's id and trace id to lines logged while serving it.
    public static let metadataProvider = Logger.MetadataProvider { metadata }
}

/// What inner middleware learn about a request that an outer one reports once it is answered: the tenant,
/// known once the caller is authenticated (a request context is a value: what an inner middleware sets in its
/// copy is not seen outside).
final class RequestNotes: Sendable {
    private let tenantName = Mutex<String?>(nil)

    var tenant: String? {
        get { tenantName.withLock { $0 } }
        set { tenantName.withLock { $0 = newValue } }
    }
}
