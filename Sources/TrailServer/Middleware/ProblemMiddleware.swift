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
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as ServiceError {
            if error.kind == .internal {
                context.logger.error("use case failure", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return try Problem(error).response(from: request, context: context)
        } catch let error as StoreError {
            if error.code != .idempotencyConflict {
                context.logger.error("store failure", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return try Problem(ServiceError(error)).response(from: request, context: context)
        } catch let error as HTTPError {
            let problem: Problem = switch error.status {
            case .notFound: .notFound(request.uri.path)
            default: Problem(error.status, "http-\(error.status.code)", title: error.status.reasonPhrase,
                             detail: error.body ?? error.status.reasonPhrase, headers: error.headers)
            }
            return try problem.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            let problem = Problem(error.status, "http-\(error.status.code)", title: error.status.reasonPhrase,
                                  detail: error.status.reasonPhrase)
            return try problem.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try Problem.internal.response(from: request, context: context)
        }
    }
}
