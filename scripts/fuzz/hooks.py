"""Schemathesis hooks for Trail's fuzz run (scripts/fuzz.sh): loaded through SCHEMATHESIS_HOOKS."""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """POST /api/v1/integrity/verify takes an NDJSON export: a generated string is sent as it is, anything else
    as one JSON value per line."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode("utf-8")
