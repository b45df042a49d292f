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
}

/// The buckets, one per credential seen, in this process (several processes each allow the limit).
final class RateLimiter: Sendable {
    let limit: RateLimit
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }
    private let buckets = Mutex<[String: Bucket]>([:])

    init(limit: RateLimit) { self.limit = limit }

    /// Takes one token from `credential`'s bucket; when it is empty, the whole seconds until one is back.
    func take(_ credential: String, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[credential] ?? Bucket(tokens: limit.burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(limit.burst, bucket.tokens + seconds * limit.perSecond)
            bucket.updated = now
            defer { buckets[credential] = bucket }
            guard bucket.tokens >= 1 else {
                return max(1, Int(((1 - bucket.tokens) / limit.perSecond).rounded(.up)))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}
