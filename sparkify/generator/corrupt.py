"""Faults injected on purpose (``--corrupt-rate``) and listed in a manifest.

Each fault kind is one the warehouse must either reject with a reason or repair. The manifest
(``_corruptions.jsonl``) names the file and 1-based line number of every injected line, so
tests can check that nothing was lost or let through.
"""

from __future__ import annotations

import json
import random
import re

PLACEHOLDER_USER_ID = "1261737"  # what the full 12 GB log puts on logged-out and guest rows

FAULT_KINDS = (
    "malformed_json",
    "truncated_line",
    "wrong_type",
    "missing_field",
    "null_ts",
    "duplicate_event",
    "late_event",
    "future_ts",
    "invalid_utf8",
    "placeholder_user_id",
)

_TS = re.compile(rb'^\{"ts":\d+')


def corrupt_line(kind: str, line: bytes, rng: random.Random) -> bytes:
    """Return the faulty version of ``line`` (bytes, newline included) for one fault kind."""
    body = line.rstrip(b"\n")
    if kind == "malformed_json":
        return body.replace(b'","', b'";"', 1).replace(b"{", b"", 1) + b"\n"
    if kind == "truncated_line":
        return body[: rng.randrange(10, max(11, len(body) - 5))] + b"\n"
    if kind == "wrong_type":
        return re.sub(rb'"sessionId":\d+', b'"sessionId":"session-x"', body, count=1) + b"\n"
    if kind == "missing_field":
        return re.sub(rb'"page":"[^"]*",', b"", body, count=1) + b"\n"
    if kind == "null_ts":
        return _TS.sub(b'{"ts":null', body, count=1) + b"\n"
    if kind == "future_ts":
        return _TS.sub(b'{"ts":4102444800000', body, count=1) + b"\n"
    if kind == "invalid_utf8":
        return body.replace(b'"level":"', b'"level":"\xff\xfe', 1) + b"\n"
    if kind == "placeholder_user_id":
        return body.replace(b'"userId":""', f'"userId":"{PLACEHOLDER_USER_ID}"'.encode(), 1) + b"\n"
    raise ValueError(f"unknown fault kind {kind}")


def manifest_entry(file_name: str, line_number: int, kind: str, original: bytes) -> str:
    """One manifest line; ``original`` identifies the clean event the fault came from."""
    try:
        event = json.loads(original)
        key = {k: event.get(k) for k in ("ts", "userId", "sessionId", "itemInSession", "page")}
    except ValueError:
        key = {}
    return json.dumps({"file": file_name, "line": line_number, "kind": kind, "event": key}) + "\n"
