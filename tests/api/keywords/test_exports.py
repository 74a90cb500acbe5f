"""`GET|POST /api/request-logs/export/`: the list's filters, JSON Lines and CSV, streamed."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine

from llmtrail.core import exports
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import authenticate, create_key
from llmtrail.core.logs import LogData
from tests.helpers import in_writer

EXPORT = "/api/request-logs/export/"
NOW = datetime.now(UTC).replace(microsecond=0)
AWKWARD = 'says "hi", then\nleaves'


def seed(api: httpx.Client) -> None:
    rows = [
        {"custom_identifier": "a", "model": "gpt-4o", "metadata": {"team": "x"}, "ago": 5},
        {"custom_identifier": "b", "model": "gpt-4o-mini", "metadata": {"team": "y"}, "ago": 4},
        {"custom_identifier": "c", "model": "gpt-4o", "note": AWKWARD, "ago": 3},
        {"custom_identifier": "d", "model": "gpt-4o", "ago": 60 * 24 * 10},  # ten days ago
    ]
    for row in rows:
        when = (NOW - timedelta(minutes=row.pop("ago"))).isoformat()
        body = {**row, "timestamp": when, "output": {"text": AWKWARD}}
        assert api.post("/api/request-logs/", json=body).status_code == 201


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    records = [orjson.loads(line) for line in response.content.splitlines()]
    for record in records:  # each line is what the OpenAPI document says it is
        exports.ExportedLog.model_validate_json(orjson.dumps(record))
    return records


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["custom_identifier"] for r in records]


def test_the_whole_history_oldest_first_unless_a_window_is_given(api: httpx.Client) -> None:
    seed(api)
    assert ids(lines(api.get(EXPORT))) == ["a", "b", "c", "d"], "in the order stored"
    since = {"start_time": (NOW - timedelta(hours=1)).isoformat()}
    assert ids(lines(api.get(EXPORT, params=since))) == ["a", "b", "c"]
    # The keywordsai SDK's form of the path, too.
    assert ids(lines(api.get("/request-logs/export", params=since))) == ["a", "b", "c"]


def test_the_list_filters_hold_in_the_url_and_in_the_body(api: httpx.Client) -> None:
    seed(api)
    assert ids(lines(api.get(EXPORT, params={"model": "gpt-4o"}))) == ["a", "c", "d"]
    assert ids(lines(api.get(EXPORT, params={"team": "y"}))) == ["b"], "a metadata quick filter"
    body = {"filters": {"custom_identifier": {"operator": "in", "value": ["a", "b", "d"]}}}
    both = api.post(EXPORT, params={"model": "gpt-4o"}, json=body)
    assert ids(lines(both)) == ["a", "d"]
    assert lines(api.get(EXPORT, params={"environment": "test"})) == []


def test_a_record_is_the_stored_log(api: httpx.Client) -> None:
    seed(api)
    [record] = lines(api.get(EXPORT, params={"custom_identifier": "c"}))
    stored = api.get(f"/api/request-logs/{record['unique_id']}/").json()
    for name in ("unique_id", "model", "note", "environment", "status_code"):
        assert record[name] == stored[name], name
    assert record["output"] == orjson.loads(stored["output"]), "the value, not its JSON string"
    assert record["timestamp"].endswith("Z") and "id" not in record and "org_id" not in record


def test_csv_has_a_header_and_quotes_what_needs_it(api: httpx.Client) -> None:
    seed(api)
    response = api.get(EXPORT, params={"format": "csv", "model": "gpt-4o"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="logs.csv"' in response.headers["content-disposition"]
    header, *_ = response.text.split("\r\n", 1)
    assert header.split(",") == list(exports.LOGS.columns)
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [r["custom_identifier"] for r in rows] == ["a", "c", "d"]
    c = rows[1]
    assert c["note"] == AWKWARD, "a comma, quotes and a line break survive, quoted"
    assert '"says ""hi"", then\nleaves"' in response.text
    assert orjson.loads(c["output"]) == {"text": AWKWARD}, "JSON columns hold their JSON"
    assert rows[0]["note"] == "" and c["stream"] == "false"
    empty = api.get(EXPORT, params={"format": "csv", "model": "none-such"})
    assert empty.text.strip() == ",".join(exports.LOGS.columns), "a header even with no rows"


def test_bad_filters_and_formats_are_400_naming_them(api: httpx.Client) -> None:
    bad = api.get(EXPORT, params={"cost[operator]": "gt", "cost[value]": "lots"})
    assert bad.status_code == 400 and "query.cost.value" in bad.text
    assert api.get(EXPORT, params={"format": "xml"}).status_code == 400
    window = {"start_time": NOW.isoformat(), "end_time": (NOW - timedelta(days=1)).isoformat()}
    assert "start_time" in api.get(EXPORT, params=window).text


def test_the_answer_is_streamed_not_sized(api: httpx.Client) -> None:
    seed(api)
    with api.stream("GET", EXPORT) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        assert len(b"".join(response.iter_bytes()).splitlines()) == 4


def test_rows_are_read_as_they_are_sent(engine: Engine) -> None:
    """The first page is out before the next is read: a log stored after it still comes."""
    _, key = create_key(engine, org=f"org-{uuid.uuid4().hex[:10]}")
    who = authenticate(engine, key)
    assert who is not None

    def store(*names: str) -> None:
        in_writer(engine, lambda w: write_logs(w, who, [LogData(unique_id=n) for n in names]))

    store("one", "two", "three")
    pages = exports.log_pages(engine, who, exports.LogSelection(), size=2)
    chunks = exports.encode(pages, exports.LOGS, exports.Format.jsonl)
    first = next(chunks)
    assert [orjson.loads(line)["unique_id"] for line in first.splitlines()] == ["one", "two"]
    store("four")
    rest = b"".join(chunks)
    assert [orjson.loads(line)["unique_id"] for line in rest.splitlines()] == ["three", "four"]


def dataset_with_logs(api: httpx.Client, *outputs: Any) -> str:
    made = api.post("/api/datasets/", json={"name": "export me", "is_empty": True})
    assert made.status_code == 201, made.text
    dataset_id = made.json()["id"]
    for n, output in enumerate(outputs):
        body = {"input": f"question {n}", "output": output, "target": {"answer": n}}
        assert api.post(f"/api/datasets/{dataset_id}/logs/", json=body).status_code == 201
    return dataset_id


def test_a_dataset_exports_its_logs_in_the_order_added(api: httpx.Client) -> None:
    dataset_id = dataset_with_logs(api, "first", {"text": AWKWARD}, "third")
    response = api.get(f"/api/datasets/{dataset_id}/export/")
    assert response.status_code == 200, response.text
    records = [orjson.loads(line) for line in response.content.splitlines()]
    for record in records:
        exports.ExportedDatasetLog.model_validate_json(orjson.dumps(record))
    assert [r["input"] for r in records] == ["question 0", "question 1", "question 2"]
    assert records[1]["output"] == {"text": AWKWARD} and records[2]["target"] == {"answer": 2}
    assert f'filename="{dataset_id}.jsonl"' in response.headers["content-disposition"]

    as_csv = api.get(f"/api/datasets/{dataset_id}/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text, newline="")))
    assert list(rows[0]) == list(exports.DATASET_LOGS.columns)
    assert [orjson.loads(r["target"]) for r in rows] == [{"answer": n} for n in range(3)]


def test_a_dataset_export_is_404_for_an_unknown_or_another_orgs_dataset(
    api: httpx.Client, tenant_factory
) -> None:  # type: ignore[no-untyped-def]
    dataset_id = dataset_with_logs(api, "x")
    with tenant_factory().client() as other:
        assert other.get(f"/api/datasets/{dataset_id}/export/").status_code == 404
    assert api.get("/api/datasets/ds_none/export/").json() == {"detail": "Dataset not found"}
