"""`make demo`: a demo person with a realistic job search, made through the API itself.

Signs in a demo person with a credential from the local Google stand-in's committed key (so any
API that trusts it works: `make run`'s dev stage), sets their time zone, and fills the tracker with
three dozen applications across every status — applied dates spread over the past weeks, tags,
sources, contacts, follow-ups due, interviews past and upcoming — then prints the access token and
a curl line to read it. Running it again adds nothing: it first looks for the demo's applications
(tagged `demo`), and every create carries an Idempotency-Key, so a run cut short and repeated
does not duplicate either.

    python -m local_google demo [--api http://localhost:8000] [--email demo@example.com]
"""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from local_google.dev import dev_issuer
from local_google.issuer import subject_for

COMPANIES = [
    ("Acme Robotics", "Backend Engineer"),
    ("Globex", "Platform Engineer"),
    ("Initech", "Python Developer"),
    ("Umbrella Health", "Data Engineer"),
    ("Stark Industries", "Site Reliability Engineer"),
    ("Wayne Fintech", "Senior Software Engineer"),
    ("Hooli", "API Engineer"),
    ("Pied Piper", "Full-Stack Engineer"),
    ("Vandelay Imports", "Software Engineer, Integrations"),
    ("Soylent Foods", "Backend Developer"),
    ("Tyrell Systems", "Machine Learning Engineer"),
    ("Cyberdyne", "DevOps Engineer"),
    ("Wonka Labs", "Software Engineer"),
    ("Oceanic Air", "Cloud Engineer"),
    ("Massive Dynamic", "Staff Engineer"),
    ("Nakatomi Trading", "Backend Engineer (Go/Python)"),
    ("Aperture Science", "Test Automation Engineer"),
    ("Black Mesa", "Infrastructure Engineer"),
    ("Gringotts Bank", "Payments Engineer"),
    ("Monsters Inc", "Data Platform Engineer"),
    ("Dunder Mifflin", "Python Engineer"),
    ("Bluth Company", "Software Developer"),
    ("Prestige Worldwide", "Backend Engineer"),
    ("Sterling Cooper", "Analytics Engineer"),
    ("Los Pollos Hermanos", "Engineering Manager"),
    ("Kramerica", "Junior Developer"),
    ("Duff Brewing", "IoT Engineer"),
    ("Krusty Krab", "Mobile Backend Engineer"),
    ("Zorg Industries", "Security Engineer"),
    ("Weyland-Yutani", "Principal Engineer"),
    ("Octan", "Software Engineer II"),
    ("Blue Sun", "Backend Engineer"),
    ("Wernham Hogg", "Python Contractor"),
    ("Ollivanders", "Developer Experience Engineer"),
    ("Rekall", "Search Engineer"),
    ("InGen", "Bioinformatics Engineer"),
]
SOURCES = ["LinkedIn", "Referral", "Company site", "Indeed", "Recruiter", "Hacker News"]
TAGS = ["python", "remote", "fintech", "startup", "big-tech", "aws", "health"]
# Where each application ends up, walking the stages in order (a rejection or a ghosting after some).
PATHS: list[list[str]] = [
    ["wishlist"],
    ["applied"],
    ["applied", "screening"],
    ["applied", "screening", "interviewing"],
    ["applied", "screening", "interviewing", "offer"],
    ["applied", "screening", "interviewing", "offer", "accepted"],
    ["applied", "rejected"],
    ["applied", "screening", "rejected"],
    ["applied", "screening", "interviewing", "rejected"],
    ["applied", "ghosted"],
    ["applied", "withdrawn"],
    ["applied", "interviewing"],
]
INTERVIEW_KINDS = ["recruiter_call", "phone_screen", "technical", "take_home", "onsite", "behavioral", "panel", "final"]


class DemoError(Exception):
    pass


@dataclass
class Api:
    base: str
    token: str | None = None

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310 - our own API
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                text = response.read().decode()
        except urllib.error.HTTPError as err:
            raise DemoError(f"{method} {path} answered {err.code}: {err.read().decode()[:300]}") from None
        except OSError as err:
            raise DemoError(f"cannot reach {self.base} ({err}); start the API first: make run") from None
        return json.loads(text) if text else None


