"""Job Hunt Tracker API: the route table. Each route parses its input, calls one use case and
returns what it gives; the pipeline around it (configuration, auth, errors, CORS, logs) is
chalicelib/web.py."""

from __future__ import annotations

from typing import Any

from chalice.app import Rate

from chalicelib import __version__, inputs, tracker
from chalicelib.auth import sign_in_with_google
from chalicelib.errors import NotFound
from chalicelib.models import (
    AgendaPage,
    Application,
    ApplicationData,
    ApplicationPage,
    ApplicationPatch,
    CalendarFeed,
    Health,
    Interview,
    InterviewData,
    InterviewList,
    InterviewPatch,
    Unhealthy,
    UserPatch,
)
from chalicelib.ratelimit import check_sign_in
from chalicelib.web import Api, Call, Response, configuration, etag, json_response, log_user, no_content, request_now

api = Api("job-hunt-tracker-api")
app = api.app


@app.route("/health")
def health() -> Response:
    """Liveness: the configuration is valid (no network); never a secret's value."""
    config = configuration()
    if not config.ok:
        return json_response(
            Unhealthy(
                status="unhealthy", problems=list(config.problems), stage=config.loaded.stage, version=__version__
            ),
            503,
        )
    stage = config.loaded.stage or "unknown"
    return json_response(Health(status="healthy", timestamp=request_now().iso, stage=stage, version=__version__))


@app.route("/health/ready")
def health_ready() -> Response:
    """Readiness: configuration, secret, storage and Google's certs each checked (chalicelib/readiness.py)."""
    from chalicelib import readiness  # imported here: only this route pays for what it checks

    result = readiness.check(configuration().loaded)
    return json_response(result.body(), result.status)


@api.route("/auth/google", ("POST",))
def auth_google(call: Call) -> Any:
    limit = call.settings.signin_rate_limit_per_minute
    check_sign_in(call.store, secret=call.secret, client_ip=call.client_ip, limit=limit, now=call.now.seconds)
    body = call.json_body('{"credential": "<Google ID token>"}')
    result = sign_in_with_google(call.settings, call.secret, call.store, body, call.now)
    log_user(call.secret, result.user.id)
    return result


@api.route("/auth/logout", ("POST",), auth=True)
def sign_out(call: Call) -> Response:
    everywhere = inputs.sign_out_everywhere(call.request.raw_body)
    tracker.sign_out(call.store, call.session, expires_at=call.user.expires_at, everywhere=everywhere, now=call.now)
    return no_content()


@api.route("/api/user", auth=True)
def read_user(call: Call) -> Any:
    return tracker.profile(call.store, call.session)


@api.route("/api/user", ("PATCH",), auth=True)
def update_user(call: Call) -> Any:
    patch = UserPatch.model_validate(inputs.json_object(call.json_body(), "user settings"))
    return tracker.update_settings(call.store, call.session, patch, call.now)


@api.route("/api/user", ("DELETE",), auth=True)
def delete_user(call: Call) -> Response:
    tracker.delete_account(call.store, call.session)
    return no_content()


