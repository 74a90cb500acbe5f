"""JWT sessions over HTTP: sign in, refresh, and every way a token is refused."""

from __future__ import annotations

import base64
import json
import statistics
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import Engine

from llmtrail.core import users
from llmtrail.core.tokens import SECRET_FILE
from tests.conftest import (
    PASSWORD,
    Person,
    Server,
    Tenant,
    bearer,
    sign_in,
    start_server,
    stop_server,
)

REFUSED = {"detail": "No active account found with the given credentials"}
LIST = "/api/request-logs/list/"


def _segment(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_sign_in_gives_tokens_that_authenticate_as_the_user(
    server: Server, tenant: Tenant, person_factory
) -> None:
    person: Person = person_factory(tenant.org, "member")
    claims = _claims(person.access)
    assert set(claims) == {"user_id", "org_id", "role", "token_type", "exp", "iat", "jti"}
    assert (claims["role"], claims["token_type"]) == ("member", "access")
    assert _claims(person.refresh)["token_type"] == "refresh"
    with httpx.Client(base_url=server.base_url, headers=person.headers) as api:
        created = api.post("/api/request-logs/", json={"model": "gpt-4o"})
        assert created.status_code == 201
        assert created.json()["environment"] == "prod"
        with tenant.client() as keyed:  # the same organization, through its key
            assert keyed.get(LIST).json()["count"] == 1
        me = api.get("/auth/users/me/").json()
        assert me == {
            "id": claims["user_id"],
            "email": person.email,
            "organization_id": claims["org_id"],
            "role": "member",
        }


def test_the_email_is_case_insensitive_and_username_works_too(
    server: Server, tenant: Tenant, person_factory
) -> None:
    person = person_factory(tenant.org)
    assert sign_in(server.base_url, f"  {person.email.upper()} ").status_code == 200
    as_username = {"username": person.email, "password": PASSWORD}
    response = httpx.post(f"{server.base_url}/auth/jwt/create", json=as_username)
    assert response.status_code == 200 and set(response.json()) == {"access", "refresh"}


def test_sign_in_to_a_named_organization(
    server: Server, engine: Engine, tenant_factory, person_factory
) -> None:
    first, second = tenant_factory(), tenant_factory()
    person = person_factory(first.org)
    users.set_role(engine, person.email, second.org, "viewer")
    body = {"email": person.email, "password": PASSWORD}
    into = httpx.post(
        f"{server.base_url}/auth/jwt/create/", json={**body, "organization": second.org}
    )
    assert _claims(into.json()["access"])["role"] == "viewer"
    assert _claims(sign_in(server.base_url, person.email).json()["access"])["role"] == "member"
    elsewhere = {**body, "organization": f"not-{second.org}"}
    assert httpx.post(f"{server.base_url}/auth/jwt/create/", json=elsewhere).json() == REFUSED


def test_a_wrong_password_and_an_unknown_email_get_the_same_401_in_the_same_time(
    server: Server, tenant: Tenant, person_factory
) -> None:
    person = person_factory(tenant.org)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    timings: dict[str, list[float]] = {"wrong": [], "unknown": []}
    for _ in range(5):
        for kind, email, password in (
            ("wrong", person.email, "not the password"),
            ("unknown", unknown, PASSWORD),
        ):
            began = time.perf_counter()
            response = sign_in(server.base_url, email, password)
            timings[kind].append(time.perf_counter() - began)
            assert response.status_code == 401 and response.json() == REFUSED
    wrong, missing = (statistics.median(timings[k]) for k in ("wrong", "unknown"))
    # An argon2 check costs tens of milliseconds; skipping it would be several times faster.
    assert 0.5 < missing / wrong < 2, timings


def test_sign_in_refuses_bad_bodies_with_400(server: Server) -> None:
    for body, field in (({"password": "x"}, "email"), ({"email": "a@b.c"}, "password")):
        response = httpx.post(f"{server.base_url}/auth/jwt/create/", json=body)
        assert response.status_code == 400 and field in response.json(), response.text


def test_refresh_gives_a_new_access_token_with_the_current_role(
    server: Server, engine: Engine, tenant: Tenant, person_factory
) -> None:
    person = person_factory(tenant.org, "member")
    users.set_role(engine, person.email, tenant.org, "viewer")
    response = httpx.post(f"{server.base_url}/auth/jwt/refresh/", json={"refresh": person.refresh})
    assert response.status_code == 200 and set(response.json()) == {"access"}
    access = response.json()["access"]
    assert _claims(access)["role"] == "viewer" and _claims(access)["jti"] != _claims(person.access)
    # The role is read afresh on every use: the older token is a viewer's now too.
    time.sleep(1.1)  # past LLMTRAIL_KEY_CACHE_SECONDS
    for token in (access, person.access):
        written = httpx.post(
            f"{server.base_url}/api/request-logs/", json={"model": "m"}, headers=bearer(token)
        )
        assert written.status_code == 403, written.text


def test_tokens_that_are_not_ours_or_not_for_this_use_are_refused(
    server: Server, tenant: Tenant, person_factory
) -> None:
    person = person_factory(tenant.org, "admin")
    header, payload, signature = person.access.split(".")
    as_admin_elsewhere = _segment({**_claims(person.access), "org_id": 1})
    none_header = _segment({"alg": "none", "typ": "JWT"})
    forged = jwt.encode(_claims(person.access), "another secret, as long as ours is", "HS256")
    cases = {
        "tampered": (f"{header}.{as_admin_elsewhere}.{signature}", "signature is invalid"),
        "alg none": (f"{none_header}.{payload}.", "only HS256"),
        "alg none, signed": (f"{none_header}.{payload}.{signature}", "only HS256"),
        "another secret": (forged, "signature is invalid"),
        "refresh as access": (person.refresh, "A refresh token cannot authenticate"),
        "garbage": ("eyJub3Q.a.jwt", "malformed"),
    }
    for name, (token, detail) in cases.items():
        response = httpx.get(f"{server.base_url}{LIST}", headers=bearer(token))
        assert response.status_code == 401, name
        assert detail in response.json()["detail"], (name, response.json())
    refreshed = httpx.post(f"{server.base_url}/auth/jwt/refresh/", json={"refresh": person.access})
    assert refreshed.status_code == 401
    assert "An access token cannot be refreshed" in refreshed.json()["detail"]


def test_a_jwt_is_no_api_key_and_a_key_is_no_jwt(
    server: Server, tenant: Tenant, person_factory
) -> None:
    person = person_factory(tenant.org)
    as_key = httpx.get(f"{server.base_url}{LIST}", headers={"X-API-KEY": person.access})
    assert as_key.status_code == 401 and "API key is invalid" in as_key.json()["detail"]
    with tenant.client() as keyed:
        refused = keyed.get("/auth/users/me/")
    assert refused.status_code == 401
    assert "takes a JWT, not an API key" in refused.json()["detail"]


def test_a_disabled_user_cannot_sign_in_and_its_tokens_stop_working(
    server: Server, engine: Engine, tenant: Tenant, person_factory
) -> None:
    person = person_factory(tenant.org)
    assert httpx.get(f"{server.base_url}{LIST}", headers=person.headers).status_code == 200
    users.disable_user(engine, person.email)
    assert sign_in(server.base_url, person.email).json() == REFUSED
    time.sleep(1.1)  # past LLMTRAIL_KEY_CACHE_SECONDS
    response = httpx.get(f"{server.base_url}{LIST}", headers=person.headers)
    assert response.status_code == 401 and "disabled" in response.json()["detail"]
    refreshed = httpx.post(f"{server.base_url}/auth/jwt/refresh/", json={"refresh": person.refresh})
    assert refreshed.status_code == 401 and "disabled" in refreshed.json()["detail"]


def _sleep_past(moment: int) -> None:
    """Until `moment` (seconds since the epoch, as `exp` says it) is past."""
    time.sleep(max(0.0, moment - time.time() + 0.2))


def test_tokens_expire_after_their_configured_lifetimes(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = f"org-{uuid.uuid4().hex[:10]}"
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    users.create_user(engine, email=email, password=PASSWORD, org=org)
    lifetimes = {"LLMTRAIL_JWT_ACCESS_SECONDS": "2", "LLMTRAIL_JWT_REFRESH_SECONDS": "5"}
    srv = start_server(database_url, tmp_path, **lifetimes)
    try:
        tokens = sign_in(srv.base_url, email).json()
        claims = _claims(tokens["access"])
        assert claims["exp"] - claims["iat"] == 2
        assert _claims(tokens["refresh"])["exp"] - claims["iat"] == 5
        assert httpx.get(f"{srv.base_url}{LIST}", headers=bearer(tokens["access"])).is_success
        _sleep_past(claims["exp"])
        expired = httpx.get(f"{srv.base_url}{LIST}", headers=bearer(tokens["access"]))
        assert expired.status_code == 401 and expired.json() == {"detail": "The token has expired."}
        renewed = httpx.post(f"{srv.base_url}/auth/jwt/refresh/", json=tokens).json()["access"]
        assert httpx.get(f"{srv.base_url}{LIST}", headers=bearer(renewed)).is_success
        _sleep_past(_claims(tokens["refresh"])["exp"])
        late = httpx.post(f"{srv.base_url}/auth/jwt/refresh/", json=tokens)
        assert late.status_code == 401 and late.json() == {"detail": "The token has expired."}
    finally:
        stop_server(srv)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_generates_the_secret_before_answering_readable_by_its_owner_only(
    database_url: str, tmp_path: Path
) -> None:
    srv = start_server(database_url, tmp_path)
    try:
        secret = tmp_path / SECRET_FILE
        assert secret.stat().st_mode & 0o777 == 0o600
        assert len(secret.read_text()) >= 32
    finally:
        stop_server(srv)
    before = secret.read_text()
    srv = start_server(database_url, tmp_path)  # kept across restarts: tokens outlive them
    stop_server(srv)
    assert secret.read_text() == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_secret_key_setting_signs_the_tokens(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    users.create_user(engine, email=email, password=PASSWORD, org=f"org-{uuid.uuid4().hex[:8]}")
    secret = "s" * 40
    srv = start_server(database_url, tmp_path, LLMTRAIL_SECRET_KEY=secret)
    try:
        access = sign_in(srv.base_url, email).json()["access"]
        assert jwt.decode(access, secret, algorithms=["HS256"])["token_type"] == "access"
        assert not (tmp_path / SECRET_FILE).exists()
    finally:
        stop_server(srv)
