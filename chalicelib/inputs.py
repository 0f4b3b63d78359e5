"""What a request says, parsed into the values the use cases take -- or a 400 naming what is wrong.

The JSON body, `If-Match`, `Idempotency-Key`, the list query string and its page cursors. Every
value here comes from the client, so every function expects anything: non-ASCII, huge, nested
beyond recursion limits. Nothing here imports chalice (web.py hands in plain values).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib import ids
from chalicelib.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from chalicelib.models import Status, parse_rfc3339
from chalicelib.store.base import ListFilter
from chalicelib.tracker import Expect

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
LIST_PARAMS = frozenset({"limit", "cursor", "status", "tag", "q", "follow_up_due", "contact"})
AGENDA_PARAMS = frozenset({"limit", "cursor", "from", "to"})
# Far above any real body (notes are at most 10,000 characters); API Gateway itself stops at 10 MB.
MAX_BODY_BYTES = 256 * 1024
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?")
_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e]*)"')
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STORED_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_OUR_TAG = re.compile(r"([0-9A-Z]{26})\.([1-9][0-9]{0,17})")


def json_body(raw: bytes | str | None, *, what: str = "a JSON object") -> Any:
    """The parsed body, or BadRequest: empty, too big, not UTF-8, not JSON, or nested too deeply."""
    if not raw:
        raise BadRequest(f"The request body is empty; send {what}.", field="body")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.", field="body")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest("The request body is nested too deeply to be a request of this API.", field="body") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.", field="body") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # json.loads accepts NaN and Infinity; JSON does not


def json_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object of {what}.", field="body")
    return body


def if_match(header: str | None) -> Expect | None:
    """RFC 9110 If-Match: `*` or a list of strong entity tags; weak tags never match (strong comparison)."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return Expect()
    tags = [t.strip() for t in value.split(",")]
    matches = [_ENTITY_TAG.fullmatch(t) for t in tags]
    if not tags or not all(matches):
        raise BadRequest(
            'If-Match must be "*" or entity tags as sent in ETag, e.g. If-Match: "<etag>".', field="If-Match"
        )
    versions: set[tuple[str, int]] = set()
    for match in matches:
        assert match is not None
        ours = _OUR_TAG.fullmatch(match[2])
        if match[1] is None and ours is not None:
            versions.add((ours[1], int(ours[2])))
    return Expect(frozenset(versions))


def idempotency_key(header: str | None) -> str | None:
    if header is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(header):
        raise BadRequest(
            "Idempotency-Key must be 1 to 255 printable ASCII characters, e.g. a UUID.", field="Idempotency-Key"
        )
    return header


