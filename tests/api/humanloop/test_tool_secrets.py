"""A Tool's environment variables through the official SDK: set, read back, replaced and
deleted, and never in the database as they were sent (the raw row is read)."""

from __future__ import annotations

import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError
from sqlalchemy import Engine, select

from llmtrail.core import sealing
from llmtrail.errors import Conflict
from llmtrail.store.tables import tool_secrets
from tests.conftest import Server, Tenant


@pytest.fixture
def hl(tenant: Tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def test_environment_variables_are_sealed_at_rest_and_open_to_their_owner(
    hl: Humanloop, engine: Engine, server: Server, tenant_factory
) -> None:  # type: ignore[no-untyped-def]
    tool = hl.tools.upsert(path=f"{uuid.uuid4().hex[:8]}/t", function={"name": "f"})
    plaintext = f"sk-live-{uuid.uuid4().hex}"
    pairs = [{"name": "API_KEY", "value": plaintext}, {"name": "REGION", "value": "eu"}]

    answered = hl.tools.add_environment_variable(tool.id, request=pairs)
    assert [(v.name, v.value) for v in answered] == [("API_KEY", plaintext), ("REGION", "eu")]
    with engine.connect() as conn:
        rows = conn.execute(select(tool_secrets).where(tool_secrets.c.file_id == tool.id)).all()
    assert {r.name for r in rows} == {"API_KEY", "REGION"}
    assert all(plaintext not in repr(tuple(r)) and r.sealed != "eu" for r in rows)
    # Sealed with the server's own secret (the data dir's, mode 0600), and with no other.
    secret = (server.data_dir / "secret_key").read_text().strip()
    sealed = next(r.sealed for r in rows if r.name == "API_KEY")
    assert sealing.unseal(secret, sealed) == plaintext
    with pytest.raises(Conflict):
        sealing.unseal(secret + "x", sealed)

    replaced = hl.tools.add_environment_variable(
        tool.id, request=[{"name": "REGION", "value": "us"}]
    )
    assert [(v.name, v.value) for v in replaced] == [("API_KEY", plaintext), ("REGION", "us")]
    assert [v.value for v in hl.tools.get_environment_variables(tool.id)] == [plaintext, "us"]
    left = hl.tools.delete_environment_variable(tool.id, "API_KEY")
    assert [v.name for v in left] == ["REGION"]

    with pytest.raises(ApiError) as missing:
        hl.tools.delete_environment_variable(tool.id, "API_KEY")
    assert missing.value.status_code == 404
    with pytest.raises(ApiError) as bad:
        hl.tools.add_environment_variable(tool.id, request=[{"name": "NOT OK", "value": "x"}])
    assert bad.value.status_code == 422

    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    with pytest.raises(ApiError) as hidden:
        other.tools.get_environment_variables(tool.id)
    assert hidden.value.status_code == 404
