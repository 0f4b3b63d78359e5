"""GET /openapi.json: a valid OpenAPI 3.1 document, generated from the route table and the models."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import BaseModel

import app as app_module
from chalicelib import __version__, errors, models, openapi, schemas
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, ROOT, body
from tests.test_applications import api_for, create, signed_in

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SOME_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def served(client: Client) -> dict[str, Any]:
    response = client.http.get("/openapi.json", headers={"Origin": ALLOWED})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    return body(response)  # type: ignore[no-any-return]


@pytest.fixture
def doc(client: Client) -> dict[str, Any]:
    return served(client)


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return doc["components"]["schemas"][ref.removeprefix("#/components/schemas/")]  # type: ignore[no-any-return]


def content_schema(doc: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    return resolve(doc, part["content"]["application/json"]["schema"])


def model_schema(doc: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """The model's own (validation) JSON Schema, whose definitions the document must hold too."""
    schema = model.model_json_schema(ref_template=openapi.REF_TEMPLATE, schema_generator=openapi._Schemas)
    components = doc["components"]["schemas"]
    text = json.dumps(schema)
    for name in schema.get("$defs", {}):
        if name not in components:  # a model both sent and received, whose two schemas differ, is named per mode
            text = text.replace(f'"#/components/schemas/{name}"', f'"#/components/schemas/{name}-Input"')
    schema = json.loads(text)
    for name, definition in schema.pop("$defs", {}).items():
        found = components.get(name) or {**components[f"{name}-Input"], "title": definition.get("title")}
        assert found == definition  # (a per-mode schema's title names its mode: ContactInput)
    return dict(schema)


def test_the_served_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    OpenAPIV31SpecValidator(doc).validate()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["version"] == __version__


def test_every_chalice_route_but_the_preflights_is_an_operation_and_nothing_else_is(doc: dict[str, Any]) -> None:
    routed = {(path, method.lower()) for path, methods in app_module.app.routes.items() for method in methods}
    documented = {(path, method) for path, method, _ in operations(doc)}
    assert documented == {(path, method) for path, method in routed if method != "options"}
    assert {method for _, method, _ in operations(doc)} <= HTTP_METHODS - {"options"}  # the browser's, not a client's
    assert ("/openapi.json", "get") in documented and ("/openapi.json", "options") in routed
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for path, method, op in operations(doc):
        assert op["operationId"] == app_module.app.routes[path][method.upper()].view_name
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(app_module.app.routes[path][method.upper()].view_args), (path, method)


def test_the_bearer_scheme_guards_exactly_the_routes_that_answer_401_without_a_token(
    client: Client, doc: dict[str, Any]
) -> None:
    assert doc["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access_token` POST /auth/google returns.",
        }
    }
    for path, method, op in operations(doc):
        response = getattr(client.http, method)(path.replace("{app_id}", SOME_ID).replace("{interview_id}", SOME_ID))
        if op["security"]:  # every operation says, public ones with [] (so no default can apply)
            assert op["security"] == [{"bearerAuth": []}]
            assert response.status_code == 401, (path, method)
            assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
            assert response.headers["WWW-Authenticate"].startswith('Bearer realm="job-hunt-tracker"')
        else:
            assert response.status_code != 401, (path, method)
    assert {(path, method) for path, method, op in operations(doc) if op["security"]} == {
        ("/auth/logout", "post"),
        ("/api/user", "get"),
        ("/api/user", "delete"),
        ("/api/applications", "get"),
        ("/api/applications", "post"),
        ("/api/applications/stats", "get"),
        ("/api/applications/{app_id}", "get"),
        ("/api/applications/{app_id}", "patch"),
        ("/api/applications/{app_id}", "delete"),
        ("/api/user", "patch"),
        ("/api/applications/{app_id}/interviews", "get"),
        ("/api/applications/{app_id}/interviews", "post"),
        ("/api/applications/{app_id}/interviews/{interview_id}", "get"),
        ("/api/applications/{app_id}/interviews/{interview_id}", "patch"),
        ("/api/applications/{app_id}/interviews/{interview_id}", "delete"),
        ("/api/interviews", "get"),
        ("/api/export", "get"),
        ("/api/import", "post"),
        ("/api/calendar", "post"),
        ("/api/calendar", "delete"),
    }


