import Foundation
public import TrailCore
public import TrailStore

/// Erasure of a data subject (SPEC §11, GDPR art. 17): every occurrence in the tenant's events, the current
/// state of its resources, its search index and its queue is replaced by `[erased]`, except in events a legal
/// hold keeps. The events keep their place and hashes (verification takes an erased event's hash as stored and
/// holds it to the erasure's record); each batch is named by an `erasure` event (category `AUDIT_ADMIN`)
/// before it is rewritten. The record never holds the value erased.
public struct Erasures: Sendable {
    let store: any TrailStorage
    public let batchSize: Int
    let clock: @Sendable () -> Timestamp

    public init(store: any TrailStorage, batchSize: Int = 1_000, clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.batchSize = batchSize
        self.clock = clock
    }

    public struct Report: Sendable, Equatable {
        public var id: String
        public var tenant: String
        public var subject: String
        public var erasedAt: Timestamp
        /// Events rewritten.
        public var events: Int64 = 0
        /// Events that hold the subject but a legal hold keeps.
        public var held: Int64 = 0
        /// Resources whose current state was rewritten.
        public var resources: Int64 = 0
        /// Queue messages rewritten or emptied.
        public var messages: Int64 = 0
        /// Events whose resource id holds the value: ids are kept (they place events in histories), so these
        /// still name it.
        public var resourceIds: Int64 = 0
        /// Events holding values sealed under the subject's key, unreadable now that it is destroyed (also in
        /// every backup), and no longer found by a search for them.
        public var sealedEvents: Int64 = 0
        /// Whether the subject had a key and it was destroyed (crypto-shredding).
        public var keyDestroyed = false
        /// What could not be done at once (PostgreSQL's dead row versions until VACUUM, a busy SQLite log).
        public var note: String?
    }

    /// Erases the subject `body` names (`{"actor": id}` or `{"value": text}`, `"reason"` optional).
    public func erase(body: some Collection<UInt8>, tenant: String, by who: Operator) async throws -> Report {
        let value = try ServiceError.json(body)
        let given: (subject: ErasureSubject, reason: String)
        do { given = try Erasure.parse(value) } catch { throw ServiceError.invalid(error) }
        return try await erase(given.subject, reason: given.reason, tenant: tenant, by: who)
    }

    public func erase(_ subject: ErasureSubject, reason: String = "", tenant: String, by who: Operator) async throws -> Report {
        let now = clock()
        var report = Report(id: UUID().uuidString.lowercased(), tenant: tenant, subject: subject.kind, erasedAt: now)
        // The current states first: appends from now on build on erased states.
        if case .value(let value) = subject {
            report.resources = Int64(try await store.eraseInHeads(tenant: tenant) { Erasure.erase(value, in: $0) })
        }
        // The subject's key, if its values were sealed: destroyed at the end, unless a held event needs it.
        let keyID = try await store.subjectKeyID(tenant: tenant, subject: DataSubject(subject))
        var heldUnderKey: Int64 = 0
        /// The events holding values sealed under that key (found as every event is looked at below).
        var sealedUnderKey: [Int64] = []
        var after: Int64 = 0
        let actorId: String? = if case .actor(let id) = subject { id } else { nil }
        while true {
            let events = try await store.erasableEvents(tenant: tenant, actorId: actorId, after: after, limit: batchSize)
            guard let last = events.last else { break }
            after = last.sequence
            let holds = try await store.holds(tenant: tenant).filter(\.isActive)
            var batch: [ErasableEvent] = []
            for event in events {
                if case .value(let value) = subject, event.resourceId.map({ Erasure.erase(value, in: $0) != nil }) == true {
                    report.resourceIds += 1
                }
                let held = holds.contains { $0.match.holds(resourceType: event.resourceType, resourceId: event.resourceId,
                                                           actorId: event.actorId, occurredAt: event.occurredAt) }
                if let keyID, Self.seals(event, under: keyID) {
                    if held { heldUnderKey += 1 } else { sealedUnderKey.append(event.sequence) }
                }
                guard let erased = Self.apply(subject, to: event) else { continue }
                if held {
                    report.held += 1
                } else {
                    batch.append(erased)
                }
            }
            guard !batch.isEmpty else { continue }
            var metadata = JSONObject()
            metadata.append("erasure_id", .string(report.id))
            metadata.append("subject", .string(subject.kind))
            if !reason.isEmpty { metadata.append("reason", .string(Self.withoutSubject(reason, subject))) }
            metadata.append(RemovalClaims.Kind.erasure.member, RemovalClaims(batch.map(\.sequence)).json)
            metadata.append("count", .number(JSONNumber(batch.count)))
            try await AdminRecord(store: store).record(
                RemovalClaims.Kind.erasure.action, tenant: tenant, by: who,
                summary: "\(who.id) erased a data subject (\(subject.kind)) from \(batch.count) event\(batch.count == 1 ? "" : "s").",
                metadata: metadata)
            report.events += Int64(try await store.eraseEvents(tenant: tenant, batch, at: now))
        }
        if case .value(let value) = subject {
            report.messages = Int64(try await store.eraseInMessages(tenant: tenant, value: value))
        }
        var notes: [String] = []
        if keyID != nil {
            if heldUnderKey > 0 {
                notes.append("The subject's key is kept: \(heldUnderKey) event(s) a legal hold keeps hold values sealed under it. Erase again once the hold is released.")
            } else {
                // Recorded first, like every batch: the log says who made it forget before it forgets.
                var metadata = JSONObject()
                metadata.append("erasure_id", .string(report.id))
                metadata.append("subject", .string(subject.kind))
                if !reason.isEmpty { metadata.append("reason", .string(Self.withoutSubject(reason, subject))) }
                try await AdminRecord(store: store).record(
                    "subject_key_destroyed", tenant: tenant, by: who,
                    summary: "\(who.id) destroyed the key of a data subject (\(subject.kind)): the values sealed under it are unreadable, in backups too.",
                    metadata: metadata)
                _ = try await store.destroySubjectKey(tenant: tenant, subject: DataSubject(subject))
                report.keyDestroyed = true
                report.sealedEvents = Int64(sealedUnderKey.count)
                // In batches: each is one short write transaction (ingest goes on between them).
                for start in stride(from: 0, to: sealedUnderKey.count, by: batchSize) {
                    let batch = Array(sealedUnderKey[start..<min(start + batchSize, sealedUnderKey.count)])
                    _ = try await store.forgetSealedWords(tenant: tenant, sequences: batch)
                }
            }
        }
        if let note = try await store.compactAfterErasure() { notes.append(note) }
        report.note = notes.isEmpty ? nil : notes.joined(separator: " ")
        return report
    }

