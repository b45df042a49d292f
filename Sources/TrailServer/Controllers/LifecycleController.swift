import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// Data lifecycle (SPEC §11), for admins, in their own tenant: retention rules (`GET`/`PUT /api/v1/retention`),
/// cleanups (`POST /api/v1/retention/run`, `{"dry_run": true}` to only count), and legal holds (`GET`/`POST
/// /api/v1/legal-holds`, `DELETE /api/v1/legal-holds/{id}`), erasures of data subjects (`POST
/// /api/v1/erasures`) and the keys the tenant marks personal (`GET`/`PUT /api/v1/personal-data`). Every change
/// is an `AUDIT_ADMIN` event of the tenant.
struct LifecycleController: Sendable {
    typealias Context = TrailRequestContext
    let retention: Retention
    let holds: LegalHolds
    let erasures: Erasures
    let personalData: PersonalDataSettings
    let body: JSONBodyReader
    let origin: RequestOrigin

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/retention") { _, context in
            let tenant = try context.tenant(for: .manageData)
            return Self.json(try await retention.policy(tenant: tenant).json)
        }
        routes.put("/api/v1/retention") { request, context in
            let who = try self.who(request, context)
            let policy = try await body.withBody(request) { bytes in
                try await retention.setPolicy(body: bytes.readableBytesView, tenant: who.tenant, by: who.operator)
            }
            return Self.json(policy.json)
        }
        routes.post("/api/v1/retention/run") { request, context in
            let who = try self.who(request, context)
            let dryRun = try await body.withBody(request) { bytes in try Self.dryRun(bytes.readableBytesView) }
            let report = try await retention.run(tenant: who.tenant, dryRun: dryRun, by: who.operator)
            return Self.json(report.json)
        }
        routes.get("/api/v1/legal-holds") { _, context in
            let tenant = try context.tenant(for: .manageData)
            return Self.json(.object(JSONObject([.init(key: "data", value: .array(try await holds.list(tenant: tenant).map(\.json)))])))
        }
        routes.post("/api/v1/legal-holds") { request, context in
            let who = try self.who(request, context)
            let hold = try await body.withBody(request) { bytes in
                try await holds.create(body: bytes.readableBytesView, tenant: who.tenant, by: who.operator)
            }
            var response = Self.json(hold.json, status: .created)
            response.headers[.location] = "/api/v1/legal-holds/\(hold.id)"
            return response
        }
        routes.post("/api/v1/erasures") { request, context in
            let who = try self.who(request, context)
            let report = try await body.withBody(request) { bytes in
                try await erasures.erase(body: bytes.readableBytesView, tenant: who.tenant, by: who.operator)
            }
            return Self.json(report.json)
        }
        routes.get("/api/v1/personal-data") { _, context in
            let tenant = try context.tenant(for: .manageData)
            return Self.json(try await personalData.json(tenant: tenant))
        }
        routes.put("/api/v1/personal-data") { request, context in
            let who = try self.who(request, context)
            return Self.json(try await body.withBody(request) { bytes in
                try await personalData.set(body: bytes.readableBytesView, tenant: who.tenant, by: who.operator)
            })
        }
        routes.delete("/api/v1/legal-holds/{id}") { request, context in
            let who = try self.who(request, context)
            let id = try context.pathParameter("id")
            return Self.json(try await holds.release(id: id, tenant: who.tenant, by: who.operator).json)
        }
    }

    /// The caller, allowed to manage data, as the lifecycle records name them.
    func who(_ request: Request, _ context: Context) throws -> (tenant: String, operator: Operator) {
        let principal = try context.principal(for: .manageData)
        return (principal.tenant, Operator(principal, requestContext: origin.context(of: request, in: context)))
    }

    /// `{"dry_run": bool}` or an empty body (a real run).
    static func dryRun(_ body: some Collection<UInt8>) throws -> Bool {
        guard body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return false }
        let value = try ServiceError.json(body)
        guard let object = value.objectValue else {
            throw ServiceError.invalid(InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object {\"dry_run\": true|false}")]))
        }
        var errors: [FieldError] = []
        for key in object.keys where key != "dry_run" {
            errors.append(FieldError(index: nil, path: key, message: "unknown field; the body is {\"dry_run\": true|false}"))
        }
        var dryRun = false
        switch object["dry_run"] {
        case nil: break
        case .bool(let given)?: dryRun = given
        default: errors.append(FieldError(index: nil, path: "dry_run", message: "a boolean"))
        }
        guard errors.isEmpty else { throw ServiceError.invalid(InvalidSubmission(errors: errors)) }
        return dryRun
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var writer = JSONWriter(capacity: 512)
        writer.write(value)
        return Response.json(writer.bytes, status: status)
    }
}