def _application(call: Call, app: Application, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    headers = {"ETag": etag(app.id, app.version), **(headers or {})}
    if status == 201:
        headers["Location"] = call.location(f"/api/applications/{app.id}")
    return json_response(app, status, headers)


@api.route("/api/applications", ("POST",), auth=True)
def create_application(call: Call) -> Response:
    key = inputs.idempotency_key(call.header("Idempotency-Key"))
    data = ApplicationData.model_validate(inputs.json_object(call.json_body(), "application fields"))
    app, replayed = tracker.create_application(call.store, call.session, data, call.now, key)
    return _application(call, app, 201, {"Idempotent-Replayed": "true"} if replayed else None)


@api.route("/api/applications", auth=True)
def list_applications(call: Call) -> Any:
    flt, limit, cursor, query = inputs.list_query(call.query, call.now.date)
    cursors = inputs.Cursors(call.secret)
    after_id = cursors.decode(call.user.user_id, query, cursor) if cursor else None
    page = tracker.list_applications(call.store, call.session, flt, limit, after_id, call.now)
    last = page.items[-1].id if page.has_more and page.items else None
    return ApplicationPage(
        items=list(page.items), next_cursor=cursors.encode(call.user.user_id, query, last) if last else None
    )


@api.route("/api/applications/stats", auth=True)
def application_stats(call: Call) -> Any:
    return tracker.stats(call.store, call.session, call.now)


@api.route("/api/applications/{app_id}", auth=True)
def read_application(call: Call, app_id: str) -> Response:
    return _application(call, tracker.get_application(call.store, call.session, app_id))


@api.route("/api/applications/{app_id}", ("PATCH",), auth=True)
def update_application(call: Call, app_id: str) -> Response:
    expect = inputs.if_match(call.header("If-Match"))
    patch = ApplicationPatch.model_validate(inputs.json_object(call.json_body(), "application fields"))
    return _application(call, tracker.update_application(call.store, call.session, app_id, patch, expect, call.now))


@api.route("/api/applications/{app_id}", ("DELETE",), auth=True)
def delete_application(call: Call, app_id: str) -> Response:
    tracker.delete_application(call.store, call.session, app_id, inputs.if_match(call.header("If-Match")))
    return no_content()


def _interview(call: Call, interview: Interview, status: int = 200) -> Response:
    headers = {"ETag": etag(interview.id, interview.version)}
    if status == 201:
        path = f"/api/applications/{interview.application_id}/interviews/{interview.id}"
        headers["Location"] = call.location(path)
    return json_response(interview, status, headers)


@api.route("/api/applications/{app_id}/interviews", ("POST",), auth=True)
def create_interview(call: Call, app_id: str) -> Response:
    data = InterviewData.model_validate(inputs.json_object(call.json_body(), "interview fields"))
    return _interview(call, tracker.create_interview(call.store, call.session, app_id, data, call.now), 201)


@api.route("/api/applications/{app_id}/interviews", auth=True)
def list_interviews(call: Call, app_id: str) -> Any:
    return InterviewList(items=tracker.list_interviews(call.store, call.session, app_id))


@api.route("/api/applications/{app_id}/interviews/{interview_id}", auth=True)
def read_interview(call: Call, app_id: str, interview_id: str) -> Response:
    return _interview(call, tracker.get_interview(call.store, call.session, app_id, interview_id))


@api.route("/api/applications/{app_id}/interviews/{interview_id}", ("PATCH",), auth=True)
def update_interview(call: Call, app_id: str, interview_id: str) -> Response:
    expect = inputs.if_match(call.header("If-Match"))
    patch = InterviewPatch.model_validate(inputs.json_object(call.json_body(), "interview fields"))
    updated = tracker.update_interview(call.store, call.session, app_id, interview_id, patch, expect, call.now)
    return _interview(call, updated)


@api.route("/api/applications/{app_id}/interviews/{interview_id}", ("DELETE",), auth=True)
def delete_interview(call: Call, app_id: str, interview_id: str) -> Response:
    expect = inputs.if_match(call.header("If-Match"))
    tracker.delete_interview(call.store, call.session, app_id, interview_id, expect)
    return no_content()


@api.route("/api/interviews", auth=True)
def agenda(call: Call) -> Any:
    start, end, limit, cursor, query = inputs.agenda_query(call.query)
    cursors = inputs.Cursors(call.secret)
    after = cursors.decode_agenda(call.user.user_id, query, cursor) if cursor else None
    page = tracker.agenda(call.store, call.session, start, end, limit, after, call.now)
    last = page.items[-1] if page.has_more and page.items else None
    next_cursor = cursors.encode_agenda(call.user.user_id, query, (last.starts_at, last.id)) if last else None
    return AgendaPage(items=list(page.items), next_cursor=next_cursor)


@api.route("/api/export", auth=True)
def export_data(call: Call) -> Response:
    from chalicelib import transfer  # imported here: only this route pays for it (csv, html, the mailer...)

    fmt = inputs.export_format(call.query)
    day = call.now.iso[:10]
    if fmt == "csv":
        text = transfer.export_csv(call.store, call.session)
        headers: dict[str, str | list[str]] = {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="job-hunt-applications-{day}.csv"',
            "Cache-Control": "no-store",
        }
        return Response(body=text, status_code=200, headers=headers)
    disposition = {"Content-Disposition": f'attachment; filename="job-hunt-export-{day}.json"'}
    return json_response(transfer.export_json(call.store, call.session, call.now), 200, disposition)


# application/json too (chalice's default when no Content-Type is sent): the token is checked first,
# then inputs.csv_content_type answers 415 for anything but text/csv.
@api.route("/api/import", ("POST",), auth=True, content_types=("text/csv", "application/json"))
def import_data(call: Call) -> Any:
    from chalicelib import transfer

    inputs.csv_content_type(call.header("Content-Type"))
    dry_run = inputs.import_query(call.query)
    raw = inputs.csv_body(call.request.raw_body)
    return transfer.import_csv(call.store, call.session, raw, call.now, dry_run=dry_run)


@api.route("/api/calendar", ("POST",), auth=True)
def create_calendar_feed(call: Call) -> Response:
    from chalicelib import calendar_feed

    secret = calendar_feed.create(call.store, call.session)
    return json_response(CalendarFeed(url=call.url(f"/calendar/{secret}.ics")), 201)


@api.route("/api/calendar", ("DELETE",), auth=True)
def delete_calendar_feed(call: Call) -> Response:
    from chalicelib import calendar_feed

    calendar_feed.delete(call.store, call.session)
    return no_content()


@api.route("/calendar/{feed}")
def read_calendar_feed(call: Call, feed: str) -> Response:
    from chalicelib import calendar_feed

    secret = inputs.feed_secret(feed)
    if secret is None:
        raise NotFound("A calendar feed's address ends in .ics.", field="feed")
    found = calendar_feed.read(call.store, secret)
    headers: dict[str, str | list[str]] = {"ETag": found.etag, "Cache-Control": "private, no-cache"}
    if inputs.if_none_match(call.header("If-None-Match"), found.etag):
        return Response(body="", status_code=304, headers=headers)
    return Response(
        body=found.body.decode(), status_code=200, headers={"Content-Type": "text/calendar; charset=utf-8", **headers}
    )


# One-click unsubscribe (RFC 8058): the link in each reminder's List-Unsubscribe header. No bearer
# token: the signed per-person token in the path is the authority. Mail providers POST it
# form-encoded ("List-Unsubscribe=One-Click"); a person who opens it gets a page whose button POSTs.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain")
_PAGE_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


@api.route("/reminders/unsubscribe/{token}")
def unsubscribe_page(call: Call, token: str) -> Response:
    from chalicelib import reminders

    reminders.unsubscribe(call.store, call.secret, token, call.now, check_only=True)
    return Response(body=reminders.UNSUBSCRIBE_PAGE.format(body=reminders.ASK), status_code=200, headers=_PAGE_HEADERS)


@api.route("/reminders/unsubscribe/{token}", ("POST",), content_types=_FORMS)
def unsubscribe(call: Call, token: str) -> Response:
    from chalicelib import reminders

    reminders.unsubscribe(call.store, call.secret, token, call.now)
    return Response(body=reminders.UNSUBSCRIBE_PAGE.format(body=reminders.DONE), status_code=200, headers=_PAGE_HEADERS)


@app.schedule(Rate(1, unit=Rate.HOURS), name="send_reminders")
def send_reminders(event: Any) -> None:
    """Hourly: e-mail everyone whose reminder hour it is (chalicelib/reminders.py)."""
    from chalicelib import reminders

    reminders.scheduled_pass()


@api.route("/docs")
def interactive_docs(call: Call) -> Response:
    """Swagger UI for /openapi.json (SERVE_DOCS); its assets are vendored, not from a CDN."""
    from chalicelib import docs

    if not call.settings.docs_served:
        raise NotFound("The interactive docs are not served on this stage (SERVE_DOCS); see /openapi.json.")
    return Response(body=docs.PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@api.route("/docs/{asset}")
def interactive_docs_asset(call: Call, asset: str) -> Response:
    from chalicelib import docs

    found = docs.asset(asset) if call.settings.docs_served else None
    if found is None:
        raise NotFound(f"No docs asset {asset[:40]!r}.", field="asset")
    text, content_type = found
    return Response(body=text, status_code=200, headers={"Content-Type": content_type, "Cache-Control": "max-age=3600"})


_openapi_document = None


@app.route("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document, generated from this route table and the models on first request."""
    global _openapi_document
    if _openapi_document is None:
        from chalicelib import openapi  # imported here: cold starts do not pay for schema generation

        _openapi_document = openapi.document(app.routes)
    return json_response(_openapi_document)


api.add_preflights()
