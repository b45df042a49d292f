import Synchronization

/// How many requests one credential may make (SPEC §7): a token bucket per API key, refilled at `perSecond`
/// and holding at most `burst`.
public struct RateLimit: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        precondition(perSecond > 0 && burst >= 1)
        self.perSecond = perSecond
        self.burst = burst
    }

    /// 5,000 requests/s per key with bursts of 10,000: far above what one well-behaved application sends to an
    /// audit log one event or one batch at a time, low enough that one runaway client cannot take the whole
    /// server (a 2-core machine answers about 20,000 requests/s).
    public static let `default` = RateLimit(perSecond: 5_000, burst: 10_000)

    /// Failed authentications per client address: 20 at once, then one a second. A client retrying a wrong key,
    /// or guessing keys, gets 429 instead of having each guess checked; a valid key from that address waits the
    /// second too.
    public static let authenticationFailures = RateLimit(perSecond: 1, burst: 20)
}

/// The buckets, one per credential seen, in this process (several processes each allow the limit).
public final class RateLimiter: Sendable {
    public let limit: RateLimit
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(limit: RateLimit) { self.limit = limit }

    /// Takes one token from `credential`'s bucket; when it is empty, the whole seconds until one is back.
    public func take(_ credential: String, now: ContinuousClock.Instant = .now) -> Int? {
        withBucket(credential, now: now) { tokens in
            guard tokens >= 1 else { return self.wait(tokens) }
            tokens -= 1
            return nil
        }
    }

    /// When `credential`'s bucket is empty, the whole seconds until a token is back; nil when it holds one. Takes
    /// nothing.
    public func waitIfEmpty(_ credential: String, now: ContinuousClock.Instant = .now) -> Int? {
        withBucket(credential, now: now) { tokens in tokens >= 1 ? nil : self.wait(tokens) }
    }

    private func wait(_ tokens: Double) -> Int {
        max(1, Int(((1 - tokens) / limit.perSecond).rounded(.up)))
    }

    /// Runs `body` on the bucket's tokens, refilled for the time since it was last used.
    private func withBucket<T>(_ credential: String, now: ContinuousClock.Instant, _ body: (inout Double) -> T) -> T {
        buckets.withLock { buckets in
            var bucket = buckets[credential] ?? Bucket(tokens: limit.burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(limit.burst, bucket.tokens + seconds * limit.perSecond)
            bucket.updated = now
            defer { buckets[credential] = bucket }
            return body(&bucket.tokens)
        }
    }
}