class Cursors:
    """Opaque page cursors, signed and bound to the user and the query they came from."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"job-hunt-tracker/cursor/v1", hashlib.sha256).digest()

    def _mac(self, user_id: str, query: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{user_id}\n{query}\n{payload}".encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def encode(self, user_id: str, query: str, after_id: str) -> str:
        payload = base64.urlsafe_b64encode(after_id.encode()).rstrip(b"=").decode()
        return f"{payload}.{self._mac(user_id, query, payload)}"

    def decode(self, user_id: str, query: str, cursor: str) -> str:
        after_id = self._payload(user_id, query, cursor)
        if not ids.is_id(after_id):
            raise BadRequest("cursor is malformed.", field="cursor")
        return after_id

    def encode_agenda(self, user_id: str, query: str, after: tuple[str, str]) -> str:
        return self.encode(user_id, query, "|".join(after))

    def decode_agenda(self, user_id: str, query: str, cursor: str) -> tuple[str, str]:
        """The (starts_at, interview id) a page of the agenda ended with."""
        starts_at, _, interview_id = self._payload(user_id, query, cursor).partition("|")
        if not ids.is_id(interview_id) or not _STORED_INSTANT.fullmatch(starts_at):
            raise BadRequest("cursor is malformed.", field="cursor")
        return starts_at, interview_id

    def _payload(self, user_id: str, query: str, cursor: str) -> str:
        payload, _, mac = cursor.partition(".")
        if not (payload.isascii() and mac.isascii()) or len(cursor) > 200:
            raise BadRequest("cursor is malformed.", field="cursor")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(user_id, query, payload)):
            raise BadRequest("cursor is not one this API gave for this query; start again without it.", field="cursor")
        try:
            return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        except ValueError:
            raise BadRequest("cursor is malformed.", field="cursor") from None


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadRequest(f"'{name}' may be given once.", field=name)
    return values[0] if values else None


def _safe(name: str) -> str:
    """A client-chosen name as it may appear in a message: printable ASCII, short."""
    return name.encode("ascii", "replace").decode()[:40]


def _limit(params: Mapping[str, Sequence[str]]) -> int:
    raw_limit = _one(params, "limit")
    try:
        limit = DEFAULT_LIMIT if raw_limit is None else int(raw_limit) if raw_limit.isascii() else 0
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.", field="limit")
    return limit


def _unknown(params: Mapping[str, Sequence[str]], known: frozenset[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadRequest(
            f"Unknown query parameter(s): {', '.join(_safe(u) for u in unknown)}; use {', '.join(sorted(known))}.",
            field=_safe(unknown[0]),
        )


def _bound(params: Mapping[str, Sequence[str]], name: str) -> dt.date | dt.datetime | None:
    value = _one(params, name)
    if value is None:
        return None
    if _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    else:
        try:
            return parse_rfc3339(value)
        except ValueError:
            pass
    raise BadRequest(
        f"{name} must be a date (2026-12-01) or an RFC 3339 date-time with an offset (2026-12-01T09:00:00Z).",
        field=name,
    )


def agenda_query(
    params: Mapping[str, Sequence[str]],
) -> tuple[dt.date | dt.datetime | None, dt.date | dt.datetime | None, int, str | None, str]:
    """GET /api/interviews: from, to, the page size, the cursor and the query key the cursor is bound to."""
    _unknown(params, AGENDA_PARAMS)
    limit = _limit(params)
    start, end = _bound(params, "from"), _bound(params, "to")
    key = json.dumps([_one(params, "from"), _one(params, "to")], separators=(",", ":"))
    return start, end, limit, _one(params, "cursor"), key


def list_query(params: Mapping[str, Sequence[str]], today: Any) -> tuple[ListFilter, int, str | None, str]:
    """The filter, the page size, the cursor and the query key the cursor is bound to."""
    _unknown(params, LIST_PARAMS)
    limit = _limit(params)
    statuses: set[Status] = set()
    for value in params.get("status") or []:
        for item in (v.strip() for v in value.split(",")):
            if item not in Status.__members__.values():
                raise BadRequest(
                    f"status {item[:40]!r} is not one of {', '.join(s.value for s in Status)}.", field="status"
                )
            statuses.add(Status(item))
    tag = _one(params, "tag")
    if tag is not None and not 1 <= len(tag.strip()) <= 40:
        raise BadRequest("tag must be 1 to 40 characters.", field="tag")
    q = _one(params, "q")
    if q is not None and not 1 <= len(q.strip()) <= 100:
        raise BadRequest("q must be 1 to 100 characters.", field="q")
    contact = _one(params, "contact")
    if contact is not None and (not 1 <= len(contact.strip()) <= 100 or not contact.isprintable()):
        raise BadRequest("contact must be 1 to 100 printable characters.", field="contact")
    due = _one(params, "follow_up_due")
    if due not in (None, "true", "false"):
        raise BadRequest("follow_up_due must be true or false.", field="follow_up_due")
    flt = ListFilter(
        statuses=frozenset(statuses),
        tag=tag.strip().lower() if tag else None,
        q=q.strip().lower() if q else None,
        follow_up_due_by=today if due == "true" else None,
        contact=contact.strip().lower() if contact else None,
    )
    facets: list[Any] = [sorted(s.value for s in flt.statuses), flt.tag, flt.q, flt.follow_up_due_by is not None]
    if flt.contact is not None:  # appended only when used: cursors given before contacts stay valid
        facets.append(flt.contact)
    key = json.dumps(facets, separators=(",", ":"))
    return flt, limit, _one(params, "cursor"), key


def sign_out_everywhere(raw: bytes | str | None) -> bool:
    """POST /auth/logout: no body (this token), or {"everywhere": true|false}."""
    if not raw or not raw.strip():
        return False
    body = json_object(json_body(raw), 'sign-out options, like {"everywhere": true}')
    unknown = sorted(set(body) - {"everywhere"})
    if unknown:
        raise BadRequest(
            f'{_safe(unknown[0])!r} is not a sign-out option; send {{"everywhere": true}} or nothing.',
            field=_safe(unknown[0]),
        )
    everywhere = body.get("everywhere", False)
    if not isinstance(everywhere, bool):
        raise BadRequest("everywhere must be true or false.", field="everywhere")
    return everywhere


# ---- data out and in, the calendar feed ---------------------------------------------------------

# The import's size limit (its only one: chalicelib.transfer limits rows), far above MAX_BODY_BYTES, which is for JSON.
CSV_MAX_BYTES = 5 * 1024 * 1024


def _flag(params: Mapping[str, Sequence[str]], name: str) -> bool:
    value = _one(params, name)
    if value not in (None, "true", "false"):
        raise BadRequest(f"{name} must be true or false.", field=name)
    return value == "true"


def export_format(params: Mapping[str, Sequence[str]]) -> str:
    """GET /api/export: `json` (the default) or `csv`."""
    _unknown(params, frozenset({"format"}))
    value = _one(params, "format") or "json"
    if value not in ("json", "csv"):
        raise BadRequest("format must be json or csv.", field="format")
    return value


def import_query(params: Mapping[str, Sequence[str]]) -> bool:
    """POST /api/import: whether it is a dry run."""
    _unknown(params, frozenset({"dry_run"}))
    return _flag(params, "dry_run")


def csv_content_type(header: str | None) -> None:
    media = (header or "").split(";")[0].strip().lower()
    if media != "text/csv":
        raise UnsupportedMediaType(
            "Send the file as Content-Type: text/csv (UTF-8; comma or semicolon separated).", field="Content-Type"
        )


def csv_body(raw: bytes | str | None) -> bytes:
    """The CSV file as sent, or BadRequest (empty) / PayloadTooLarge (past the 5 MB import limit)."""
    if not raw:
        raise BadRequest("The request body is empty; send the CSV file (Content-Type: text/csv).", field="body")
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > CSV_MAX_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than the import limit of 5 MB ({CSV_MAX_BYTES} bytes); split it.", field="body"
        )
    return data


def feed_secret(name: str) -> str | None:
    """The secret of `/calendar/<secret>.ics`, or None when the name is not of that shape (a 404)."""
    return name.removesuffix(".ics") if name.endswith(".ics") and name.isascii() else None


def if_none_match(header: str | None, current: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): whether it names `current` (or is `*`)."""
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or current in tags