    /// Whether `event` holds a value sealed under key `keyID`.
    static func seals(_ event: ErasableEvent, under keyID: String) -> Bool {
        if event.summary.contains(keyID) || event.resourceName?.contains(keyID) == true { return true }
        return [event.actor, event.context, event.metadata, event.error, event.stateAfter, event.changes].contains {
            $0?.sealedKeyIDs.contains(keyID) == true
        }
    }

    /// `text` (a reason) with the value erased from it: the record of an erasure never holds what it erased.
    static func withoutSubject(_ text: String, _ subject: ErasureSubject) -> String {
        guard case .value(let value) = subject else { return text }
        return Erasure.erase(value, in: text) ?? text
    }

    /// The event with the subject forgotten; nil when it holds nothing of the subject.
    static func apply(_ subject: ErasureSubject, to event: ErasableEvent) -> ErasableEvent? {
        var erased = event
        switch subject {
        case .actor(let id):
            guard event.actorId == id else { return nil }
            erased.actorId = Erasure.replacement
            erased.actor = JSONObject([.init(key: "id", value: .string(Erasure.replacement))])
            if var context = event.context {
                for key in ["ip", "user_agent"] {
                    if let index = context.index(of: key) { context.setValue(.string(Erasure.replacement), at: index) }
                }
                erased.context = context
            }
            return erased
        case .value(let value):
            func erase(_ object: JSONObject?) -> JSONObject? { object.map { Erasure.erase(value, in: $0) ?? $0 } }
            func erase(_ text: String?) -> String? { text.map { Erasure.erase(value, in: $0) ?? $0 } }
            erased.actor = erase(event.actor)
            erased.actorId = erase(event.actorId)
            erased.resourceName = erase(event.resourceName)
            erased.changes = erase(event.changes) ?? JSONObject()
            erased.summary = erase(event.summary) ?? ""
            erased.context = erase(event.context)
            erased.metadata = erase(event.metadata)
            erased.error = erase(event.error)
            erased.stateAfter = erase(event.stateAfter)
            return erased == event ? nil : erased
        }
    }
}

extension Erasures.Report {
    /// `{"id", "tenant", "subject", "erased_at", "events", "held", "resources", "messages", "resource_ids", "note"}`.
    public var json: JSONValue {
        var object = JSONObject()
        object.append("id", .string(id))
        object.append("tenant", .string(tenant))
        object.append("subject", .string(subject))
        object.append("erased_at", .string(erasedAt.formatted()))
        object.append("events", .number(JSONNumber(Int(events))))
        object.append("held", .number(JSONNumber(Int(held))))
        object.append("resources", .number(JSONNumber(Int(resources))))
        object.append("messages", .number(JSONNumber(Int(messages))))
        object.append("resource_ids", .number(JSONNumber(Int(resourceIds))))
        object.append("sealed_events", .number(JSONNumber(Int(sealedEvents))))
        object.append("key_destroyed", .bool(keyDestroyed))
        object.append("note", note.map(JSONValue.string) ?? .null)
        return .object(object)
    }
}