def test_every_operation_lists_the_error_shape(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["additionalProperties"] is False
    assert error["required"] == ["error", "message", "detail"]
    assert set(error["properties"]) == {"error", "message", "detail", "field", "errors"}
    assert resolve(doc, error["properties"]["detail"]["anyOf"][1]["items"])["required"] == ["loc", "msg", "type"]
    assert resolve(doc, error["properties"]["errors"]["items"])["required"] == ["field", "message"]
    for path, method, op in operations(doc):
        shapes = {
            status: r["content"]["application/json"]["schema"].get("$ref")
            for status, r in op["responses"].items()
            if int(status) >= 400 and "content" in r
        }
        assert "#/components/schemas/ErrorBody" in shapes.values(), (path, method)
        assert "415" in op["responses"], (path, method)  # Chalice refuses a non-JSON Content-Type on every route
        guarded = path not in ("/health", "/health/ready", "/openapi.json")
        answers_503 = guarded or (path, method) in {("/health", "get"), ("/health/ready", "get")}
        assert ("503" in op["responses"]) == answers_503, (path, method)


def test_the_status_codes_the_brief_names(doc: dict[str, Any]) -> None:
    def codes(path: str, method: str) -> set[int]:
        return {int(s) for s in doc["paths"][path][method]["responses"]}

    assert codes("/health", "get") == {200, 415, 503}
    assert codes("/auth/google", "post") == {200, 400, 401, 415, 429, 503}
    assert {201, 400, 401, 422} <= codes("/api/applications", "post")
    assert {200, 400, 401} <= codes("/api/applications", "get")
    assert {200, 401, 404, 409, 412, 422} <= codes("/api/applications/{app_id}", "patch")
    assert {204, 401, 404, 412} <= codes("/api/applications/{app_id}", "delete")
    assert codes("/api/user", "delete") == {204, 401, 415, 503}
    created = doc["paths"]["/api/applications"]["post"]["responses"]["201"]["headers"]
    assert created["Location"]["required"] and created["ETag"]["required"]
    for method in ("patch", "delete"):
        params = doc["paths"]["/api/applications/{app_id}"][method]["parameters"]
        assert {"name": "If-Match", "in": "header"}.items() <= next(p for p in params if p["in"] == "header").items()
    names = {p["name"] for p in doc["paths"]["/api/applications"]["get"]["parameters"]}
    assert names == {"limit", "cursor", "status", "tag", "q", "follow_up_due", "contact"}
    signin = doc["paths"]["/auth/google"]["post"]["responses"]
    assert signin["429"]["headers"]["Retry-After"]["required"] is True
    assert signin["503"]["headers"]["Retry-After"]["required"] is False  # only when Google's certs are unavailable


def test_schemas_are_the_models_schemas(doc: dict[str, Any]) -> None:
    create_schema = content_schema(doc, doc["paths"]["/api/applications"]["post"]["requestBody"])
    assert create_schema["additionalProperties"] is False
    assert sorted(create_schema["required"]) == ["company", "role"]
    assert create_schema == model_schema(doc, models.ApplicationData)
    patch = content_schema(doc, doc["paths"]["/api/applications/{app_id}"]["patch"]["requestBody"])
    assert patch == model_schema(doc, models.ApplicationPatch)
    assert "required" not in patch and patch["additionalProperties"] is False
    assert doc["components"]["schemas"]["Status"]["enum"] == [s.value for s in models.Status]
    assert create_schema["properties"]["status"]["$ref"] == "#/components/schemas/Status"
    # A response schema lists what the API sends: the serialised fields, every one always present.
    application = content_schema(doc, doc["paths"]["/api/applications/{app_id}"]["get"]["responses"]["200"])
    assert list(application["properties"]) != [] and set(application["properties"]) == set(models.OUTPUT_ORDER)
    assert set(application["required"]) == set(models.OUTPUT_ORDER)
    assert application["additionalProperties"] is False
    page = content_schema(doc, doc["paths"]["/api/applications"]["get"]["responses"]["200"])
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Application"}
    user = content_schema(doc, doc["paths"]["/api/user"]["get"]["responses"]["200"])
    assert set(user["required"]) == set(models.UserRecord.model_fields)


def test_real_responses_are_what_the_models_say(client: Client, issuer: GoogleIssuer) -> None:
    """The models describing responses no class produces (pages, stats, errors) match the real ones."""
    health = client.http.get("/health")
    models.Health.model_validate_json(health.body, strict=True)
    signin = client.http.post(
        "/auth/google",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"credential": issuer.id_token()}),
    )
    token = models.AuthResponse.model_validate_json(signin.body).access_token
    api = api_for(client, token)
    created = create(api, status="applied", tags=["x"])
    assert models.Application.model_validate(created).model_dump(mode="json") == created
    models.ApplicationPage.model_validate_json(api("GET", "/api/applications?limit=1").body)
    stats = models.ApplicationStats.model_validate_json(api("GET", "/api/applications/stats").body)
    assert set(body(api("GET", "/api/applications/stats"))["by_status"]) == set(models.Status)
    assert stats.by_status.applied == 1
    models.UserRecord.model_validate_json(api("GET", "/api/user").body)
    failures = [
        api("GET", f"/api/applications/{SOME_ID}"),
        api("POST", "/api/applications", {"role": "x", "salary": 1}),
        api("POST", "/api/applications", "[]"),
        client.http.get("/api/user"),
        client.http.post("/api/applications", headers={"Content-Type": "text/plain"}, body="x"),
        client.http.post("/auth/google", headers={"Content-Type": "application/json"}, body="{}"),
    ]
    assert [f.status_code for f in failures] == [404, 422, 400, 401, 415, 400]
    for failure in failures:
        schemas.ErrorBody.model_validate_json(failure.body, strict=True)
    assert body(failures[1])["errors"]


