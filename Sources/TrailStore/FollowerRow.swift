import TrailCore

/// A follower as both stores keep it: its definition as JSON text, its secret sealed.
struct FollowerRow: Sendable {
    var id: String
    var tenant: String
    var kind: Follower.Kind
    var name: String
    var definition: String
    var secret: [UInt8]?
    var cursor: Int64
    var createdAt: Timestamp
    var createdBy: String
    var handled: Int64
    var lastSuccessAt: Timestamp?
    var lastError: String?
    var lastErrorAt: Timestamp?
    var failures: Int
    var retryAt: Timestamp?

    init(id: String, tenant: String, kind: Follower.Kind, name: String, definition: String, secret: [UInt8]?, cursor: Int64,
         createdAt: Timestamp, createdBy: String, handled: Int64, lastSuccessAt: Timestamp?, lastError: String?,
         lastErrorAt: Timestamp?, failures: Int, retryAt: Timestamp?) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.name = name
        self.definition = definition
        self.secret = secret
        self.cursor = cursor
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.handled = handled
        self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.failures = failures
        self.retryAt = retryAt
    }

    init(_ follower: Follower, personal: PersonalData) {
        self.init(id: follower.id, tenant: follower.tenant, kind: follower.kind, name: follower.name,
                  definition: JSONWriter.string(follower.definition),
                  secret: follower.secret.map { personal.sealCredential(JSONWriter.encode(.object($0)), context: follower.id) },
                  cursor: follower.cursor, createdAt: follower.createdAt, createdBy: follower.createdBy,
                  handled: follower.handled, lastSuccessAt: follower.lastSuccessAt, lastError: follower.lastError,
                  lastErrorAt: follower.lastErrorAt, failures: follower.failures, retryAt: follower.retryAt)
    }

    func follower(personal: PersonalData) -> Follower {
        let definition = (try? JSONParser.parse(Array(self.definition.utf8)))?.objectValue ?? JSONObject()
        let secret = self.secret.flatMap { personal.openCredential($0, context: id) }
            .flatMap { try? JSONParser.parse($0) }?.objectValue
        return Follower(id: id, tenant: tenant, kind: kind, name: name, definition: definition, secret: secret,
                        cursor: cursor, createdAt: createdAt, createdBy: createdBy, handled: handled,
                        lastSuccessAt: lastSuccessAt, lastError: lastError, lastErrorAt: lastErrorAt,
                        failures: failures, retryAt: retryAt)
    }
}
