#!/usr/bin/env python3
"""Writes Trail's OpenAPI 3.1 document (SPEC §13): openapi/trail.json, the same text embedded in the binary
(Sources/TrailServer/OpenAPI/OpenAPIDocument.swift), which GET /openapi.json serves, and the human-readable
reference rendered from it (Sources/TrailServer/OpenAPI/APIReferencePage.swift), which GET /docs serves: one
static HTML page, no script, no CDN.

The document is generated so that its schemas and error answers stay uniform; edit this file, run it, commit
both outputs. A test checks that the router's routes and the document's operations are the same set, and that
the served document is openapi/trail.json.
"""
import base64
import hashlib
import html
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "Tests" / "TrailServerTests" / "Conformance"


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256, lower-case hex"}
COUNT = {"type": "integer", "minimum": 0}
OPEN_OBJECT = {"type": "object", "additionalProperties": True}

schemas = {
    "Problem": {
        "type": "object",
        "description": "An error (RFC 9457 problem details, SPEC §6), with Trail's list of field errors.",
        "required": ["type", "title", "status", "detail", "errors"],
        "properties": {
            "type": {"type": "string", "description": "urn:trail:problem:<slug>", "pattern": "^urn:trail:problem:[a-z0-9-]+$"},
            "title": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
            "errors": {"type": "array", "items": ref("FieldError")},
        },
    },
    "FieldError": {
        "type": "object",
        "required": ["index", "path", "message"],
        "properties": {
            "index": nullable({"type": "integer", "minimum": 0}),
            "path": {"type": "string", "description": "where in the item (or the parameter or header named)"},
            "message": STRING,
        },
    },
    "Actor": {
        "type": "object", "required": ["id"], "additionalProperties": True,
        "properties": {"id": STRING, "name": STRING, "email": STRING},
    },
    "StoredEvent": {
        "type": "object",
        "description": "An event as every read returns it (SPEC §4). An event whose content retention removed (SPEC §11) "
                       "has removed: true and removed_at, its content empty (actor, context, metadata, error null, "
                       "changes {}, summary \"\"), and keeps its hash; one an erasure rewrote has erased: true and "
                       "erased_at, and keeps its hash too.",
        "required": ["id", "sequence", "tenant", "occurred_at", "recorded_at", "action", "category", "outcome", "actor",
                     "resource", "version", "changes", "summary", "context", "metadata", "duration_ms", "error",
                     "prev_hash", "hash"],
        "properties": {
            "id": STRING,
            "sequence": {"type": "integer", "minimum": 1, "description": "the event's place in its tenant's log, gapless"},
            "tenant": STRING,
            "occurred_at": TIME,
            "recorded_at": TIME,
            "action": STRING,
            "category": nullable(STRING),
            "outcome": {"type": "string", "enum": ["success", "failure", "partial"]},
            "actor": nullable(ref("Actor")),
            "resource": nullable({
                "type": "object", "required": ["type", "id", "name"],
                "properties": {"type": nullable(STRING), "id": nullable(STRING), "name": nullable(STRING)},
            }),
            "version": nullable({"type": "integer", "minimum": 1}),
            "changes": {"type": "object", "description": "field path → [old, new]", "additionalProperties": True},
            "summary": STRING,
            "context": nullable(OPEN_OBJECT),
            "metadata": nullable(OPEN_OBJECT),
            "duration_ms": nullable({"type": "integer"}),
            "error": nullable(OPEN_OBJECT),
            "removed": {"const": True, "description": "only on an event whose content retention removed"},
            "removed_at": {**TIME, "description": "when retention removed the event's content"},
            "erased": {"const": True, "description": "only on an event an erasure rewrote (values replaced by [erased])"},
            "erased_at": {**TIME, "description": "when an erasure last rewrote the event"},
            "prev_hash": HASH,
            "hash": HASH,
        },
    },
    "EventPage": {
        "type": "object", "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": ref("StoredEvent")},
            "next_cursor": nullable({"type": "string", "description": "pass as cursor for the next page; null on the last"}),
        },
    },
    "EventList": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "array", "items": ref("StoredEvent")}},
    },
    "ActivityRecord": {
        "type": "object",
        "description": "The record the activity-stream endpoints answer with, one per event (SPEC §2.8).",
        "required": ["id", "actor", "verb", "object", "description", "version", "sequence", "created_at", "updated_at"],
        "properties": {
            "id": STRING,
            "actor": nullable(ref("Actor")),
            "verb": STRING,
            "object": {
                "type": "object", "required": ["id", "type", "fields"],
                "properties": {"id": nullable(STRING), "type": nullable(STRING),
                               "fields": {"type": "object", "additionalProperties": True}},
            },
            "description": STRING,
            "version": nullable({"type": "integer", "minimum": 1}),
            "sequence": {"type": "integer", "minimum": 1},
            "created_at": TIME,
            "updated_at": TIME,
        },
    },
    "ActivityStreamResult": {
        "type": "object", "required": ["status", "data", "metadata"],
        "properties": {
            "status": {"const": "success"},
            "data": {"type": "array", "items": ref("ActivityRecord")},
            "metadata": {"type": "object", "required": ["processed_count", "timestamp"],
                         "properties": {"processed_count": COUNT, "timestamp": TIME}},
        },
    },
    "Accepted": {
        "type": "object", "description": "An async submission, queued (SPEC §9): poll Location.",
        "required": ["message_id", "status"],
        "properties": {"message_id": STRING, "status": {"type": "string", "enum": ["pending", "processing", "completed", "failed"]}},
    },
    "Message": {
        "type": "object", "required": ["message_id", "status", "kind", "attempts", "error", "created_at", "updated_at", "processed_count"],
        "properties": {
            "message_id": STRING,
            "status": {"type": "string", "enum": ["pending", "processing", "completed", "failed"]},
            "kind": {"type": "string", "enum": ["activity-stream", "audit-event", "audit-event-batch"]},
            "attempts": COUNT,
            "error": nullable(STRING),
            "created_at": TIME,
            "updated_at": TIME,
            "processed_count": COUNT,
            "records": {"type": "array", "description": "a completed message's events, as the synchronous endpoint answers them",
                        "items": {"anyOf": [ref("ActivityRecord"), ref("StoredEvent")]}},
        },
    },
    "MessageList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref("Message")}}},
    "ResourceState": {
        "type": "object", "required": ["type", "id", "version", "deleted", "state", "event_id", "as_of"],
        "properties": {
            "type": STRING, "id": STRING, "version": {"type": "integer", "minimum": 1}, "deleted": {"type": "boolean"},
            "removed": {"const": True, "description": "retention removed the event of this version, and the state it left (state is null)"},
            "state": nullable(OPEN_OBJECT), "event_id": STRING, "as_of": TIME,
        },
    },
    "Summary": {
        "type": "object", "required": ["days", "total", "by_action", "by_resource_type", "by_actor", "by_day", "by_outcome", "duration_ms_by_action"],
        "properties": {
            "days": {"type": "integer", "minimum": 1},
            "total": COUNT,
            **{key: {"type": "object", "additionalProperties": COUNT} for key in ["by_action", "by_resource_type", "by_actor", "by_day", "by_outcome"]},
            "duration_ms_by_action": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["min", "avg", "max"],
                "properties": {"min": {"type": "integer"}, "avg": {"type": "number"}, "max": {"type": "integer"}}}},
        },
    },
    "CompatibleLog": {
        "type": "object", "description": "An event in the form of the Django audit service this one replaces.",
        "required": ["id", "timestamp", "user_display", "action", "model_name", "object_id", "object_repr", "changes", "ip_address"],
        "properties": {
            "id": STRING, "timestamp": TIME,
            "user_display": {"type": "object", "required": ["id", "username", "email"],
                             "properties": {"id": {}, "username": {}, "email": {}}},
            "action": STRING, "model_name": nullable(STRING), "object_id": nullable(STRING), "object_repr": nullable(STRING),
            "changes": {"type": "object", "additionalProperties": {"type": "object", "required": ["old", "new"], "properties": {"old": {}, "new": {}}}},
            "ip_address": {},
        },
    },
    "APIKey": {
        "type": "object", "required": ["id", "tenant", "name", "role", "created_at", "revoked_at"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"}, "tenant": STRING, "name": STRING,
            "role": {"type": "string", "enum": ["writer", "reader", "auditor", "admin"]},
            "created_at": TIME, "revoked_at": nullable(TIME),
            "key": {"type": "string", "description": "the key itself: only in the answer that created it"},
        },
    },
    "APIKeyList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref("APIKey")}}},
    "NewAPIKey": {
        "type": "object", "required": ["role"], "additionalProperties": False,
        "properties": {"role": {"type": "string", "enum": ["writer", "reader", "auditor", "admin"]},
                       "name": nullable({"type": "string", "maxLength": 200})},
    },
    "PublicKey": {
        "type": "object", "required": ["algorithm", "key_id", "public_key", "public_key_pem"],
        "properties": {"algorithm": {"const": "Ed25519"}, "key_id": STRING, "public_key": {"type": "string", "contentEncoding": "base64"},
                       "public_key_pem": STRING},
    },
    "Checkpoint": {
        "type": "object", "description": "A signed Merkle root of a tenant's log (SPEC §8).",
        "required": ["tenant", "size", "root", "time", "key_id", "signature"],
        "properties": {"tenant": STRING, "size": {"type": "integer", "minimum": 1}, "root": HASH, "time": TIME,
                       "key_id": STRING, "signature": {"type": "string", "contentEncoding": "base64"}},
    },
    "InclusionProof": {
        "type": "object", "required": ["event_id", "sequence", "leaf_index", "tree_size", "hash", "leaf_hash", "root", "proof", "checkpoint"],
        "properties": {
            "event_id": STRING, "sequence": {"type": "integer", "minimum": 1}, "leaf_index": COUNT,
            "tree_size": {"type": "integer", "minimum": 1}, "hash": HASH, "leaf_hash": HASH, "root": HASH,
            "proof": {"type": "array", "items": HASH}, "checkpoint": nullable(ref("Checkpoint")),
        },
    },
    "ConsistencyProof": {
        "type": "object", "required": ["from", "to", "from_root", "to_root", "proof", "from_checkpoint", "to_checkpoint"],
        "properties": {
            "from": {"type": "integer", "minimum": 1}, "to": {"type": "integer", "minimum": 1}, "from_root": HASH, "to_root": HASH,
            "proof": {"type": "array", "items": HASH},
            "from_checkpoint": nullable(ref("Checkpoint")), "to_checkpoint": nullable(ref("Checkpoint")),
        },
    },
    "RetentionRule": {
        "type": "object", "required": ["resource_type", "keep_days"], "additionalProperties": False,
        "properties": {
            "resource_type": {"type": "string", "minLength": 1, "maxLength": 200, "description": "a resource type, or * for any"},
            "category": nullable({"type": "string", "minLength": 1, "maxLength": 200}),
            "keep_days": {"type": "number", "exclusiveMinimum": 0, "maximum": 36525,
                          "description": "days after recorded_at; fractions allowed; at most 100 years"},
        },
    },
    "RetentionRules": {
        "type": "object", "required": ["rules"], "additionalProperties": False,
        "description": "A tenant's retention rules: the most specific rule matching an event decides (type and category, type, "
                       "* and category, *); an event no rule matches is kept forever.",
        "properties": {"rules": {"type": "array", "maxItems": 100, "items": ref("RetentionRule")}},
    },
    "PersonalKeys": {
        "type": "object", "required": ["keys"], "additionalProperties": False,
        "description": "Keys the tenant marks personal: string values under them, at any depth, are stored sealed under "
                       "the value's own key (crypto-shredding; an erasure of the value destroys it).",
        "properties": {"keys": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 100}}},
    },
    "PersonalKeysAnswer": {
        "type": "object", "required": ["keys", "installation_keys"],
        "properties": {
            "keys": {"type": "array", "items": STRING, "description": "the tenant's, lower-cased"},
            "installation_keys": {"type": "array", "items": STRING, "description": "personal in every tenant (--personal-keys)"},
        },
    },
    "RetentionRun": {
        "type": "object", "additionalProperties": False,
        "properties": {"dry_run": {"type": "boolean", "description": "count what would go; change nothing (default false)"}},
    },
    "RetentionReport": {
        "type": "object", "required": ["tenant", "dry_run", "ran_at", "removed", "held", "rules"],
        "properties": {
            "tenant": STRING, "dry_run": {"type": "boolean"}, "ran_at": TIME,
            "removed": {**COUNT, "description": "events removed (or, in a dry run, that would be)"},
            "held": {**COUNT, "description": "events the rules let go that a legal hold keeps"},
            "rules": {"type": "array", "items": {
                "type": "object", "required": ["resource_type", "category", "keep_days", "removed", "held"],
                "properties": {"resource_type": STRING, "category": nullable(STRING), "keep_days": {"type": "number"},
                               "removed": COUNT, "held": COUNT}}},
        },
    },
    "HoldMatch": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "description": "Events matching every condition given are held; times are occurred_at, inclusive.",
        "properties": {
            "resource_type": nullable({"type": "string", "minLength": 1, "maxLength": 200}),
            "resource_id": nullable({"type": "string", "minLength": 1, "maxLength": 200}),
            "actor": nullable({"type": "string", "minLength": 1, "maxLength": 200, "description": "the actor's id"}),
            "since": nullable(TIME), "until": nullable(TIME),
        },
    },
    "NewLegalHold": {
        "type": "object", "required": ["name", "match"], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 1000},
            "reason": nullable({"type": "string", "maxLength": 1000}),
            "match": ref("HoldMatch"),
        },
    },
    "LegalHold": {
        "type": "object",
        "required": ["id", "name", "reason", "match", "active", "created_at", "created_by", "released_at", "released_by"],
        "properties": {
            "id": STRING, "name": STRING, "reason": STRING, "match": ref("HoldMatch"), "active": {"type": "boolean"},
            "created_at": TIME, "created_by": STRING, "released_at": nullable(TIME), "released_by": nullable(STRING),
        },
    },
    "NewErasure": {
        "type": "object", "additionalProperties": False,
        "description": "One subject: actor (the events the actor made lose who made them) or value (every occurrence, any case).",
        "properties": {
            "actor": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "an actor's id"},
            "value": {"type": "string", "minLength": 3, "maxLength": 1000, "description": "an identifying value such as an e-mail"},
            "reason": {"type": "string", "maxLength": 1000},
        },
        "oneOf": [{"required": ["actor"], "not": {"required": ["value"]}}, {"required": ["value"], "not": {"required": ["actor"]}}],
    },
    "ErasureReport": {
        "type": "object",
        "required": ["id", "tenant", "subject", "erased_at", "events", "held", "resources", "messages", "resource_ids",
                     "sealed_events", "key_destroyed", "note"],
        "properties": {
            "id": STRING, "tenant": STRING, "subject": {"type": "string", "enum": ["actor", "value"]}, "erased_at": TIME,
            "events": {**COUNT, "description": "events rewritten"},
            "held": {**COUNT, "description": "events holding the subject that a legal hold keeps"},
            "resources": {**COUNT, "description": "resources whose current state was rewritten"},
            "messages": {**COUNT, "description": "queue messages rewritten or emptied"},
            "resource_ids": {**COUNT, "description": "events whose resource id holds the value (ids are kept)"},
            "sealed_events": {**COUNT, "description": "events holding values sealed under the subject's key, unreadable once it is destroyed"},
            "key_destroyed": {"type": "boolean", "description": "the subject's key was destroyed (crypto-shredding): its sealed values are unreadable, in backups too"},
            "note": nullable({"type": "string", "description": "what could not be done at once"}),
        },
    },
    "StreamMatch": {
        "type": "object", "additionalProperties": False,
        "description": "The list's filters: events matching every one given (AUDIT_ACCESS records only if named or include_access).",
        "properties": {
            "actor": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "the actor's id"},
            "action": {"type": "string", "minLength": 1, "maxLength": 1000},
            "resource_type": {"type": "string", "minLength": 1, "maxLength": 1000},
            "resource_id": {"type": "string", "minLength": 1, "maxLength": 1000},
            "category": {"type": "string", "minLength": 1, "maxLength": 1000},
            "outcome": {"type": "string", "enum": ["success", "failure", "partial"]},
            "q": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "full-text search"},
            "include_access": {"type": "boolean"},
        },
    },
    "NewSink": {
        "type": "object",
        "description": "A webhook (JSON array bodies, signed X-Trail-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">) "
                       "or a syslog collector (RFC 5424 over TCP with octet counting, or UDP). Loopback and private addresses "
                       "are refused unless trail serve runs with --allow-private-sinks.",
        "oneOf": [
            {"type": "object", "required": ["type", "url", "secret"], "additionalProperties": False, "properties": {
                "type": {"const": "webhook"}, "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "url": {"type": "string", "pattern": "^https?://", "maxLength": 2048},
                "secret": {"type": "string", "minLength": 16, "maxLength": 1024, "description": "signs each delivery; never shown again"},
                "format": {"type": "string", "enum": ["trail", "ocsf"], "description": "trail (§4 events, default) or OCSF API Activity"},
                "headers": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4096},
                            "description": "extra request headers (an Authorization for a collector); kept secret like the secret"},
                "match": ref("StreamMatch"),
                "after": {"type": "integer", "minimum": 0, "description": "deliver from after this sequence (0: everything); default: from now"}}},
            {"type": "object", "required": ["type", "address"], "additionalProperties": False, "properties": {
                "type": {"const": "syslog"}, "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "address": {"type": "string", "pattern": "^(tcp|udp)://", "maxLength": 2048, "description": "tcp://host:port or udp://host:port"},
                "format": {"type": "string", "enum": ["rfc5424", "cef", "ocsf"], "description": "rfc5424 (default), cef or ocsf"},
                "match": ref("StreamMatch"),
                "after": {"type": "integer", "minimum": 0}}},
        ],
    },
    "Sink": {
        "type": "object",
        "required": ["id", "name", "type", "format", "match", "cursor", "delivered", "last_success_at", "last_error",
                     "last_error_at", "failures", "retry_at", "created_at", "created_by"],
        "properties": {
            "id": STRING, "name": STRING, "type": {"type": "string", "enum": ["webhook", "syslog"]},
            "url": STRING, "address": STRING, "headers": {"type": "array", "items": STRING, "description": "the extra headers' names"},
            "format": {"type": "string", "enum": ["trail", "rfc5424", "cef", "ocsf"]}, "match": ref("StreamMatch"),
            "cursor": {**COUNT, "description": "the last sequence of the tenant's log dealt with"},
            "lag": {**COUNT, "description": "sequences of the log not dealt with yet"},
            "delivered": {**COUNT, "description": "events delivered in all"},
            "last_success_at": nullable(TIME), "last_error": nullable(STRING), "last_error_at": nullable(TIME),
            "failures": {**COUNT, "description": "failed attempts in a row"}, "retry_at": nullable(TIME),
            "created_at": TIME, "created_by": STRING,
        },
    },
    "NewAlertRule": {
        "type": "object", "required": ["name", "threshold", "window_seconds"], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "match": ref("StreamMatch"),
            "group_by": {**nullable({"type": "string", "enum": ["actor", "resource_type"]}), "description": "count per actor or resource type; null: all together"},
            "threshold": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "window_seconds": {"type": "integer", "minimum": 1, "maximum": 604800},
            "sink": {**nullable({"type": "string", "minLength": 1, "maxLength": 100}), "description": "a sink of the tenant fired alerts are sent to"},
        },
    },
    "AlertRule": {
        "type": "object",
        "required": ["id", "name", "match", "group_by", "threshold", "window_seconds", "sink", "cursor", "counted", "created_at", "created_by"],
        "properties": {
            "id": STRING, "name": STRING, "match": ref("StreamMatch"), "group_by": nullable({"type": "string", "enum": ["actor", "resource_type"]}),
            "threshold": COUNT, "window_seconds": COUNT, "sink": nullable(STRING),
            "cursor": {**COUNT, "description": "the last sequence of the tenant's log counted"},
            "counted": {**COUNT, "description": "matching events counted in all"},
            "last_success_at": nullable(TIME), "last_error": nullable(STRING), "last_error_at": nullable(TIME),
            "failures": COUNT, "retry_at": nullable(TIME), "created_at": TIME, "created_by": STRING,
        },
    },
    "AlertRuleList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref("AlertRule")}}},
    "Alert": {
        "type": "object",
        "required": ["id", "rule_id", "rule_name", "group", "count", "threshold", "window_seconds", "first_at", "last_at",
                     "first_sequence", "last_sequence", "fired_at", "event_sequence", "sink", "delivered_at"],
        "properties": {
            "id": STRING, "rule_id": STRING, "rule_name": STRING, "group": nullable(STRING), "count": COUNT, "threshold": COUNT,
            "window_seconds": COUNT, "first_at": TIME, "last_at": TIME, "first_sequence": COUNT, "last_sequence": COUNT,
            "fired_at": TIME, "event_sequence": {**nullable(COUNT), "description": "the SECURITY event that records it"},
            "sink": nullable(STRING), "delivered_at": nullable(TIME),
        },
    },
    "AlertList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref("Alert")}}},
    "SinkList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref("Sink")}}},
    "LegalHoldList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref("LegalHold")}}},
    "Verification": {
        "type": "object",
        "required": ["status", "valid", "tenant", "events", "removed_events", "erased_events", "anchored_through", "unanchored_events", "anchor",
                     "anchor_by_consistency_proof", "last_hash", "root", "checkpoints_verified", "latest_checkpoint_verified", "failure"],
        "properties": {
            "status": {"type": "string", "enum": ["anchored", "unanchored", "failed"]}, "valid": {"type": "boolean"},
            "tenant": nullable(STRING), "events": COUNT,
            "removed_events": {**COUNT, "description": "events whose content retention removed (their hashes taken as stored)"},
            "erased_events": {**COUNT, "description": "events an erasure rewrote (their hashes taken as stored)"},
            "anchored_through": COUNT, "unanchored_events": COUNT,
            "anchor": nullable(ref("Checkpoint")), "anchor_by_consistency_proof": {"type": "boolean"},
            "last_hash": HASH, "root": HASH, "checkpoints_verified": COUNT,
            "latest_checkpoint_verified": nullable(ref("Checkpoint")),
            "failure": nullable({"type": "object", "required": ["sequence", "reason"],
                                 "properties": {"sequence": nullable({"type": "integer"}), "reason": STRING}}),
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
    "Readiness": {
        "type": "object", "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not_ready"]},
            "checks": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["status", "detail"],
                "properties": {"status": {"type": "string", "enum": ["pass", "fail"]}, "detail": STRING}}},
        },
    },
}

