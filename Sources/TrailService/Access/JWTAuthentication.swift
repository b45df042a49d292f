import Foundation
import JWTKit
public import TrailCore

/// JWT bearer tokens Trail accepts (SPEC §7): signed with one of these keys, carrying `sub`, `tenant`, `roles`
/// and `exp`; `nbf` and `aud` are checked when present (`aud` must be present and match when an audience is
/// configured). Key material is checked when the configuration is made, so a bad key stops `trail serve` at start.
public struct JWTConfiguration: Sendable {
    public enum Key: Sendable {
        /// HS256 with a shared secret of at least 32 bytes.
        case hs256(secret: [UInt8])
        /// ES256 (ECDSA P-256 with SHA-256) with a public key in PEM.
        case es256(publicKeyPEM: String)
        /// EdDSA (Ed25519) with a public key in PEM.
        case eddsa(publicKeyPEM: String)
    }

    public struct InvalidKey: Error, CustomStringConvertible {
        public var description: String
    }

    public var keys: [Key]
    public var audience: String?

    public init(keys: [Key], audience: String? = nil) throws(InvalidKey) {
        var seen = Set<String>()
        for key in keys {
            switch key {
            case .hs256(let secret):
                guard secret.count >= 32 else { throw InvalidKey(description: "an HS256 secret needs at least 32 bytes") }
            case .es256(let pem):
                do { _ = try ES256PublicKey(pem: pem) } catch {
                    throw InvalidKey(description: "not an ES256 (P-256) public key in PEM: \(error)")
                }
            case .eddsa(let pem):
                do { _ = try EdDSA.PublicKey(pem: pem) } catch {
                    throw InvalidKey(description: "not an Ed25519 public key in PEM: \(error)")
                }
            }
            guard seen.insert(key.algorithm).inserted else {
                throw InvalidKey(description: "one key per algorithm: \(key.algorithm) is given twice")
            }
        }
        self.keys = keys
        self.audience = audience
    }
}

extension JWTConfiguration.Key {
    /// The `alg` of the tokens this key verifies.
    var algorithm: String {
        switch self {
        case .hs256: "HS256"
        case .es256: "ES256"
        case .eddsa: "EdDSA"
        }
    }
}

/// The claims Trail reads. Unknown roles are ignored (an identity provider may add its own).
struct TrailClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var aud: AudienceClaim?
    var tenant: String
    var roles: [String]

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}

/// Checks tokens against the configured keys. Each algorithm has a key collection of its own, chosen by the
/// token's `alg`: a token can only be checked with a key of the algorithm it names, so neither `alg: none` nor an
/// HS256 token "signed" with a public key can pass.
public final class JWTVerifier: Sendable {
    private let collections: Task<[String: JWTKeyCollection], Never>
    let audience: String?

    public init(_ configuration: JWTConfiguration) {
        audience = configuration.audience
        let keys = configuration.keys
        // Keys were checked by JWTConfiguration; adding them is async (the collection is an actor).
        collections = Task {
            var collections: [String: JWTKeyCollection] = [:]
            for key in keys {
                let collection = JWTKeyCollection()
                switch key {
                case .hs256(let secret): await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
                case .es256(let pem): if let key = try? ES256PublicKey(pem: pem) { await collection.add(ecdsa: key) }
                case .eddsa(let pem): if let key = try? EdDSA.PublicKey(pem: pem) { await collection.add(eddsa: key) }
                }
                collections[key.algorithm] = collection
            }
            return collections
        }
    }

    /// Whether a credential has the shape of a JWT (three base64url parts).
    public static func looksLikeToken(_ credential: some StringProtocol) -> Bool {
        credential.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2
    }

    /// The caller a token names and when the token expires (`exp`), or a 401 saying what is wrong with it.
    public func verify(token: String) async throws(ServiceError) -> (principal: Principal, expiresAt: Timestamp) {
        guard let algorithm = Self.algorithm(of: token) else {
            throw ServiceError.unauthenticated("The bearer token is not a JWT: its header could not be read.")
        }
        let collections = await self.collections.value
        guard let collection = collections[algorithm] else {
            let accepted = collections.keys.sorted().joined(separator: ", ")
            throw ServiceError.unauthenticated("Tokens signed with \(algorithm) are refused; Trail accepts \(accepted).")
        }
        let claims: TrailClaims
        do {
            claims = try await collection.verify(token, as: TrailClaims.self)
        } catch let error as JWTError {
            throw ServiceError.unauthenticated(Self.explain(error))
        } catch {
            throw ServiceError.unauthenticated("The token was refused: \(error).")
        }
        // A token without `aud` is refused too when an audience is configured.
        if let audience, (try? claims.aud?.verifyIntendedAudience(includes: audience)) == nil {
            throw ServiceError.unauthenticated("The token is not meant for this service: its aud must include \(audience).")
        }
        guard TenantName.isValid(claims.tenant) else {
            throw ServiceError.unauthenticated("The token's tenant must be \(TenantName.rule).")
        }
        guard !claims.sub.value.isEmpty else { throw ServiceError.unauthenticated("The token's sub is empty.") }
        let principal = Principal(tenant: claims.tenant, roles: Set(claims.roles.compactMap(Role.init(rawValue:))),
                                  subject: claims.sub.value, credential: .jwt)
        return (principal, Timestamp(microseconds: Int64(claims.exp.value.timeIntervalSince1970 * 1_000_000)))
    }

    /// The `alg` of a token's header, when the header is base64url JSON with a string `alg`.
    static func algorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var text = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: text), let json = try? JSONParser.parse(Array(data)) else { return nil }
        return json.objectValue?["alg"]?.stringValue
    }

    static func explain(_ error: JWTError) -> String {
        switch error.errorType {
        case .signatureVerificationFailed:
            return "The token's signature does not verify with Trail's key."
        case .claimVerificationFailure:
            switch error.failedClaim {
            case is ExpirationClaim: return "The token has expired (exp)."
            case is NotBeforeClaim: return "The token is not valid yet (nbf)."
            default: return "A claim of the token was refused: \(error.reason ?? "invalid")."
            }
        default:
            return "The token is malformed or lacks a required claim (sub, tenant, roles and exp are required)."
        }
    }
}
