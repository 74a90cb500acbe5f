"""Schemathesis against the OpenAPI document the server serves, over every operation in it.

Generated requests, valid and invalid, must never get a 5xx, and every answer must be one
its operation documents (status, content type, body schema): the document is read from the
running server, so a route added later is fuzzed without a line changed here. `make test`
runs a few deterministic cases per operation; `make fuzz` sets `LLMTRAIL_FUZZ_EXAMPLES`
(and `LLMTRAIL_FUZZ_SEED`, random when unset) for a longer run.
"""

from __future__ import annotations

import os
import random

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from llmtrail.api.app import create_app
from tests.conftest import Server

EXAMPLES = int(os.environ.get("LLMTRAIL_FUZZ_EXAMPLES", "4"))
BOUNDED = EXAMPLES <= 4  # the run `make test` makes: the same cases every time
SEED = int(os.environ.get("LLMTRAIL_FUZZ_SEED") or (18 if BOUNDED else random.getrandbits(32)))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzer_key(tenant_factory) -> str:  # type: ignore[no-untyped-def]
    """The key of an organization of the fuzzer's own."""
    return tenant_factory().key


def served_document() -> schemathesis.BaseSchema:
    """What `/openapi.json` serves (`test_openapi` holds the two equal), read at collection so
    that each operation is a test of its own."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": not BOUNDED},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "generation": {"max-examples": EXAMPLES, "deterministic": BOUNDED},
        }
    )
    return schemathesis.openapi.from_dict(create_app().openapi(), config=config)


schema = served_document()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_no_route_answers_off_its_document(case: Case, server: Server, fuzzer_key: str) -> None:
    print(f"fuzz seed {SEED}")
    response = case.call(base_url=server.base_url, headers={"X-API-KEY": fuzzer_key}, timeout=30)
    if refused_by_http_server(response):
        return
    case.validate_response(response, checks=CHECKS)


# What uvicorn (h11) answers, before any route runs, to a request line or headers longer
# than it reads (16 KiB): not an answer of the operation, so no document lists it.
FRAMING_REFUSAL = (400, "Invalid HTTP request received.")
H11_MAX_HEAD = 16 * 1024


def refused_by_http_server(response) -> bool:  # type: ignore[no-untyped-def]
    head = len(response.request.url) + sum(
        len(k) + len(v) for k, v in response.request.headers.items()
    )
    return (response.status_code, response.text) == FRAMING_REFUSAL and head > H11_MAX_HEAD