# Request bodies (SPEC §2, §3).
ACTOR_IN = {"anyOf": [ref("Actor"), {"type": "string", "minLength": 1}, {"type": "integer"}]}
ID_IN = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255}, {"type": "integer"}]}
TYPE_IN = {"type": "string", "minLength": 1, "maxLength": 100}
COMMON = {
    "verb": {"type": "string", "minLength": 1, "description": "created, updated, deleted (and their synonyms) or a custom action"},
    "actor": ACTOR_IN, "actor_id": ID_IN, "occurred_at": TIME, "timestamp": TIME,
    "context": OPEN_OBJECT, "metadata": OPEN_OBJECT, "update_mode": {"type": "string", "enum": ["merge", "replace"]},
}
IS_WRAPPER = {"type": "object", "required": ["type", "payload"], "properties": {"type": {"const": "audit_logs"}}}
HAS_OBJECT = {"type": "object", "required": ["object"], "properties": {"object": {"type": "object"}}}
HAS_RESOURCE = {"type": "object", "required": ["resource"], "properties": {"resource": {"type": "object"}}}
schemas.update({
    "ObjectStylePayload": {
        "type": "object", "description": "Object style: `object` holds the resource's type, id and data (SPEC §2.1).",
        "required": ["verb", "object"], "additionalProperties": True,
        "properties": {**COMMON, "object_type": TYPE_IN,
                       "object": {"type": "object", "required": ["id"], "additionalProperties": True, "properties": {"id": ID_IN, "type": TYPE_IN}}},
        "not": IS_WRAPPER,
    },
    "ResourceStylePayload": {
        "type": "object", "description": "Resource style: `resource` holds type and id, its data in `data` (SPEC §2.1).",
        "required": ["verb", "resource"], "additionalProperties": True,
        "properties": {**COMMON, "resource": {"type": "object", "required": ["type", "id"], "additionalProperties": True,
                                              "properties": {"type": TYPE_IN, "id": ID_IN, "data": OPEN_OBJECT}}},
        "not": {"anyOf": [IS_WRAPPER, HAS_OBJECT]},
    },
    "FlatPayload": {
        "type": "object", "description": "Flat: type and id at the top level, every other key is data (SPEC §2.1).",
        "required": ["verb"], "additionalProperties": True,
        "properties": {**COMMON, "type": TYPE_IN, "resource_type": TYPE_IN, "object_type": TYPE_IN, "id": ID_IN, "resource_id": ID_IN},
        "not": {"anyOf": [IS_WRAPPER, HAS_OBJECT, HAS_RESOURCE]},
    },
    "ActivityPayload": {"oneOf": [ref("ObjectStylePayload"), ref("ResourceStylePayload"), ref("FlatPayload")]},
    "WrappedPayloads": {
        "type": "object", "description": "A wrapper: its `id` is the submission's idempotency key (SPEC §2.7).",
        "required": ["type", "payload"],
        "properties": {"type": {"const": "audit_logs"}, "id": {"type": "string", "minLength": 1, "maxLength": 255},
                       "payload": {"anyOf": [ref("ActivityPayload"), {"type": "array", "items": ref("ActivityPayload"), "description": "a batch, stored all or none (an empty one stores nothing: 201)"}]}},
    },
    "ActivitySubmission": {
        "description": "One payload, a batch (an array, stored atomically), or a wrapper.",
        "oneOf": [ref("WrappedPayloads"), ref("ActivityPayload"), {"type": "array", "items": ref("ActivityPayload"), "description": "a batch, stored all or none (an empty one stores nothing: 201)"}],
    },
    "AuditEvent": {
        "type": "object", "description": "A generic audit event; the aliases other audit systems use are accepted (SPEC §3).",
        "additionalProperties": True,
        "properties": {
            "action": STRING, "event_type": STRING, "action_type": STRING, "verb": STRING,
            "category": STRING, "action_category": STRING,
            "actor": ACTOR_IN, "user_id": ID_IN, "user": ID_IN, "username": STRING, "user_email": STRING,
            "resource": {"type": "object", "properties": {"type": nullable(TYPE_IN), "id": ID_IN, "name": STRING}},
            "entity_type": TYPE_IN, "model_name": TYPE_IN, "resource_type": TYPE_IN,
            "entity_id": ID_IN, "object_id": ID_IN, "resource_id": ID_IN, "entity_name": STRING, "object_repr": STRING,
            "outcome": {"type": "string", "description": "success, failure or partial, in any case"}, "status": STRING,
            "occurred_at": TIME, "timestamp": TIME, "duration_ms": {"type": "integer"},
            "error": OPEN_OBJECT, "error_message": STRING, "error_traceback": STRING,
            "context": OPEN_OBJECT, "ip_address": STRING, "user_agent": STRING, "request_id": STRING,
            "changes": OPEN_OBJECT, "field_name": STRING, "old_value": {}, "new_value": {},
            "summary": STRING, "description": STRING, "action_description": STRING,
            "metadata": OPEN_OBJECT, "extra_data": OPEN_OBJECT,
        },
        "anyOf": [{"required": ["action"]}, {"required": ["event_type"]}, {"required": ["action_type"]}, {"required": ["verb"]}],
    },
    "AuditEventBatch": {"type": "object", "required": ["logs"], "properties": {"logs": {"type": "array", "items": ref("AuditEvent"), "description": "stored all or none (an empty list stores nothing: 201)"}}},
})


