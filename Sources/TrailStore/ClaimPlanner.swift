/// Which open messages a claim takes: in queue order, claimable ones whose resources no older open message left
/// behind names, up to a limit. A message that stays behind (not claimable, or past the limit) blocks its
/// resources for every later one, so the messages of one resource are processed in acceptance order: the
/// messages a claim takes are processed in queue order, each after the older ones it shares resources with.
enum ClaimPlanner {
    /// How far a claim looks ahead among open messages for claimable ones.
    static let scan = 2_000

    struct Candidate {
        var sequence: Int64
        var claimable: Bool
        var resources: [HeadKey]
    }

    static func claimable(status: String, availableAt: Int64, claimedUntil: Int64?, now: Int64) -> Bool {
        status == "pending" ? availableAt <= now : (claimedUntil ?? 0) < now
    }

    static func choose(_ candidates: [Candidate], limit: Int) -> [Int64] {
        var blocked = Set<HeadKey>()
        var chosen: [Int64] = []
        for candidate in candidates {
            let free = candidate.resources.allSatisfy { !blocked.contains($0) }
            if candidate.claimable && free && chosen.count < limit {
                chosen.append(candidate.sequence)
            } else {
                blocked.formUnion(candidate.resources)
            }
        }
        return chosen
    }
}
