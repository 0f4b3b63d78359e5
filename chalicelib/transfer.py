"""The person's data out (JSON, CSV) and in (CSV from this API or from a spreadsheet / another tracker).

Use cases, like tracker.py: typed values in, values out, domain errors raised; no HTTP.

CSV in: UTF-8 (a BOM is fine), comma, semicolon or tab separated, a header row. Columns are matched
by name, case-insensitively and ignoring spaces, `_` and `-` (IMPORT_COLUMNS); statuses by name or
a common synonym (STATUS_SYNONYMS). A row is imported whole or reported: every problem of a row is
an error naming its line and column, and nothing of that row is stored.

Duplicates: an application is the same as one already stored (or an earlier row of the file) when
company, role and applied_on are equal, company and role compared case-insensitively with runs of
white space as one space (DUPLICATE_KEY). So importing the same file twice creates nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chalicelib import ids
from chalicelib.clock import Now
from chalicelib.domain_errors import BadFile, TooLarge
from chalicelib.models import (
    Application,
    ApplicationData,
    Contact,
    Export,
    ExportSettings,
    ImportReport,
    ImportRowError,
    Status,
    StatusChange,
    parse_rfc3339,
    utc_instant,
)
from chalicelib.store.base import Session, Store

MAX_ROWS = 5_000
MAX_ERRORS = 100  # reported at most; `errors_total` counts them all
MAX_COLUMNS = 200  # a header past it is refused (ignored_columns would echo it back, past Lambda's 6 MB)

# The CSV export's columns, in order; the import reads each back.
CSV_COLUMNS = (
    "id",
    "company",
    "role",
    "status",
    "applied_on",
    "next_follow_up_on",
    "url",
    "location",
    "work_mode",
    "salary_min",
    "salary_max",
    "currency",
    "source",
    "tags",
    "contacts",
    "notes",
    "status_history",
    "created_at",
    "updated_at",
)


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower()).strip()


# Field -> the header names it is read from (normalised by _norm), this API's own first.
IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "company": ("company", "company name", "employer", "organization", "organisation", "business"),
    "role": ("role", "job title", "title", "position", "job", "job position", "position title", "role title"),
    "status": ("status", "stage", "state", "application status", "job status"),
    "applied_on": ("applied on", "date applied", "applied", "application date", "applied date", "date"),
    "next_follow_up_on": ("next follow up on", "next follow up", "follow up", "follow up on", "follow up date"),
    "url": ("url", "job url", "link", "job link", "posting url", "job posting", "posting", "job posting url"),
    "location": ("location", "city", "job location"),
    "work_mode": ("work mode", "workplace type", "work type", "remote"),
    "salary_min": ("salary min", "min salary", "minimum salary", "salary from", "salary"),
    "salary_max": ("salary max", "max salary", "maximum salary", "salary to"),
    "currency": ("currency", "salary currency"),
    "source": ("source", "job board", "found on", "found via", "platform", "channel"),
    "tags": ("tags", "labels", "tag", "label"),
    "contacts": ("contacts", "contact", "contact person", "recruiter"),
    "notes": ("notes", "note", "comments", "comment"),
    "status_history": ("status history",),
}
# Columns of this API's export that the import reads but does not take: ids and times are the new account's.
_IGNORED = frozenset(_norm(name) for name in CSV_COLUMNS if name not in IMPORT_COLUMNS)

STATUS_SYNONYMS: dict[str, Status] = {
    **{s.value: s for s in Status},
    **dict.fromkeys(
        ("saved", "bookmarked", "interested", "to apply", "not applied", "planned", "wish list"), Status.WISHLIST
    ),
    **dict.fromkeys(("submitted", "application sent", "sent", "applied online"), Status.APPLIED),
    **dict.fromkeys(
        ("screen", "phone screen", "recruiter screen", "in review", "under review", "reviewing"), Status.SCREENING
    ),
    **dict.fromkeys(
        (
            "interview",
            "interviews",
            "interview scheduled",
            "interviewed",
            "technical interview",
            "onsite",
            "in progress",
        ),
        Status.INTERVIEWING,
    ),
    **dict.fromkeys(("offered", "offer received", "offer extended"), Status.OFFER),
    **dict.fromkeys(("hired", "offer accepted", "signed"), Status.ACCEPTED),
    **dict.fromkeys(
        ("rejection", "not selected", "declined by company", "turned down", "denied", "no"), Status.REJECTED
    ),
    **dict.fromkeys(("withdrew", "declined", "not interested", "cancelled", "canceled", "archived"), Status.WITHDRAWN),
    **dict.fromkeys(("no response", "no answer", "no reply", "silence", "ghost"), Status.GHOSTED),
}
WORK_MODES = {"onsite": "onsite", "on site": "onsite", "office": "onsite", "in office": "onsite", "hybrid": "hybrid"}
WORK_MODES |= {"remote": "remote", "fully remote": "remote", "wfh": "remote", "yes": "remote", "no": "onsite"}
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_HISTORY_ITEM = re.compile(r"\s*([a-z_]+)\s*\(([^()]+)\)\s*")
_CONTACT = re.compile(r"\s*([^<>]*?)\s*(?:<([^<>]*)>)?\s*")
# A cell starting with one of these is a formula to Excel and its kin: the export writes it after a `'`
# (shown as text, not run), and the import takes that one `'` off again, so a round trip keeps the value.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# ---- out ----------------------------------------------------------------------------------------


def export_json(store: Store, session: Session, now: Now) -> Export:
    """Everything of the person: profile and settings, applications (history, contacts), interviews."""
    data = store.everything(session.user_id, session)
    return Export(
        exported_at=now.iso,
        profile=data.profile,
        settings=ExportSettings(timezone=data.profile.timezone),
        applications=sorted(data.applications, key=lambda a: a.id),
        interviews=sorted(data.live_interviews, key=lambda i: (i.starts_at, i.id)),
    )


def _history_text(app: Application) -> str:
    return " -> ".join(f"{c.status.value} ({c.at})" for c in app.status_history)


def _contacts_text(contacts: Iterable[Contact]) -> str:
    return "; ".join(f"{c.name} <{c.email}>" if c.email else c.name for c in contacts)


def export_csv(store: Store, session: Session) -> str:
    """One row per application, oldest first, in CSV_COLUMNS (see the README)."""
    apps = sorted(store.all_applications(session.user_id, session), key=lambda a: a.id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for app in apps:
        values = app.model_dump(mode="json")
        values["tags"] = "; ".join(app.tags)
        values["contacts"] = _contacts_text(app.contacts)
        values["status_history"] = _history_text(app)
        writer.writerow([_cell(values.get(name)) for name in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A value as the CSV export writes it: text that a spreadsheet would run as a formula after a `'`."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _uncell(text: str) -> str:
    """A cell as the import reads it: the `'` the export puts before a formula's first character taken off."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