def problem(description):
    return {"description": description, "content": {"application/problem+json": {"schema": ref("Problem")}}}


ERROR_RESPONSES = {
    "400": problem("Bad request: malformed JSON, an unknown or repeated query parameter, a bad parameter value or header"),
    "401": problem("No credential, or an unknown, revoked or invalid one"),
    "403": problem("The credential's role does not allow this"),
    "404": problem("Not found"),
    "409": problem("Conflict: the idempotency key was used with another body"),
    "413": problem("The body is larger than --max-body-bytes"),
    "415": problem("The body is not JSON (Content-Type)"),
    "422": problem("The body is JSON but not a valid submission: every field error is listed"),
    "429": problem("Too many requests for this credential, or too many failed authentications from this address (Retry-After)"),
    "503": problem("The store is unavailable, Trail is starting, the queue is full, or the server holds as many request bodies as it may (Retry-After)"),
}
# Each error answer once, in components.responses; operations refer to them.
ERRORS = {status: {"$ref": f"#/components/responses/Problem{status}"} for status in ERROR_RESPONSES}
AUTHED = ["400", "401", "403", "429", "503"]


def json_response(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(op_id, tag, summary, responses, errors=(), parameters=(), body=None, public=False, description=None):
    result = {"operationId": op_id, "tags": [tag], "summary": summary}
    if description:
        result["description"] = description
    if parameters:
        result["parameters"] = list(parameters)
    if body:
        result["requestBody"] = body
    result["responses"] = dict(responses)
    for status in sorted(set(errors) | (set() if public else set(AUTHED))):
        result["responses"][status] = ERRORS[status]
    if public:
        result["security"] = []
    return result


def query(name, schema, description):
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path(name, description, schema=None):
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string", "minLength": 1}, "description": description}


FILTERS = [
    query("actor", STRING, "the actor's id"),
    query("action", STRING, "an action (verbs are normalised: update → updated)"),
    query("resource_type", STRING, "a resource type"),
    query("resource_id", STRING, "a resource id"),
    query("category", STRING, "a category (generic audit events)"),
    query("outcome", {"type": "string", "enum": ["success", "failure", "partial"]}, "an outcome"),
    query("since", TIME, "recorded at or after (RFC 3339)"),
    query("until", TIME, "recorded before (RFC 3339)"),
    query("days", {"type": "integer", "minimum": 1, "maximum": 36500}, "only the last N days"),
    query("q", {"type": "string", "minLength": 1, "maxLength": 1000}, "full-text search: every word must match"),
    query("include_access", {"type": "boolean"}, "include Trail's own meta-audit events (reads, key changes)"),
]
PAGES = [
    query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "events per page"),
    query("cursor", STRING, "next_cursor of the previous page, as given"),
]
ASYNC = query("async", {"type": "boolean"}, "true: validate now, queue, answer 202 (as Prefer: respond-async)")
PREFER = {"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string"}, "description": "respond-async: validate now, queue, answer 202"}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 255},
               "description": "a repeat with the same key and body answers the first result without storing anything"}
