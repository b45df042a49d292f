import Foundation
public import TrailStore
import TrailCore

/// The summary's wire form, for `GET /api/v1/audit/logs/summary` and `trail report --format json`.
public enum AuditSummaryJSON {
    /// `{"days", "total", "by_action", "by_resource_type", "by_actor", "by_day", "by_outcome",
    /// "duration_ms_by_action"}` (SPEC §5).
    public static func encode(_ summary: EventSummary, days: Int64) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        func counts(_ key: String, _ pairs: [(String, Int)]) {
            writer.raw(","); writer.key(key); writer.raw("{")
            for (i, (name, count)) in pairs.enumerated() {
                if i > 0 { writer.raw(",") }
                writer.key(name); writer.raw(String(count))
            }
            writer.raw("}")
        }
        writer.raw("{"); writer.key("days"); writer.raw(String(days))
        writer.raw(","); writer.key("total"); writer.raw(String(summary.total))
        counts("by_action", summary.byAction)
        counts("by_resource_type", summary.byResourceType)
        counts("by_actor", summary.byActor)
        counts("by_day", summary.byDay)
        counts("by_outcome", summary.byOutcome)
        writer.raw(","); writer.key("duration_ms_by_action"); writer.raw("{")
        for (i, (action, durations)) in summary.durationByAction.enumerated() {
            if i > 0 { writer.raw(",") }
            writer.key(action); writer.raw("{")
            writer.key("min"); writer.raw(String(durations.minimum))
            writer.raw(","); writer.key("avg"); writer.raw(String(format: "%.1f", durations.average))
            writer.raw(","); writer.key("max"); writer.raw(String(durations.maximum))
            writer.raw("}")
        }
        writer.raw("}}")
        return writer.bytes
    }
}