def _pages(api: Api, path: str) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = api.call("GET", path + (f"&cursor={cursor}" if cursor else ""))
        yield from page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def populate(api_url: str, email: str, *, today: dt.date | None = None, seed: int = 2026) -> dict[str, Any]:
    """Sign the demo person in and fill their tracker (once); what a frontend developer needs to look at it."""
    today = today or dt.datetime.now(dt.UTC).date()
    api = Api(api_url.rstrip("/"))
    issuer = dev_issuer()
    credential = issuer.id_token(sub=subject_for(email), email=email, name="Demo Person", picture=None)
    api.token = api.call("POST", "/auth/google", {"credential": credential})["access_token"]
    api.call("PATCH", "/api/user", {"timezone": "Europe/Berlin"})
    existing = list(_pages(api, "/api/applications?tag=demo&limit=100"))
    created = 0
    if not existing:
        created = _fill(api, today, random.Random(seed))  # noqa: S311 - made-up data, the same every run
    return {"access_token": api.token, "created": created, "existing": len(existing)}


def _fill(api: Api, today: dt.date, rng: random.Random) -> int:
    now = dt.datetime.now(dt.UTC)
    for n, (company, role) in enumerate(COMPANIES):
        path = PATHS[n % len(PATHS)]
        applied_on = today - dt.timedelta(days=rng.randint(1, 75))
        body: dict[str, Any] = {
            "company": company,
            "role": role,
            "status": path[0],
            "url": f"https://jobs.example.com/{company.lower().replace(' ', '-')}/{n}",
            "location": rng.choice(["Berlin", "Remote (EU)", "Amsterdam", "London", "Munich"]),
            "work_mode": rng.choice(["remote", "hybrid", "onsite"]),
            "salary_min": 60_000 + 5_000 * (n % 8),
            "salary_max": 80_000 + 5_000 * (n % 8),
            "currency": "EUR",
            "source": SOURCES[n % len(SOURCES)],
            "tags": ["demo", *rng.sample(TAGS, 2)],
            "notes": f"Demo application {n + 1}.",
            "contacts": [
                {"name": f"Recruiter {n + 1}", "role": "Talent Partner", "email": f"talent{n + 1}@example.com"}
            ],
        }
        if path[0] != "wishlist":
            body["applied_on"] = applied_on.isoformat()
        if path[-1] in ("applied", "screening", "interviewing"):
            body["next_follow_up_on"] = (today + dt.timedelta(days=rng.randint(-5, 7))).isoformat()
        key = f"demo-{today.isoformat()}-{n}"
        app = api.call("POST", "/api/applications", body, {"Idempotency-Key": key})
        for status in path[1:]:
            app = api.call("PATCH", f"/api/applications/{app['id']}", {"status": status})
        if "interviewing" in path or "offer" in path:
            for k in range(rng.randint(1, 3)):
                past = path[-1] != "interviewing" or k == 0
                starts = now + dt.timedelta(days=(-rng.randint(3, 30) if past else rng.randint(1, 12)), hours=k)
                starts = starts.replace(minute=0, second=0, microsecond=0)
                interview = {
                    "kind": INTERVIEW_KINDS[(n + k) % len(INTERVIEW_KINDS)],
                    "starts_at": _iso(starts),
                    "duration_minutes": rng.choice([30, 45, 60, 90]),
                    "meeting_url": "https://meet.example.com/demo",
                    "interviewers": [f"Interviewer {k + 1}"],
                    "outcome": ("passed" if path[-1] != "rejected" or k else "failed") if past else "pending",
                }
                api.call("POST", f"/api/applications/{app['id']}/interviews", interview)
    return len(COMPANIES)


def main(api_url: str, email: str) -> int:
    try:
        result = populate(api_url, email)
    except DemoError as err:
        print(f"error: {err}")
        return 1
    if result["created"]:
        print(f"Demo person {email}: {result['created']} applications with interviews, contacts and follow-ups.")
    else:
        print(f"Demo person {email} already has {result['existing']} demo applications; nothing added.")
    token = result["access_token"]
    print(f"\nACCESS_TOKEN={token}\n")
    print(f'curl -s {api_url.rstrip("/")}/api/applications/stats -H "Authorization: Bearer $ACCESS_TOKEN"')
    print(f'curl -s {api_url.rstrip("/")}/api/interviews -H "Authorization: Bearer $ACCESS_TOKEN"')
    return 0