ACCEPTED = {"description": "Queued: poll the message at Location", "headers": {"Location": {"schema": STRING, "description": "/api/v1/messages/{id}"}},
            "content": {"application/json": {"schema": ref("Accepted")}}}
INGEST_ERRORS = ["409", "413", "415", "422"]


def body(schema_name, examples=None):
    media = {"schema": ref(schema_name)}
    if examples:
        media["examples"] = {name: {"$ref": f"#/components/examples/{name}"} for name in examples}
    return {"required": True, "content": {"application/json": media}}


# Examples: the first request of each ingest conformance fixture (Tests/TrailServerTests/Conformance/ingest).
ingest_examples = {}
for file in sorted((CONFORMANCE / "ingest").glob("*.json")):
    for step in json.loads(file.read_text()).get("steps", []):
        request = step.get("request") or {}
        if request.get("method") == "POST" and "activity-stream" in request.get("path", "") \
                and isinstance(request.get("body"), (dict, list)) and step.get("expect", {}).get("status") == 201:
            ingest_examples[file.stem] = request["body"]
            break


LOGIN = {"event_type": "user_login", "user_id": "u1", "ip_address": "10.0.0.1", "status": "SUCCESS"}
READER = {"role": "reader", "name": "dashboards"}


def activity_operation(op_id, summary, created):
    return operation(op_id, "Ingest", summary, {"201": created, "202": ACCEPTED}, INGEST_ERRORS,
                     [ASYNC, PREFER, IDEMPOTENCY], body("ActivitySubmission", ingest_examples))


