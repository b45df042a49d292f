import Hummingbird
import Logging
import TrailService
import TrailStore

/// Turns every error into `application/problem+json`: Trail's own problems as they are, use-case and store
/// failures through ``Problem/init(_:)``, the framework's HTTP
/// errors with their status, and anything unexpected as a 500 whose cause is logged, never shown.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.problem(for: error, request: request, logger: context.logger).response(from: request, context: context)
        }
    }

    /// The problem an error is for users, logging what operators must see (the console shows the same problems
    /// as pages).
    static func problem(for error: any Error, request: Request, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as ServiceError:
            if error.kind == .internal {
                logger.error("use case failure", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return Problem(error)
        case let error as StoreError:
            if error.code != .idempotencyConflict {
                logger.error("store failure", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return Problem(ServiceError(error))
        case let error as HTTPError:
            return switch error.status {
            case .notFound: .notFound(request.uri.path)
            default: Problem(error.status, "http-\(error.status.code)", title: error.status.reasonPhrase,
                             detail: error.body ?? error.status.reasonPhrase, headers: error.headers)
            }
        case let error as any HTTPResponseError:
            return Problem(error.status, "http-\(error.status.code)", title: error.status.reasonPhrase,
                           detail: error.status.reasonPhrase)
        default:
            logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Problem.internal
        }
    }
}
