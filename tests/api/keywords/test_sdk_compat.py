"""The official `keywordsai==1.0.4` SDK and seed 000's `requests` code, against `llmtrail serve`.

Only the base URL and the key change, as a user switching to llmtrail would do.
"""

from __future__ import annotations

import requests
from keywordsai.logs.api import LogAPI
from keywordsai.types.log_types import KeywordsAIFullLogParams, KeywordsAILogParams


def test_keywordsai_sdk_create_list_get(tenant) -> None:
    client = LogAPI(api_key=tenant.key, base_url=tenant.base_url)
    created = client.create(
        KeywordsAILogParams(
            model="gpt-4o",
            input="What is the capital of France?",
            output="The capital of France is Paris.",
            status_code=200,
            custom_identifier="geography_qa_001",
            prompt_tokens=12,
            completion_tokens=7,
            generation_time=0.8,
            metadata={"source": "sdk-test"},
        )
    )
    assert created["message"] == "log successful"

    page = client.list(page=1, page_size=10, custom_identifier="geography_qa_001")
    assert page.count == 1
    [listed] = page.results
    assert isinstance(listed, KeywordsAIFullLogParams)
    assert listed.model == "gpt-4o"
    assert listed.output == "The capital of France is Paris."

    fetched = client.get(created["unique_id"])
    assert isinstance(fetched, KeywordsAIFullLogParams)
    assert fetched.custom_identifier == "geography_qa_001"
    assert fetched.latency == 0.8
    assert fetched.metadata == {"source": "sdk-test"}
    assert fetched.prompt_tokens == 12 and fetched.completion_tokens == 7


def test_keywordsai_sdk_sends_chat_messages(tenant) -> None:
    client = LogAPI(api_key=tenant.key, base_url=tenant.base_url + "/api")
    created = client.create(
        {
            "model": "gpt-4o-mini",
            "prompt_messages": [{"role": "user", "content": "hi"}],
            "completion_message": {"role": "assistant", "content": "hello"},
            "ttft": 0.1,
            "thread_identifier": "thread-9",
        }
    )
    fetched = client.get(created["unique_id"])
    assert fetched.time_to_first_token == 0.1
    assert fetched.completion_message.content == "hello"


def test_seed_000_batch_update_with_requests(tenant) -> None:
    url = tenant.base_url + "/api/request-logs/batch-update/"
    headers = {"Authorization": f"Bearer {tenant.key}", "Content-Type": "application/json"}
    created = requests.post(
        tenant.base_url + "/api/request-logs/",
        headers=headers,
        json={"model": "gpt-4o", "metadata": {"metadata_key": "v0"}},
        timeout=10,
    ).json()
    data = {
        "logs": [
            {
                "unique_id": created["unique_id"],
                "metadata": {"metadata_key": "updated_value"},
                "note": "updated note",
            }
        ]
    }
    response = requests.patch(url, headers=headers, json=data, timeout=10)
    assert response.status_code == 200
    [log] = response.json()["logs"]
    assert log["metadata"] == {"metadata_key": "updated_value"}
    assert log["note"] == "updated note"