paths = {
    "/health": {"get": operation("getHealth", "Operations", "Liveness: 200 while the process runs",
                                 {"200": json_response("Running", ref("Health"))}, public=True)},
    "/ready": {"get": operation("getReady", "Operations", "Readiness: 200 while the store answers, is migrated and its writer moves",
                                {"200": json_response("Ready", ref("Readiness")), "503": json_response("Not ready: the failing check is named", ref("Readiness"))},
                                public=True)},
    "/metrics": {"get": operation("getMetrics", "Operations", "Prometheus metrics (SPEC §10)",
                                  {"200": {"description": "Prometheus text format", "content": {"text/plain; version=0.0.4; charset=utf-8": {"schema": STRING}}}},
                                  public=True)},
    "/openapi.json": {"get": operation("getOpenAPI", "Operations", "This document",
                                       {"200": json_response("OpenAPI 3.1", {"type": "object"})}, public=True)},
    "/docs": {"get": operation("getAPIReference", "Operations", "This document as a page to read (HTML, no script)",
                               {"200": {"description": "The API reference", "content": {"text/html; charset=utf-8": {"schema": STRING}}}},
                               public=True)},
    "/audit/activity-stream": {"post": activity_operation(
        "postActivityStreamCompatible", "Record activity-stream payloads (the original service's path; answers the records as an array)",
        json_response("Stored, all or none", {"type": "array", "items": ref("ActivityRecord")}))},
    "/api/v1/audit/activity-stream": {"post": activity_operation(
        "postActivityStream", "Record activity-stream payloads: one, a batch, or a wrapper (SPEC §2)",
        json_response("Stored, all or none", ref("ActivityStreamResult")))},
    "/api/v1/audit/logs": {
        "post": operation("postAuditEvent", "Ingest", "Record one generic audit event (SPEC §3)",
                          {"201": json_response("Stored", ref("StoredEvent")), "202": ACCEPTED}, INGEST_ERRORS,
                          [ASYNC, PREFER, IDEMPOTENCY], body("AuditEvent", {"login": LOGIN})),
        "get": operation("listAuditLogs", "Read", "Events, newest first, filtered, a page at a time (SPEC §5)",
                         {"200": json_response("A page", ref("EventPage"))}, parameters=FILTERS + PAGES),
    },
    "/api/v1/audit/logs/batch": {"post": operation(
        "postAuditEventBatch", "Ingest", "Record generic audit events, all or none",
        {"201": json_response("Stored", ref("EventList")), "202": ACCEPTED}, INGEST_ERRORS, [ASYNC, PREFER, IDEMPOTENCY],
        body("AuditEventBatch"))},
    "/api/v1/audit/logs/{id}": {"get": operation("getAuditLog", "Read", "One event", {"200": json_response("The event", ref("StoredEvent"))},
                                                 ["404"], [path("id", "the event's id")])},
    "/api/v1/audit/logs/summary": {"get": operation("getSummary", "Read", "Counts by action, resource type, actor, day and outcome",
                                                    {"200": json_response("The summary", ref("Summary"))}, parameters=FILTERS)},
    "/api/v1/audit/logs/export": {"get": operation(
        "exportAuditLogs", "Read", "Every matching event, oldest first, streamed",
        {"200": {"description": "The events", "content": {
            "application/json": {"schema": {"type": "array", "items": ref("StoredEvent")}},
            "application/x-ndjson": {"schema": STRING}, "text/csv; charset=utf-8": {"schema": STRING}}}},
        parameters=FILTERS + [query("format", {"type": "string", "enum": ["json", "ndjson", "csv"]},
                              "json (default), ndjson or csv. NDJSON is the log as stored, what `trail verify --export` checks: "
                              "personal values stay sealed there; JSON and CSV show them opened")])},
    "/api/v1/audit/stream": {"get": operation(
        "followAuditStream", "Streams", "The tenant's events as they are recorded (Server-Sent Events)",
        {"200": {"description": "An endless stream: each event is `id: <sequence>`, `event: audit`, `data: <the event's JSON>`; "
                 "a comment at least every 15 s; Trail ends a stream with `event: close` and a JSON `reason` "
                 "(shutdown, too_slow, unavailable) and `detail`. Reconnecting with `Last-Event-ID` resumes with no gap "
                 "and no duplicate", "content": {"text/event-stream": {"schema": STRING}}}},
        parameters=FILTERS + [
            query("after", {"type": "integer", "minimum": 0}, "begin after this sequence (0: from the first event); "
                  "without it, from now. The Last-Event-ID header wins over it"),
            {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string", "pattern": "^[0-9]+$"},
             "description": "the id of the last event received: resume right after it"}])},
    "/api/v1/actors/{id}/activity": {"get": operation(
        "listActorActivity", "Read", "One actor's events, newest first", {"200": json_response("A page", ref("EventPage"))},
        parameters=[path("id", "the actor's id")] + [f for f in FILTERS if f["name"] != "actor"] + PAGES)},
    "/api/v1/resources/{type}/{id}": {"get": operation(
        "getResourceState", "Read", "A resource's state: now, at a version, or at a time", {"200": json_response("The state", ref("ResourceState"))},
        ["404"], [path("type", "the resource's type"), path("id", "the resource's id"),
                  query("version", {"type": "integer", "minimum": 1}, "the state at this version"),
                  query("at", TIME, "the state at this time (not with version)")])},
    "/api/v1/resources/{type}/{id}/history": {"get": operation(
        "getResourceHistory", "Read", "Every version of a resource, oldest first, a page at a time",
        {"200": json_response("A page", ref("EventPage"))}, parameters=[path("type", "the resource's type"), path("id", "the resource's id")]
        + [query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "events per page (default 100)"), PAGES[1]])},
    "/api/v1/messages": {"get": operation(
        "listMessages", "Async", "Queued submissions, oldest first", {"200": json_response("Messages", ref("MessageList"))},
        parameters=[query("status", {"type": "string", "enum": ["pending", "processing", "completed", "failed"]}, "only these"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most (default 100)")])},
    "/api/v1/messages/{id}": {"get": operation("getMessage", "Async", "One queued submission, with its records once completed",
                                               {"200": json_response("The message", ref("Message"))}, ["404"], [path("id", "the message's id")])},
    "/api/audit/logs": {"get": operation(
        "listCompatibleLogs", "Compatibility", "Events in the original service's form",
        {"200": json_response("Events", {"type": "array", "items": ref("CompatibleLog")})},
        parameters=FILTERS + [query("model", STRING, "the resource type"), query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most (default 100)")])},
    "/api/audit/logs/my_activity": {"get": operation(
        "listMyActivity", "Compatibility", "The caller's events (a token's subject; an API key names the actor)",
        {"200": json_response("Events", {"type": "array", "items": ref("CompatibleLog")})},
        parameters=FILTERS + [query("model", STRING, "the resource type"), query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most (default 100)")])},
    "/api/audit/logs/summary": {"get": operation(
        "getCompatibleSummary", "Compatibility", "The summary (days defaults to 30)", {"200": json_response("The summary", ref("Summary"))},
        parameters=FILTERS + [query("model", STRING, "the resource type")])},
    "/api/v1/admin/keys": {
        "get": operation("listKeys", "Keys", "The tenant's API keys (never their text)", {"200": json_response("Keys", ref("APIKeyList"))}),
        "post": operation("createKey", "Keys", "Create an API key in the caller's tenant; its text is in this answer only",
                          {"201": json_response("The key, with its text", ref("APIKey"))}, ["413", "415", "422"],
                          body=body("NewAPIKey", {"reader": READER})),
    },
    "/api/v1/admin/keys/{id}": {"delete": operation("revokeKey", "Keys", "Revoke a key (it stays listed, with revoked_at)",
                                                    {"200": json_response("The revoked key", ref("APIKey"))}, ["404"], [path("id", "the key's id")])},
    "/api/v1/retention": {
        "get": operation("getRetention", "Lifecycle", "The tenant's retention rules (admin)", {"200": json_response("The rules", ref("RetentionRules"))}),
        "put": operation("setRetention", "Lifecycle", "Replace the tenant's retention rules (admin; recorded as an AUDIT_ADMIN event)",
                         {"200": json_response("The rules as stored", ref("RetentionRules"))}, ["413", "415", "422"],
                         body=body("RetentionRules")),
    },
    "/api/v1/retention/run": {"post": operation(
        "runRetention", "Lifecycle", "Run the tenant's retention rules now, or count what they would remove (admin)",
        {"200": json_response("What was (or would be) removed and what holds keep, per rule", ref("RetentionReport"))},
        ["413", "415", "422"], body={"required": False, "content": {"application/json": {"schema": ref("RetentionRun")}}},
        description="Removing an event empties it everywhere but keeps its sequence and hashes: chains, checkpoints and proofs "
                    "stay valid. Each batch is named by a retention_cleanup event (category AUDIT_ADMIN) before it goes.")},
    "/api/v1/legal-holds": {
        "get": operation("listLegalHolds", "Lifecycle", "The tenant's legal holds, released ones too (admin)",
                         {"200": json_response("Holds, oldest first", ref("LegalHoldList"))}),
        "post": operation("createLegalHold", "Lifecycle", "Place a legal hold: matching events are never removed or erased (admin)",
                          {"201": {**json_response("The hold", ref("LegalHold")),
                                   "headers": {"Location": {"schema": STRING, "description": "/api/v1/legal-holds/{id}"}}}},
                          ["413", "415", "422"], body=body("NewLegalHold")),
    },
    "/api/v1/personal-data": {
        "get": operation("getPersonalKeys", "Lifecycle", "The keys the tenant marks personal, and the installation's (admin)",
                         {"200": json_response("The keys", ref("PersonalKeysAnswer"))}),
        "put": operation("setPersonalKeys", "Lifecycle", "Replace the keys the tenant marks personal (admin; recorded as an AUDIT_ADMIN event)",
                         {"200": json_response("The keys as stored", ref("PersonalKeysAnswer"))}, ["413", "415", "422"],
                         body=body("PersonalKeys"),
                         description="Values appended from now on under these keys are sealed; events already stored keep their form."),
    },
    "/api/v1/erasures": {"post": operation(
        "createErasure", "Lifecycle", "Erase a data subject from the tenant (admin; GDPR art. 17)",
        {"200": json_response("What was erased", ref("ErasureReport"))}, ["413", "415", "422"], body=body("NewErasure"),
        description="The subject's key is destroyed (crypto-shredding): values sealed under it become unreadable, in "
                    "backups too, unless a held event needs it. Occurrences stored plain are replaced by [erased] in events, "
                    "current states, the search index and the queue; events a legal hold keeps are left. Events keep their "
                    "hashes; each batch is named by an erasure event (category AUDIT_ADMIN) that never holds the value.")},
    "/api/v1/legal-holds/{id}": {"delete": operation(
        "releaseLegalHold", "Lifecycle", "Release a legal hold (it stays listed, with released_at)",
        {"200": json_response("The released hold", ref("LegalHold"))}, ["404"], [path("id", "the hold's id")])},
    "/api/v1/sinks": {
        "get": operation("listSinks", "Streams", "The tenant's sinks, with their cursor, lag and last error (admin)",
                         {"200": json_response("Sinks, oldest first", ref("SinkList"))}),
        "post": operation("createSink", "Streams", "Forward the tenant's events to a webhook or a syslog collector (admin)",
                          {"201": {**json_response("The sink (never its secret)", ref("Sink")),
                                   "headers": {"Location": {"schema": STRING, "description": "/api/v1/sinks/{id}"}}}},
                          ["413", "415", "422"], body=body("NewSink"),
                          description="Delivery is at least once and in sequence order, from a durable cursor, with exponential "
                                      "backoff (and Retry-After) on failure; it resumes after a restart. Recorded as an AUDIT_ADMIN event."),
    },
    "/api/v1/sinks/{id}": {
        "get": operation("getSink", "Streams", "One sink: where it is and how it fares (admin)",
                         {"200": json_response("The sink", ref("Sink"))}, ["404"], [path("id", "the sink's id")]),
        "delete": operation("deleteSink", "Streams", "Delete a sink: nothing more is delivered (admin)",
                            {"204": {"description": "Deleted"}}, ["404"], [path("id", "the sink's id")]),
    },
    "/api/v1/alerts/rules": {
        "get": operation("listAlertRules", "Streams", "The tenant's alert rules (admin)", {"200": json_response("Rules, oldest first", ref("AlertRuleList"))}),
        "post": operation("createAlertRule", "Streams", "Alert when N matching events happen within S seconds (admin)",
                          {"201": {**json_response("The rule", ref("AlertRule")),
                                   "headers": {"Location": {"schema": STRING, "description": "/api/v1/alerts/rules/{id}"}}}},
                          ["413", "415", "422"], body=body("NewAlertRule"),
                          description="Counts events recorded from now on, as they arrive. When a group reaches the threshold "
                                      "within the window the rule fires: the alert is listed, recorded as a SECURITY event "
                                      "(action alert_fired) and sent to the rule's sink; that group's count starts again."),
    },
    "/api/v1/alerts/rules/{id}": {
        "get": operation("getAlertRule", "Streams", "One alert rule (admin)", {"200": json_response("The rule", ref("AlertRule"))},
                         ["404"], [path("id", "the rule's id")]),
        "delete": operation("deleteAlertRule", "Streams", "Delete an alert rule (admin)", {"204": {"description": "Deleted"}},
                            ["404"], [path("id", "the rule's id")]),
    },
    "/api/v1/alerts": {"get": operation(
        "listAlerts", "Streams", "Fired alerts, newest first (admin)", {"200": json_response("Alerts", ref("AlertList"))},
        parameters=[query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most (default 100)")])},
    "/api/v1/integrity/public-key": {"get": operation("getPublicKey", "Integrity", "The installation's checkpoint-signing public key",
                                                      {"200": json_response("The key", ref("PublicKey"))}, ["503"], public=True)},
    "/api/v1/integrity/checkpoints/latest": {"get": operation("getLatestCheckpoint", "Integrity", "The tenant's newest signed checkpoint",
                                                              {"200": json_response("The checkpoint", ref("Checkpoint"))}, ["404"])},
    "/api/v1/integrity/proofs/inclusion/{id}": {"get": operation(
        "getInclusionProof", "Integrity", "A proof that an event is in the tree of a checkpoint (RFC 9162)",
        {"200": json_response("The proof", ref("InclusionProof"))}, ["404"],
        [path("id", "the event's id"), query("size", {"type": "integer", "minimum": 1}, "the tree's size (default: the latest checkpoint's)")])},
    "/api/v1/integrity/proofs/consistency": {"get": operation(
        "getConsistencyProof", "Integrity", "A proof that a tree extends an earlier one (RFC 9162)",
        {"200": json_response("The proof", ref("ConsistencyProof"))}, ["404"],
        [query("from", {"type": "integer", "minimum": 1}, "the earlier tree's size (required)"),
         query("to", {"type": "integer", "minimum": 1}, "the later tree's size (default: the latest checkpoint's)")])},
    "/api/v1/integrity/verify": {"post": operation(
        "verify", "Integrity", "Verify the tenant's stored log, or an NDJSON export sent as the body",
        {"200": json_response("The report (status failed names the first bad event)", ref("Verification"))}, ["413", "422"],
        body={"required": False, "content": {"application/x-ndjson": {"schema": STRING}}})},
}

document = {
    "openapi": "3.1.0",
    "info": {
        "title": "Trail",
        "version": "2.0.0",
        "summary": "A self-hosted audit history service",
        "description": "Every version of each resource's state, the field-level changes between versions, who did it, "
                       "when and from where; queries, exports, and proofs that nothing was changed or removed. "
                       "Errors are application/problem+json (RFC 9457). The contract is SPEC.md; the guide is the README.",
        "license": {"name": "Proprietary", "identifier": "LicenseRef-Trail"},
    },
    "servers": [{"url": "http://127.0.0.1:9002", "description": "trail serve's default address"}],
    "tags": [
        {"name": "Ingest", "description": "Recording events: activity-stream payloads and generic audit events, synchronously or queued"},
        {"name": "Read", "description": "Events, histories, states, summaries and exports"},
        {"name": "Async", "description": "Queued submissions"},
        {"name": "Compatibility", "description": "The original Django service's read API"},
        {"name": "Keys", "description": "API keys (admin)"},
        {"name": "Integrity", "description": "Checkpoints, proofs and verification (SPEC §8)"},
        {"name": "Lifecycle", "description": "Retention rules, cleanups, legal holds and erasure (SPEC §11; admin)"},
        {"name": "Streams", "description": "Live tail, forwarding to SIEMs and alert rules (SPEC §14)"},
        {"name": "Operations", "description": "Health, readiness, metrics, this document"},
    ],
    "security": [{"ApiKey": []}, {"BearerKey": []}, {"BearerJWT": []}],
    "paths": paths,
    "components": {
        "schemas": schemas,
        "responses": {f"Problem{status}": response for status, response in ERROR_RESPONSES.items()},
        "examples": {name: {"summary": f"conformance fixture {name}", "value": value} for name, value in ingest_examples.items()}
        | {"login": {"summary": "a generic audit event with aliases", "value": LOGIN}, "reader": {"summary": "a reader key", "value": READER}},
        "securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                       "description": "Authorization: ApiKey trail_<16 hex digits>_<43 characters>"},
            "BearerKey": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>"},
            "BearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                          "description": "A JWT signed with a configured HS256 secret, ES256 or EdDSA key; claims tenant and roles (SPEC §7)"},
        },
    },
}



def schema_text(schema):
    """A schema in a few words: its type, or the component it names."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return (" or " if combinator == "anyOf" else " | ").join(schema_text(s) for s in schema[combinator])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {schema_text(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {schema_text(schema['additionalProperties'])}"
    limits = [f"{key} {schema[key]}" for key in ("minimum", "maximum", "minLength", "maxLength", "pattern", "format") if key in schema]
    return kind + (f" ({', '.join(limits)})" if limits else "")


def resolve(item):
    if "$ref" in item:
        kind, name = item["$ref"].split("/")[-2:]
        return document["components"][kind][name]
    return item


STYLE = ("body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
         "h2{border-bottom:1px solid #ccc;margin-top:2.5rem}h3{margin-bottom:.3rem}code{background:#f3f3f3;padding:0 .2rem}"
         "table{border-collapse:collapse;margin:.4rem 0 1rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}"
         ".m{font-weight:bold;font-family:monospace;margin-right:.4rem}")


def render_html():
    e = html.escape
    out = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(document['info']['title'])} API</title>"
           f"<style>{STYLE}</style></head><body>",
           f"<h1>{e(document['info']['title'])} API {e(document['info']['version'])}</h1>",
           f"<p>{e(document['info']['description'])}</p>",
           "<p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1). Every operation but the "
           "public ones takes <code>Authorization: ApiKey &lt;key&gt;</code>, <code>Bearer &lt;key&gt;</code> or a JWT "
           "bearer token. Errors are <code>application/problem+json</code>.</p><ul>"]
    for tag in document["tags"]:
        out.append(f"<li><a href=\"#{e(tag['name'])}\">{e(tag['name'])}</a>: {e(tag['description'])}</li>")
    out.append("<li><a href=\"#schemas\">Schemas</a></li></ul>")
    for tag in document["tags"]:
        out.append(f"<h2 id=\"{e(tag['name'])}\">{e(tag['name'])}</h2>")
        for path, item in document["paths"].items():
            for method, op in item.items():
                if tag["name"] not in op["tags"]:
                    continue
                out.append(f"<h3 id=\"{e(op['operationId'])}\"><span class=m>{method.upper()}</span><code>{e(path)}</code></h3>")
                out.append(f"<p>{e(op['summary'])}{' (no key)' if op.get('security') == [] else ''}</p>")
                if op.get("parameters"):
                    out.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>meaning</th></tr>")
                    for parameter in op["parameters"]:
                        out.append(f"<tr><td><code>{e(parameter['name'])}</code>{' (required)' if parameter.get('required') else ''}</td>"
                                   f"<td>{e(parameter['in'])}</td><td>{e(schema_text(parameter['schema']))}</td>"
                                   f"<td>{e(parameter.get('description', ''))}</td></tr>")
                    out.append("</table>")
                if op.get("requestBody"):
                    bodies = ", ".join(f"<code>{e(media)}</code>: {e(schema_text(content['schema']))}"
                                       for media, content in op["requestBody"]["content"].items())
                    out.append(f"<p>Body: {bodies}</p>")
                out.append("<table><tr><th>status</th><th>answer</th></tr>")
                for status, response in op["responses"].items():
                    response = resolve(response)
                    kinds = ", ".join(f"{e(schema_text(c.get('schema', {})))}" for c in response.get("content", {}).values())
                    out.append(f"<tr><td>{e(status)}</td><td>{e(response['description'])}{': ' + kinds if kinds else ''}</td></tr>")
                out.append("</table>")
    out.append("<h2 id=schemas>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        out.append(f"<h3 id=\"schema-{e(name)}\"><code>{e(name)}</code></h3>")
        if schema.get("description"):
            out.append(f"<p>{e(schema['description'])}</p>")
        properties = schema.get("properties")
        if properties:
            required = set(schema.get("required", []))
            out.append("<table><tr><th>field</th><th>type</th><th>meaning</th></tr>")
            for field, sub in properties.items():
                out.append(f"<tr><td><code>{e(field)}</code>{' (always)' if field in required else ''}</td>"
                           f"<td>{e(schema_text(sub))}</td><td>{e(sub.get('description', '') if isinstance(sub, dict) else '')}</td></tr>")
            out.append("</table>")
        else:
            out.append(f"<p>{e(schema_text(schema))}</p>")
    out.append("</body></html>")
    return "".join(out)


text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
(ROOT / "openapi" / "trail.json").write_text(text)
# The binary serves the same document without the indentation: one line, a third smaller.
compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
page = render_html()
style_hash = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
for literal in (compact, page):
    assert '"##' not in literal and "\\##" not in literal and "\n" not in literal  # one line, nothing that ends or interpolates it
folder = ROOT / "Sources" / "TrailServer" / "OpenAPI"
folder.mkdir(parents=True, exist_ok=True)
(folder / "OpenAPIDocument.swift").write_text(
    "// Generated by scripts/openapi/make_openapi.py from the same data as openapi/trail.json: do not edit.\n\n"
    "/// Trail's OpenAPI 3.1 document (SPEC §13), served at `GET /openapi.json`: openapi/trail.json, compact.\n"
    "enum OpenAPIDocument {\n"
    "    static let json = ##\"" + compact + "\"##\n}\n")
(folder / "APIReferencePage.swift").write_text(
    "// Generated by scripts/openapi/make_openapi.py from openapi/trail.json's data: do not edit.\n\n"
    "/// The API reference rendered from the OpenAPI document, served at `GET /docs`: static HTML, its one style\n"
    "/// sheet allowed by its hash, no script.\n"
    "enum APIReferencePage {\n"
    "    static let html = ##\"" + page + "\"##\n"
    "    static let contentSecurityPolicy = \"default-src 'none'; style-src 'sha256-" + style_hash + "'; frame-ancestors 'none'\"\n}\n")
print("wrote openapi/trail.json, Sources/TrailServer/OpenAPI/OpenAPIDocument.swift and APIReferencePage.swift")
