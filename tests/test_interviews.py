"""Interviews, the agenda, contacts and the person's time zone, through the test client, on both stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from chalice.test import Client

from local_google.issuer import GoogleIssuer
from tests.conftest import body
from tests.test_applications import Api, create, signed_in

OTHER_ID = "01KBX7Q3ZJ8W2N5V4R6T9Y0M1C"


@pytest.fixture
def api(both_stores: Client, issuer: GoogleIssuer) -> Api:
    return signed_in(both_stores, issuer)


def add(api: Api, app_id: str, **fields: Any) -> dict[str, Any]:
    response = api(
        "POST",
        f"/api/applications/{app_id}/interviews",
        {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", **fields},
    )
    assert response.status_code == 201, response.body
    return body(response)  # type: ignore[no-any-return]


def errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.body
    return {e["field"]: e["message"] for e in body(response)["errors"]}


# ---- one application's interviews ----------------------------------------------------------------


def test_create_read_list_in_utc_and_by_start(api: Api) -> None:
    app = create(api, company="Acme", role="Engineer")
    response = api(
        "POST",
        f"/api/applications/{app['id']}/interviews",
        {
            "kind": "onsite",
            "starts_at": "2026-12-04T09:30:00+01:00",
            "location": "Berlin office",
            "meeting_url": "https://meet.example/abc",
            "interviewers": ["Sam", " Kim "],
            "notes": "bring laptop",
        },
    )
    assert response.status_code == 201, response.body
    onsite = body(response)
    assert response.headers["Location"] == f"/api/applications/{app['id']}/interviews/{onsite['id']}"
    assert response.headers["ETag"] == f'"{onsite["id"]}.1"'
    assert onsite["starts_at"] == "2026-12-04T08:30:00.000Z"
    assert onsite["application_id"] == app["id"] and onsite["version"] == 1
    assert (onsite["duration_minutes"], onsite["outcome"], onsite["interviewers"]) == (60, "pending", ["Sam", "Kim"])
    assert onsite["created_at"] == onsite["updated_at"]
    earlier = add(api, app["id"], kind="recruiter_call", starts_at="2026-12-01T23:00:00-05:00")
    assert earlier["starts_at"] == "2026-12-02T04:00:00.000Z"
    read = api("GET", response.headers["Location"])
    assert read.status_code == 200 and body(read) == onsite and read.headers["ETag"] == f'"{onsite["id"]}.1"'
    listed = api("GET", f"/api/applications/{app['id']}/interviews")
    assert listed.status_code == 200
    assert [i["id"] for i in body(listed)["items"]] == [earlier["id"], onsite["id"]]


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"starts_at": "2026-12-03T14:00:00Z"}, "kind", "Field required"),
        ({"kind": "technical"}, "starts_at", "Field required"),
        ({"kind": "lunch", "starts_at": "2026-12-03T14:00:00Z"}, "kind", "recruiter_call"),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00"}, "starts_at", "with an offset"),
        ({"kind": "technical", "starts_at": "2026-12-03"}, "starts_at", "with an offset"),
        ({"kind": "technical", "starts_at": "2026-02-30T14:00:00Z"}, "starts_at", "not a valid date-time"),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "duration_minutes": 4}, "duration_minutes", "5"),
        (
            {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "duration_minutes": 1441},
            "duration_minutes",
            "1440",
        ),
        (
            {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "meeting_url": "ftp://x.example"},
            "meeting_url",
            "http",
        ),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "location": "x" * 201}, "location", "200"),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "notes": "x" * 10_001}, "notes", "10000"),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "interviewers": ["a"] * 11}, "interviewers", "10"),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "interviewers": [""]}, "interviewers.0", "1"),
        ({"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "outcome": "won"}, "outcome", "pending"),
        (
            {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z", "room": "4"},
            "room",
            "not a field of an interview",
        ),
    ],
)
def test_invalid_interviews_get_422_naming_the_field(
    both_stores: Client, issuer: GoogleIssuer, payload: Any, field: str, words: str
) -> None:
    api = signed_in(both_stores, issuer)
    app = create(api)
    found = errors(api("POST", f"/api/applications/{app['id']}/interviews", payload))
    assert field in found and words in found[field], found


def test_patch_and_delete_follow_the_etag_rules(api: Api) -> None:
    app = create(api)
    interview = add(api, app["id"])
    path = f"/api/applications/{app['id']}/interviews/{interview['id']}"
    v1 = f'"{interview["id"]}.1"'
    changed = api("PATCH", path, {"outcome": "passed", "notes": "went well"}, {"If-Match": v1})
    assert changed.status_code == 200, changed.body
    assert body(changed)["outcome"] == "passed" and body(changed)["version"] == 2
    assert changed.headers["ETag"] == f'"{interview["id"]}.2"'
    stale = api("PATCH", path, {"outcome": "failed"}, {"If-Match": v1})
    assert stale.status_code == 412 and stale.headers["ETag"] == f'"{interview["id"]}.2"'
    assert "interview changed" in body(stale)["message"]
    assert errors(api("PATCH", path, {"kind": None}))["kind"] == "kind cannot be null"
    assert errors(api("PATCH", path, {"duration_minutes": 2}))["duration_minutes"]
    unchanged = api("PATCH", path, {"outcome": "passed"})
    assert unchanged.status_code == 200 and body(unchanged)["version"] == 2
    assert api("DELETE", path, headers={"If-Match": v1}).status_code == 412
    assert api("GET", path).status_code == 200
    assert api("DELETE", path, headers={"If-Match": f'"{interview["id"]}.2"'}).status_code == 204
    gone = api("GET", path)
    assert gone.status_code == 404 and body(gone)["field"] == "interview_id"
    assert api("DELETE", path).status_code == 404
    assert api("PATCH", path, {"notes": "x"}).status_code == 404


def test_another_users_or_a_missing_interview_is_404(both_stores: Client, issuer: GoogleIssuer) -> None:
    owner = signed_in(both_stores, issuer)
    intruder = signed_in(both_stores, issuer, sub="intruder")
    app = create(owner)
    interview = add(owner, app["id"])
    mine = create(intruder)
    paths = [
        f"/api/applications/{app['id']}/interviews/{interview['id']}",  # another user's application
        f"/api/applications/{mine['id']}/interviews/{interview['id']}",  # another application's interview
    ]
    for path in paths:
        for method, payload in (("GET", None), ("PATCH", {"notes": "x"}), ("DELETE", None)):
            response = intruder(method, path, payload)
            assert response.status_code == 404, (method, path, response.body)
    assert intruder("GET", f"/api/applications/{app['id']}/interviews").status_code == 404
    assert (
        intruder(
            "POST", f"/api/applications/{app['id']}/interviews", {"kind": "other", "starts_at": "2026-12-03T14:00:00Z"}
        ).status_code
        == 404
    )
    assert body(intruder("GET", "/api/interviews?from=2026-01-01&to=2027-01-01"))["items"] == []
    for bad in ("nope", OTHER_ID):
        response = owner("GET", f"/api/applications/{app['id']}/interviews/{bad}")
        assert response.status_code == 404 and body(response)["field"] == "interview_id"
        response = owner("GET", f"/api/applications/{bad}/interviews/{interview['id']}")
        assert response.status_code == 404 and body(response)["field"] == "id"
    assert body(owner("GET", f"/api/applications/{app['id']}/interviews/{interview['id']}"))["notes"] is None


def test_at_most_50_interviews_per_application(api: Api) -> None:
    app = create(api)
    for n in range(50):
        add(api, app["id"], starts_at=f"2026-12-{1 + n % 28:02d}T{n % 24:02d}:00:00Z")
    refused = api(
        "POST", f"/api/applications/{app['id']}/interviews", {"kind": "final", "starts_at": "2026-12-31T10:00:00Z"}
    )
    assert refused.status_code == 409 and body(refused)["field"] == "interviews"
    assert len(body(api("GET", f"/api/applications/{app['id']}/interviews"))["items"]) == 50
    other = create(api)
    add(api, other["id"])  # the limit is per application
    # Deleting the application deletes its 50 interviews (more than one DynamoDB transaction holds).
    assert api("DELETE", f"/api/applications/{app['id']}").status_code == 204
    agenda = body(api("GET", "/api/interviews?from=2026-12-01&to=2027-01-01&limit=100"))["items"]
    assert [i["application_id"] for i in agenda] == [other["id"]]


# ---- the agenda -----------------------------------------------------------------------------------


def test_agenda_window_order_company_role_and_pages(api: Api) -> None:
    acme = create(api, company="Acme", role="Engineer")
    globex = create(api, company="Globex", role="SRE")
    a1 = add(api, acme["id"], starts_at="2026-12-03T09:00:00Z")
    g1 = add(api, globex["id"], starts_at="2026-12-03T08:00:00Z")
    g2 = add(api, globex["id"], starts_at="2026-12-10T00:00:00Z")  # exactly at `to`: left out
    add(api, acme["id"], starts_at="2026-11-30T23:59:59Z")  # before `from`: left out
    a2 = add(api, acme["id"], starts_at="2026-12-01T00:00:00Z")  # exactly at `from`: in
    response = api("GET", "/api/interviews?from=2026-12-01T00:00:00Z&to=2026-12-10T00:00:00Z")
    assert response.status_code == 200, response.body
    items = body(response)["items"]
    assert [i["id"] for i in items] == [a2["id"], g1["id"], a1["id"]]
    assert [(i["company"], i["role"]) for i in items] == [("Acme", "Engineer"), ("Globex", "SRE"), ("Acme", "Engineer")]
    assert items[1] == {**g1, "company": "Globex", "role": "SRE"}
    assert body(response)["next_cursor"] is None
    # Pages of one, with the cursor bound to the window.
    seen, cursor = [], None
    while True:
        query = "/api/interviews?from=2026-12-01T00:00:00Z&to=2026-12-10T00:00:00Z&limit=1"
        page = body(api("GET", query + (f"&cursor={cursor}" if cursor else "")))
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [a2["id"], g1["id"], a1["id"]]
    first = body(api("GET", "/api/interviews?from=2026-12-01T00:00:00Z&to=2026-12-10T00:00:00Z&limit=1"))
    moved = api("GET", f"/api/interviews?from=2026-12-02&limit=1&cursor={first['next_cursor']}")
    assert moved.status_code == 400 and body(moved)["field"] == "cursor"
    # A rename reaches the agenda; a new starts_at moves the interview; a deleted application leaves it.
    assert api("PATCH", f"/api/applications/{globex['id']}", {"company": "Globex Corp"}).status_code == 200
    path = f"/api/applications/{acme['id']}/interviews/{a2['id']}"
    assert api("PATCH", path, {"starts_at": "2026-12-09T12:00:00+02:00"}).status_code == 200
    later = body(api("GET", "/api/interviews?from=2026-12-01&to=2026-12-11"))["items"]
    assert [(i["id"], i["company"]) for i in later] == [
        (g1["id"], "Globex Corp"),
        (a1["id"], "Acme"),
        (a2["id"], "Acme"),
        (g2["id"], "Globex Corp"),
    ]
    assert later[2]["starts_at"] == "2026-12-09T10:00:00.000Z"
    assert api("DELETE", f"/api/applications/{globex['id']}").status_code == 204
    assert [i["id"] for i in body(api("GET", "/api/interviews?from=2026-12-01&to=2026-12-11"))["items"]] == [
        a1["id"],
        a2["id"],
    ]
    assert api("GET", f"/api/applications/{globex['id']}/interviews/{g1['id']}").status_code == 404


def test_agenda_defaults_to_the_next_14_days_and_dates_are_the_persons(api: Api) -> None:
    app = create(api)
    now = dt.datetime.now(dt.UTC)
    soon = add(api, app["id"], starts_at=(now + dt.timedelta(days=13, hours=23)).isoformat())
    add(api, app["id"], starts_at=(now + dt.timedelta(days=14, minutes=5)).isoformat())
    add(api, app["id"], starts_at=(now - dt.timedelta(minutes=5)).isoformat())
    assert [i["id"] for i in body(api("GET", "/api/interviews"))["items"]] == [soon["id"]]
    # A date bound is midnight where the person is: 23:30 UTC on Jun 1 is Jun 2 in Berlin.
    late = add(api, app["id"], starts_at="2030-06-01T23:30:00Z")
    window = "/api/interviews?from=2030-06-02&to=2030-06-03"
    assert body(api("GET", window))["items"] == []
    assert api("PATCH", "/api/user", {"timezone": "Europe/Berlin"}).status_code == 200
    assert [i["id"] for i in body(api("GET", window))["items"]] == [late["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("from=2026-12-01&to=2026-12-01", "to"),
        ("from=yesterday", "from"),
        ("to=2026-12-01T10:00:00", "to"),
        ("from=2026-02-30", "from"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=abc.def", "cursor"),
        ("from=2026-12-01&from=2026-12-02", "from"),
        ("when=today", "when"),
    ],
)
def test_agenda_query_errors_name_the_parameter(
    both_stores: Client, issuer: GoogleIssuer, query: str, field: str
) -> None:
    response = signed_in(both_stores, issuer)("GET", f"/api/interviews?{query}")
    assert response.status_code == 400, response.body
    assert body(response)["field"] == field


# ---- contacts and the time zone -------------------------------------------------------------------


def test_contacts_are_kept_validated_and_searchable(api: Api) -> None:
    sam = {"name": "Sam Åberg", "role": "Recruiter", "email": "Sam@Acme.example", "phone": "+49 30 1234"}
    acme = create(api, company="Acme", contacts=[sam, {"name": "Kim", "linkedin_url": "https://linkedin.com/in/kim"}])
    assert acme["contacts"][0] == {**sam, "linkedin_url": None, "notes": None}
    create(api, company="Globex", contacts=[{"name": "Lee", "email": "lee@globex.example"}])
    create(api, company="Initech")
    for text, companies in (
        ("åBERG", ["Acme"]),
        ("acme.EXAMPLE", ["Acme"]),
        ("kim", ["Acme"]),
        ("e", ["Globex", "Acme"]),
        ("zed", []),
    ):
        response = api("GET", f"/api/applications?contact={text}")
        assert response.status_code == 200, response.body
        assert [a["company"] for a in body(response)["items"]] == companies, text
    assert api("GET", "/api/applications?contact=").status_code == 400
    assert api("GET", "/api/applications?contact=a%0Ab").status_code == 400
    found = errors(
        api(
            "POST",
            "/api/applications",
            {
                "company": "X",
                "role": "Y",
                "contacts": [
                    {
                        "role": "HR",
                        "email": "nope",
                        "phone": "1" * 41,
                        "linkedin_url": "linkedin.com/x",
                        "notes": "n" * 2001,
                    }
                ],
            },
        )
    )
    assert set(found) == {
        "contacts.0.name",
        "contacts.0.email",
        "contacts.0.phone",
        "contacts.0.linkedin_url",
        "contacts.0.notes",
    }
    assert "contacts" in errors(
        api("POST", "/api/applications", {"company": "X", "role": "Y", "contacts": [{"name": "a"}] * 21})
    )
    patched = api("PATCH", f"/api/applications/{acme['id']}", {"contacts": []})
    assert patched.status_code == 200 and body(patched)["contacts"] == []
    assert body(api("GET", "/api/applications?contact=sam"))["items"] == []


def test_the_time_zone_is_set_read_and_validated(api: Api) -> None:
    assert body(api("GET", "/api/user"))["timezone"] == "UTC"
    changed = api("PATCH", "/api/user", {"timezone": "America/Argentina/Buenos_Aires"})
    assert changed.status_code == 200 and body(changed)["timezone"] == "America/Argentina/Buenos_Aires"
    assert body(api("GET", "/api/user"))["timezone"] == "America/Argentina/Buenos_Aires"
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "", 7):
        assert "timezone" in errors(api("PATCH", "/api/user", {"timezone": bad})), bad
    assert "body" in errors(api("PATCH", "/api/user", {}))  # neither timezone nor reminders
    assert (
        errors(api("PATCH", "/api/user", {"timezone": "UTC", "email": "x@y.z"}))["email"]
        == "is not a field of the user settings"
    )
    assert body(api("GET", "/api/user"))["timezone"] == "America/Argentina/Buenos_Aires"


def test_deleting_the_account_deletes_its_interviews(both_stores: Client, issuer: GoogleIssuer) -> None:
    api = signed_in(both_stores, issuer)
    app = create(api)
    add(api, app["id"])
    assert api("DELETE", "/api/user").status_code == 204
    again = signed_in(both_stores, issuer)
    assert body(again("GET", "/api/interviews?from=2026-01-01&to=2027-01-01"))["items"] == []
    assert body(again("GET", "/api/applications/stats"))["interviews"]["total"] == 0
