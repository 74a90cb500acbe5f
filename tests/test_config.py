"""Settings come from the environment, and a bad value is refused by name at start."""

from __future__ import annotations

import pytest

from llmtrail.config import ConfigError, load_settings


def test_defaults_serve_sqlite_in_the_data_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({"LLMTRAIL_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'llmtrail.db'}"
    assert (settings.workers, settings.job_concurrency, settings.key_cache_seconds) == (1, 1, 1.0)


def test_a_postgresql_url_gets_its_driver_named() -> None:
    settings = load_settings({"LLMTRAIL_DATABASE_URL": "postgresql://u@h:5432/db"})
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LLMTRAIL_WORKERS", "two", "LLMTRAIL_WORKERS must be an integer, got 'two'"),
        ("LLMTRAIL_WORKERS", "0", "LLMTRAIL_WORKERS must be at least 1, got '0'"),
        ("LLMTRAIL_MAX_BODY_BYTES", "1.5", "LLMTRAIL_MAX_BODY_BYTES must be an integer"),
        ("LLMTRAIL_KEY_CACHE_SECONDS", "soon", "LLMTRAIL_KEY_CACHE_SECONDS must be a number"),
        ("LLMTRAIL_JOB_CONCURRENCY", "-1", "LLMTRAIL_JOB_CONCURRENCY must be at least 0"),
        ("LLMTRAIL_OTLP_GRPC_PORT", "70000", "LLMTRAIL_OTLP_GRPC_PORT must be a port"),
        ("LLMTRAIL_OTLP_GRPC_PORT", "grpc", "LLMTRAIL_OTLP_GRPC_PORT must be an integer"),
        ("LLMTRAIL_JWT_ACCESS_SECONDS", "0", "LLMTRAIL_JWT_ACCESS_SECONDS must be at least 1"),
        ("LLMTRAIL_JWT_REFRESH_SECONDS", "soon", "LLMTRAIL_JWT_REFRESH_SECONDS must be an"),
        ("LLMTRAIL_JWT_REFRESH_SECONDS", "60", "must be at least LLMTRAIL_JWT_ACCESS_SECONDS"),
        ("LLMTRAIL_SECRET_KEY", "short", "LLMTRAIL_SECRET_KEY must be at least 32 characters"),
        ("LLMTRAIL_SHUTDOWN_TIMEOUT_SECONDS", "0", "LLMTRAIL_SHUTDOWN_TIMEOUT_SECONDS must be at"),
        ("LLMTRAIL_IDEMPOTENCY_SECONDS", "day", "LLMTRAIL_IDEMPOTENCY_SECONDS must be a number"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({name: value})


def test_the_otlp_grpc_port_defaults_to_4317_and_0_turns_it_off() -> None:
    assert load_settings({}).otlp_grpc_port == 4317
    assert load_settings({"LLMTRAIL_OTLP_GRPC_PORT": "0"}).otlp_grpc_port == 0


def test_token_lifetimes_and_the_secret_key() -> None:
    settings = load_settings({})
    assert (settings.jwt_access_seconds, settings.jwt_refresh_seconds) == (300, 86400)
    assert settings.secret_key is None
    chosen = {"LLMTRAIL_JWT_ACCESS_SECONDS": "60", "LLMTRAIL_SECRET_KEY": "s" * 32}
    settings = load_settings(chosen)
    assert (settings.jwt_access_seconds, settings.secret_key) == (60, "s" * 32)


def test_shutdown_and_idempotency_defaults() -> None:
    settings = load_settings({})
    assert (settings.shutdown_timeout_seconds, settings.idempotency_seconds) == (30.0, 86400.0)
    chosen = {"LLMTRAIL_SHUTDOWN_TIMEOUT_SECONDS": "2.5", "LLMTRAIL_IDEMPOTENCY_SECONDS": "60"}
    settings = load_settings(chosen)
    assert (settings.shutdown_timeout_seconds, settings.idempotency_seconds) == (2.5, 60.0)
