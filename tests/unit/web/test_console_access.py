"""Every route of the collector, walked with every credential: no credential, a bearer token of each
kind, and a console session of each role. The matrix below is the access policy written down; a route
the app serves that the matrix does not list fails the test, so no route goes out unchecked.

"Allowed" means the route got past authentication and authorisation: any answer but 401, 403 or a
redirect to the sign-in page (an allowed request may still be a 404 or a 422 about its input).
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.routing import APIRoute

from .support import PASSWORDS, ConsoleSite, form_token

NONE = "none"
TOKENS = ("token:agent", "token:metrics", "token:viewer", "token:operator")
SESSIONS = ("session:viewer", "session:operator", "session:admin")
CREDENTIALS = (NONE, *TOKENS, *SESSIONS)
EVERYONE = set(CREDENTIALS)
READERS = {"session:viewer", "session:operator", "session:admin"}
OPERATORS = {"session:operator", "session:admin"}
ADMINS = {"session:admin"}

MATRIX: dict[tuple[str, str], set[str]] = {
    # health checks and the sign-in page: public
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/"): EVERYONE,  # a redirect to /console/
    ("GET", "/console"): EVERYONE,  # the same
    ("GET", "/console/login"): EVERYONE,
    ("POST", "/console/login"): EVERYONE,  # the password is the credential (wrong here: 401 would mean denied)
    ("GET", "/console/static/console.css"): EVERYONE,
    # the HTTP API: bearer tokens only
    ("POST", "/api/v1/results"): {"token:agent"},
    ("GET", "/api/v1/agents/{name}/plan"): {"token:agent"},
    ("GET", "/api/v1/agents"): {"token:metrics"},
    ("GET", "/metrics"): {"token:metrics"},
    ("GET", "/openapi.json"): set(TOKENS),
    ("GET", "/api/v1/events"): {"token:viewer", "token:operator"},
    ("GET", "/api/v1/events/{event_id}"): {"token:viewer", "token:operator"},
    ("POST", "/api/v1/events/{event_id}/acknowledge"): {"token:operator"},
    ("POST", "/api/v1/events/{event_id}/resolve"): {"token:operator"},
    ("POST", "/api/v1/events/{event_id}/comments"): {"token:operator"},
    ("GET", "/api/v1/maintenance"): {"token:viewer", "token:operator"},
    ("POST", "/api/v1/maintenance"): {"token:operator"},
    ("DELETE", "/api/v1/maintenance/{window_id}"): {"token:operator"},
    # the console: sessions only
    ("POST", "/console/logout"): READERS,
    ("GET", "/console/"): READERS,
    ("GET", "/console/events"): READERS,
    ("GET", "/console/events/{event_id}"): READERS,
    ("POST", "/console/events/{event_id}/acknowledge"): OPERATORS,
    ("POST", "/console/events/{event_id}/resolve"): OPERATORS,
    ("POST", "/console/events/{event_id}/comment"): OPERATORS,
    ("GET", "/console/targets"): READERS,
    ("GET", "/console/targets/{name}"): READERS,
    ("GET", "/console/targets/{name}/chart.svg"): READERS,
    ("GET", "/console/patrols"): READERS,
    ("GET", "/console/reports/{filename}"): READERS,
    ("POST", "/console/patrols/run"): OPERATORS,
    ("GET", "/console/maintenance"): READERS,
    ("POST", "/console/maintenance"): OPERATORS,
    ("POST", "/console/maintenance/{window_id}/remove"): OPERATORS,
    ("GET", "/console/account"): READERS,
    ("POST", "/console/account/language"): READERS,
    ("POST", "/console/account/password"): READERS,
    ("GET", "/console/admin/users"): ADMINS,
    ("POST", "/console/admin/users"): ADMINS,
    ("POST", "/console/admin/users/{name}/role"): ADMINS,
    ("POST", "/console/admin/users/{name}/unlock"): ADMINS,
    ("POST", "/console/admin/users/{name}/remove"): ADMINS,
    ("GET", "/console/admin/settings"): ADMINS,
    ("GET", "/console/admin/tokens"): ADMINS,
    ("POST", "/console/admin/tokens"): ADMINS,
    ("POST", "/console/admin/tokens/{token_id}/revoke"): ADMINS,
}

SESSION_USER = {"session:viewer": "vera", "session:operator": "olga", "session:admin": "adam"}
# Form fields for the console's posts (valid where it matters, so an allowed request does not fail on them).
FORMS = {
    "/console/account/language": {"language": "en"},
    "/console/admin/users": {"name": "newcomer", "role": "viewer", "password": "a-long-password-1"},
    "/console/admin/users/{name}/role": {"role": "viewer"},
    "/console/admin/tokens": {"kind": "viewer", "name": "walker"},
    "/console/maintenance": {"name": "walk", "hosts": "db*", "duration": "1h"},
    "/console/patrols/run": {"playbook": "morning"},
    "/console/events/{event_id}/comment": {"text": "walked"},
}


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    site = ConsoleSite(tmp_path_factory.mktemp("walk"))
    site.tokens = {kind: site.store.create_token(kind, name)[1]
                   for kind, name in (("agent", "web01"), ("metrics", "prom"), ("viewer", "vic"), ("operator", "otto"))}
    site.event_id = site.firing_event()
    site.report = "morning-1-20261207-080000.html"
    (site.report_dir / site.report).write_text("<html><body>report</body></html>", encoding="utf-8")
    yield site
    site.close()


def served_routes(routes) -> set[tuple[str, str]]:
    """(method, path) of every route, those of included routers too (FastAPI keeps them apart; their
    paths carry their router's prefix, and the app adds none)."""
    out = set()
    for route in routes:
        if hasattr(route, "original_router"):
            out |= served_routes(route.original_router.routes)
        elif isinstance(route, APIRoute) or hasattr(route, "methods"):
            out |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return out


def test_the_matrix_lists_every_route_the_app_serves(walk):
    assert served_routes(walk.app.routes) == set(MATRIX)


def concrete(site, path: str) -> str:
    window_id = 1
    if "{window_id}" in path:
        from collector.events.maintenance import MaintenanceWindow
        from collector.events.repository import DatabaseRepository

        start = site.clock() + dt.timedelta(days=30)
        window = MaintenanceWindow.once("walk", "web*", start, start + dt.timedelta(hours=1), created_by="walk")
        window_id = DatabaseRepository.from_store(site.store).add_window(window).id
    name = "nobody" if path.startswith("/console/admin/users/") else "web01"
    return (path.replace("{event_id}", str(site.event_id)).replace("{window_id}", str(window_id))
            .replace("{name}", name).replace("{token_id}", "99999").replace("{filename}", site.report))


def request(site, method: str, path: str, credential: str):
    client = site.client()
    headers = {}
    data = None
    if credential.startswith("token:"):
        headers["Authorization"] = f"Bearer {site.tokens[credential.split(':')[1]]}"
    if credential.startswith("session:"):
        site.login(SESSION_USER[credential], client)
    url = concrete(site, path)
    if method == "POST" and path.startswith("/console/"):
        # The form token of the session (or of the sign-in form), so only the role decides.
        signed_in = credential.startswith("session:") and path != "/console/login"
        page = client.get("/console/account" if signed_in else "/console/login")
        token = form_token(page.text) if page.status_code == 200 else "none"
        data = {"csrf_token": token, **FORMS.get(path, {})}
        if path == "/console/account/password" and credential.startswith("session:"):
            password = PASSWORDS[SESSION_USER[credential]]
            data |= {"current_password": password, "new_password": password, "repeat_password": password}
        if path == "/console/login":
            data |= {"name": "nobody-here", "password": "wrong"}  # locks no one
    if method == "POST" and path.startswith("/api/"):
        return client.post(url, headers=headers, json={})
    return client.request(method, url, headers=headers, data=data)


def denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers["location"].startswith("/console/login?next=")


@pytest.mark.parametrize("method,path", sorted(MATRIX))
def test_every_route_with_every_credential(walk, method, path):
    wrong = []
    for credential in CREDENTIALS:
        response = request(walk, method, path, credential)
        assert response.status_code < 500, (credential, response.text)
        allowed = not denied(response)
        if path == "/console/login" and method == "POST":
            allowed = response.status_code == 401  # a wrong password, judged (not a CSRF refusal)
        if allowed != (credential in MATRIX[(method, path)]):
            wrong.append(f"{credential}: {response.status_code} {response.text[:120]!r}")
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)