# ---- in -----------------------------------------------------------------------------------------


def duplicate_key(company: str, role: str, applied_on: dt.date | None) -> tuple[str, str, str]:
    """What makes two applications the same for an import (see the module's docstring)."""

    def squash(text: str) -> str:
        return " ".join(text.split()).casefold()

    return squash(company), squash(role), applied_on.isoformat() if applied_on else ""


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(
            f"The file is not UTF-8 (a byte at offset {exc.start} is not); save it as CSV UTF-8 and send it again."
        ) from None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _NotADate(ValueError):
    """A date cell _any_date could not read, its message saying how to write it."""


def _date(value: str) -> dt.date:
    try:
        return _any_date(value.strip())
    except _NotADate:
        raise
    except ValueError:  # numbers read but no such day (dt.date's own error)
        raise _NotADate(f"{value.strip()[:40]!r} is not a real date; write it as YYYY-MM-DD") from None


def _any_date(text: str) -> dt.date:
    for pattern in (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"):
        match = re.match(pattern + r"(?:[T ].*)?\Z", text)
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
    match = re.fullmatch(r"([0-9]{1,2})[./]([0-9]{1,2})[./]([0-9]{4})", text)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if first > 12 >= second:
            return dt.date(year, second, first)  # day/month/year
        if second > 12 >= first:
            return dt.date(year, first, second)  # month/day/year
        if first != second:
            raise _NotADate(f"{text!r} could be day/month or month/day; write it as YYYY-MM-DD")
        return dt.date(year, first, second)
    for fmt in ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _NotADate(f"{text[:40]!r} is not a date; write it as YYYY-MM-DD")


def _money(value: str) -> tuple[int, str | None]:
    text = value.strip()
    currency = next((code for sign, code in _CURRENCY_SIGNS.items() if sign in text), None)
    for sign in _CURRENCY_SIGNS:
        text = text.replace(sign, "")
    text = text.strip().lower()
    scale = 1
    if text.endswith("k"):
        scale, text = 1000, text[:-1].strip()
    digits = re.sub(r"[,\s' ]", "", text)
    if digits.endswith((".00", ".0")):
        digits = digits.rsplit(".", 1)[0]
    if not re.fullmatch(r"[0-9]{1,10}(\.[0-9]+)?", digits) or (scale == 1 and "." in digits):
        raise ValueError(f"{value.strip()[:40]!r} is not an amount; write a whole number like 65000")
    return int(float(digits) * scale), currency


def _status(value: str) -> Status:
    status = STATUS_SYNONYMS.get(_norm(value)) or STATUS_SYNONYMS.get(_norm(value).replace(" ", "_"))
    if status is None:
        raise ValueError(f"{value.strip()[:40]!r} is not a status; use one of {', '.join(s.value for s in Status)}")
    return status


def _contacts(value: str) -> list[dict[str, str]]:
    contacts = []
    for part in value.split(";"):
        if not part.strip():
            continue
        match = _CONTACT.fullmatch(part)
        if match is None:
            raise ValueError("write contacts as 'Name <email>; Name <email>'")
        name, email = match[1], match[2]
        contacts.append({"name": name or (email or ""), **({"email": email.strip()} if email else {})})
    return contacts


def _history(value: str, status: Status) -> list[StatusChange] | None:
    """A status_history column as this API exports it; None when it does not end in `status`."""
    changes = []
    for part in value.split("->"):
        match = _HISTORY_ITEM.fullmatch(part)
        if match is None or match[1] not in Status.__members__.values():
            raise ValueError("write it as this API exports it: 'applied (2026-11-02T10:00:00.000Z) -> ...'")
        changes.append(StatusChange(status=Status(match[1]), at=utc_instant(parse_rfc3339(match[2].strip()))))
    if not changes or changes[-1].status != status:
        return None
    return changes


@dataclass(frozen=True)
class _Row:
    line: int
    data: ApplicationData
    history: list[StatusChange] | None


def _columns(header: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Field -> the column it is read from; and the columns read for nothing."""
    by_name = {_norm(name): n for n, name in reversed(list(enumerate(header)))}
    found: dict[str, int] = {}
    for name, aliases in IMPORT_COLUMNS.items():
        for alias in aliases:
            if alias in by_name and by_name[alias] not in found.values():
                found[name] = by_name[alias]
                break
    used = set(found.values())
    ignored = [h for n, h in enumerate(header) if n not in used and _norm(h) not in _IGNORED and h.strip()]
    return found, list(dict.fromkeys(ignored))


def parse(raw: bytes) -> tuple[list[_Row], list[ImportRowError], list[str]]:
    """The valid rows of a CSV file, the errors of the others, and the columns nothing reads.

    TooLarge past MAX_ROWS (the 5 MB limit is inputs.CSV_MAX_BYTES, checked by the route first);
    BadFile when it cannot be read as a CSV of applications.
    """
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BadFile(f"The header row is not valid CSV ({exc}).") from None
    if not header or not any(h.strip() for h in header):
        raise BadFile("The file has no header row; the first line must name the columns (e.g. Company,Role,Status).")
    if len(header) > MAX_COLUMNS:
        raise BadFile(f"The header row has {len(header):,} columns, more than the limit of {MAX_COLUMNS}.")
    columns, ignored = _columns(header)
    for required in ("company", "role"):
        if required not in columns:
            names = ", ".join(repr(a.title()) for a in IMPORT_COLUMNS[required][:4])
            raise BadFile(f"No column for {required}: name one {names} (case does not matter).", field=required)
    rows: list[_Row] = []
    errors: list[ImportRowError] = []
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            # Past a malformed record the rest of the file cannot be read reliably: refuse it whole.
            raise BadFile(f"Line {line} is not valid CSV ({exc}); nothing was imported.") from None
        if record is None:
            break
        if not any(cell.strip() for cell in record):
            continue  # blank lines (spreadsheets end with some)
        count += 1
        if count > MAX_ROWS:
            raise TooLarge(f"The file has more than the import limit of {MAX_ROWS:,} rows; split it.")
        row, row_errors = _row(line, record, header, columns)
        if row is not None:
            rows.append(row)
        errors.extend(row_errors)
    return rows, errors, ignored


def _row(
    line: int, record: Sequence[str], header: Sequence[str], columns: dict[str, int]
) -> tuple[_Row | None, list[ImportRowError]]:
    cells = {name: _uncell(record[n].strip()) if n < len(record) else "" for name, n in columns.items()}
    errors: list[ImportRowError] = []
    failed: set[str] = set()  # the fields with an error already
    fields: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        column = header[columns[name]].strip() if name in columns else ""
        errors.append(ImportRowError(row=line, field=column or name, message=message))
        failed.add(name)

    readers: dict[str, Any] = {
        "applied_on": _date,
        "next_follow_up_on": _date,
        "status": _status,
        "tags": lambda v: [t.strip() for t in re.split(r"[;,|]", v) if t.strip()],
        "contacts": _contacts,
        "work_mode": lambda v: WORK_MODES.get(_norm(v), v.strip().lower()),
    }
    for name, value in cells.items():
        if not value or name == "status_history":
            continue
        try:
            if name in ("salary_min", "salary_max"):
                amount, currency = _money(value)
                fields[name] = amount
                if currency and not cells.get("currency"):
                    fields["currency"] = currency
            elif name in readers:
                fields[name] = readers[name](value)
            else:
                fields[name] = value
        except ValueError as exc:
            fail(name, str(exc))
    if "status" not in fields and "status" not in failed:
        fields["status"] = Status.APPLIED if "applied_on" in fields else Status.WISHLIST
    for required in ("company", "role"):
        if not cells.get(required):
            fail(required, "is empty; every row needs a company and a role")
    said = set(failed)
    try:
        data = ApplicationData.model_validate(fields)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            loc = str(err["loc"][0]) if err["loc"] else ""
            if loc in said:
                continue  # said already
            message = str(err["msg"]).removeprefix("Value error, ")
            fail(loc or message.split(" ", 1)[0], message)  # a rule on two fields names the first
        return None, errors
    if errors:
        return None, errors
    history = None
    if cells.get("status_history"):
        try:
            history = _history(cells["status_history"], data.status)
        except ValueError as exc:
            fail("status_history", str(exc))
            return None, errors
    return _Row(line, data, history), []


def import_csv(store: Store, session: Session, raw: bytes, now: Now, *, dry_run: bool) -> ImportReport:
    """Import the valid rows that are not duplicates; report the others by line and column."""
    rows, errors, ignored = parse(raw)
    existing = {
        duplicate_key(a.company, a.role, a.applied_on) for a in store.all_applications(session.user_id, session)
    }
    duplicates = 0
    new: list[Application] = []
    for row in rows:
        key = duplicate_key(row.data.company, row.data.role, row.data.applied_on)
        if key in existing:
            duplicates += 1
            continue
        existing.add(key)
        new.append(
            Application.model_validate(
                {
                    **row.data.model_dump(),
                    "id": ids.new_id(now.ms),
                    "created_at": now.iso,
                    "updated_at": now.iso,
                    "version": 1,
                    "status_history": row.history or [StatusChange(status=row.data.status, at=now.iso)],
                }
            )
        )
    if not dry_run:
        store.add_applications(session.user_id, new, session)
    return ImportReport(
        created=len(new),
        duplicates=duplicates,
        errors=errors[:MAX_ERRORS],
        errors_total=len(errors),
        dry_run=dry_run,
        ignored_columns=ignored,
    )
