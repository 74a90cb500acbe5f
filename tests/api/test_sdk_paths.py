"""Every path the installed SDKs can call is served: no 404 for want of a route, no 405.

The Humanloop paths are read from the `humanloop` SDK's own sources (each `raw_client.py`
names its method and path); the Keywords AI ones are kept below, read from the `keywordsai`
SDK's `constants/` and `*/api.py`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import humanloop

from tests.conftest import Tenant

_REQUEST = re.compile(r'httpx_client\.request\(\s*f?"([^"]+)",\s*method="(\w+)"')
_PARAMETER = re.compile(r"\{jsonable_encoder\((\w+)\)\}")


def humanloop_paths() -> set[tuple[str, str]]:
    """(method, path) of every request the `humanloop` SDK's clients make."""
    found = set()
    for source in Path(humanloop.__file__).parent.glob("*/raw_client.py"):
        for path, method in _REQUEST.findall(source.read_text()):
            found.add((method, "/v5/" + _PARAMETER.sub(r"{\1}", path)))
    return found


# `keywordsai` 1.0.4: logs, datasets and evaluators without the `/api` prefix and slash-less,
# prompts and experiments under `/api`.
KEYWORDS_PATHS = {
    ("POST", "/request-logs/create"),
    ("GET", "/request-logs/list"),
    ("GET", "/request-logs/{id}"),
    ("POST", "/datasets/create"),
    ("GET", "/datasets/list"),
    ("GET", "/datasets/{id}"),
    ("PATCH", "/datasets/{id}"),
    ("DELETE", "/datasets/{id}"),
    ("POST", "/datasets/{id}/logs/create"),
    ("DELETE", "/datasets/{id}/logs/delete"),
    ("GET", "/datasets/{id}/logs"),
    ("POST", "/datasets/{id}/eval-reports/create"),
    ("GET", "/datasets/{id}/eval-reports/{report_id}"),
    ("GET", "/datasets/{id}/eval-reports/list/"),
    ("GET", "/evaluators/"),
    ("GET", "/evaluators/{id}"),
    ("POST", "/api/prompts"),
    ("GET", "/api/prompts/list"),
    ("GET", "/api/prompts/{id}"),
    ("PATCH", "/api/prompts/{id}"),
    ("DELETE", "/api/prompts/{id}"),
    ("POST", "/api/prompts/{id}/versions"),
    ("GET", "/api/prompts/{id}/versions"),
    ("GET", "/api/prompts/{id}/versions/{version}"),
    ("PATCH", "/api/prompts/{id}/versions/{version}"),
    ("POST", "/api/experiments/create"),
    ("GET", "/api/experiments/list"),
    ("GET", "/api/experiments/{id}"),
    ("PATCH", "/api/experiments/{id}"),
    ("DELETE", "/api/experiments/{id}"),
    *(
        (method, f"/api/experiments/{{id}}/{part}")
        for part in ("rows", "columns")
        for method in ("POST", "PATCH", "DELETE")
    ),
    ("POST", "/api/experiments/{id}/run"),
    ("POST", "/api/experiments/{id}/run-evals"),
}


def unrouted(response: httpx.Response) -> bool:
    """No route answered: a 405, or the app's own 404 (a route's 404 names what is missing)."""
    if response.status_code == 405:
        return True
    return response.status_code == 404 and response.json().get("detail") == "Not Found"


def test_every_sdk_path_is_served(tenant: Tenant) -> None:
    missed = set()
    with tenant.client("x-api-key") as hl, tenant.client() as kw:
        for method, path in sorted(humanloop_paths() | KEYWORDS_PATHS):
            api = hl if path.startswith("/v5/") else kw
            url = re.sub(r"\{\w+\}", "nope", path)
            body = {} if method in ("POST", "PATCH", "PUT") else None
            if unrouted(api.request(method, url, json=body)):
                missed.add((method, path))
    assert not missed, f"not served: {sorted(missed)}"
    assert len(humanloop_paths()) == 118, "the SDK's sources were read"
