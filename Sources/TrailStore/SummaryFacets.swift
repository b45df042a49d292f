/// The SQL both stores count a summary's facets with (their dialects agree on it); each store runs one
/// `GROUP BY` per facet and hands the rows to ``EventSummary/assemble(counts:durations:)``.
extension EventSummary {
    /// The facet queries both stores run: `(facet, key, count)` rows, `key` the action, resource type, actor id,
    /// day number (days since 1970-01-01 UTC) or outcome.
    static let facets: [(name: String, expression: String)] = [
        ("action", "action"), ("resource_type", "resource_type"), ("actor", "actor_id"),
        ("day", "recorded_at / 86400000000"), ("outcome", "outcome"),
    ]
}
