"""The path forms Keywords AI clients send all reach the one documented route."""

from __future__ import annotations

import pytest

from llmtrail.api.paths import documented_form


@pytest.mark.parametrize(
    "sent",
    [
        "/api/request-logs/list/",
        "/api/request-logs/list",
        "/request-logs/list",
        "/request-logs/list/",
    ],
)
def test_every_form_of_a_keywords_path_is_the_documented_one(sent: str) -> None:
    assert documented_form(sent) == "/api/request-logs/list/"


@pytest.mark.parametrize("path", ["/v5/logs", "/v5/prompts/log", "/healthz", "/docs", "/"])
def test_other_paths_are_left_alone(path: str) -> None:
    assert documented_form(path) == path


@pytest.mark.parametrize("sent", ["/auth/jwt/create", "/auth/jwt/create/"])
def test_sign_in_answers_with_and_without_the_slash(sent: str) -> None:
    assert documented_form(sent) == "/auth/jwt/create/"