@pytest.mark.parametrize(
    "error",
    [
        errors.BadRequest("m", field="body"),
        errors.Unauthorized("m"),
        errors.Unauthorized("m", error=None),
        errors.InvalidGoogleCredential("m"),
        errors.NotFound("m"),
        errors.ValidationFailed([{"field": "a", "message": "b"}]),
        errors.PreconditionFailed("m", field="If-Match"),
        errors.Conflict("m"),
        errors.ServiceUnavailable("m", retry_after=30, code=errors.ErrorCode.GOOGLE_CERTS_UNAVAILABLE),
    ],
)
def test_every_error_body_fits_the_error_shape(error: errors.ApiError) -> None:
    parsed = schemas.ErrorBody.model_validate_json(json.dumps(error.body()), strict=True)
    assert parsed.model_dump(mode="json", exclude_none=True) == error.body()


def test_unhealthy_fits_its_model(make_client: Any) -> None:
    response = make_client("dev", JWT_SECRET_KEY="short").http.get("/health")
    assert response.status_code == 503
    unhealthy = body(response)
    assert unhealthy["detail"] == "The API is misconfigured: " + "; ".join(unhealthy["problems"])
    del unhealthy["detail"]  # computed from the problems: not an input of the model
    models.Unhealthy.model_validate(unhealthy, strict=True)


def test_the_document_is_built_once(client: Client) -> None:
    first = served(client)
    assert app_module._openapi_document is not None
    assert served(client) == first


def test_a_route_or_entry_out_of_step_with_the_other_is_an_error() -> None:
    routes = dict(app_module.app.routes)
    with pytest.raises(ValueError, match=r"routes without an entry \[\('GET', '/new'\)\]"):
        openapi.document({**routes, "/new": {"GET": object()}})
    without_stats = {path: methods for path, methods in routes.items() if path != "/api/applications/stats"}
    with pytest.raises(ValueError, match=r"entries without a route \[\('GET', '/api/applications/stats'\)\]"):
        openapi.document(without_stats)
    with pytest.raises(ValueError, match=r"path parameter \{other\}"):
        openapi.document({**routes, "/x/{other}": {"OPTIONS": object()}})


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        ("import app", "chalicelib.openapi"),  # cold starts do not pay for schema generation
        ("import app", "chalicelib.schemas"),  # nor for the models only the document describes
        # nor for what one route needs: the import/export (csv), the feed, the reminders and their mailer
        ("import app", "chalicelib.transfer"),
        ("import app", "csv"),
        ("import app", "chalicelib.calendar_feed"),
        ("import app", "chalicelib.reminders"),
        ("import app", "chalicelib.mailer"),
        ("import app", "statistics"),
        ("import chalicelib.openapi", "chalice"),  # chalicelib stays chalice-free
    ],
)
def test_what_imports_what(code: str, absent: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print({absent!r} in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_the_document_is_the_same_for_every_caller(client: Client, issuer: GoogleIssuer) -> None:
    api = signed_in(client, issuer)
    assert body(api("GET", "/openapi.json")) == served(client)
