/// Why a store operation failed, with a code callers can switch on and a message fit for users.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The idempotency key was used before with a different body.
        public static let idempotencyConflict = Code(name: "idempotencyConflict")
        /// The store cannot be reached or is busy; the operation may succeed later.
        public static let unavailable = Code(name: "unavailable")
        /// Stored data could not be read back (corruption, or a newer schema).
        public static let corrupt = Code(name: "corrupt")
        /// The store refused the operation as invalid (a broken invariant: a bug).
        public static let rejected = Code(name: "rejected")
        /// There is no store where one was named, and the operation does not create one.
        public static let missing = Code(name: "missing")
        /// What the operation would create exists already, and it does not overwrite (`trail backup`'s file).
        public static let exists = Code(name: "exists")
        /// The connection to the store was lost while a write was being committed: it may or may not have been
        /// stored. A retry with the same idempotency key finds out without storing it twice.
        public static let indeterminate = Code(name: "indeterminate")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static let indeterminate = StoreError(
        .indeterminate, "the connection to the store was lost while the write was being committed; it may or may not be stored")

    /// The idempotency key of `claim` was used before with another body.
    static func reused(_ claim: IdempotencyClaim) -> StoreError {
        StoreError(.idempotencyConflict,
            "the idempotency key \"\(claim.key)\" was already used with a different body; use a new key for a new submission")
    }
}
