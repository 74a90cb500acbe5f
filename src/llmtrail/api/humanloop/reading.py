"""What Humanloop answers nest, read once per answer: the Files of its logs and versions,
their monitoring evaluators, the judgments of its logs and their trace children."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from llmtrail.api.backend import Backend
from llmtrail.api.humanloop.translate import LOG_COLUMNS, Files, log_response, version_ids
from llmtrail.core import automations, directories, files, judgments, traces
from llmtrail.core.judgments import Judgments
from llmtrail.core.keys import Principal


def files_of(
    backend: Backend, who: Principal, rows: list[Any], evaluator_ids: Iterable[str] = ()
) -> Files:
    """The File objects of an answer, read once for it: the versions of its rows (logs or
    File versions), their Files' monitoring evaluators, and these and `evaluator_ids` at
    their newest versions."""
    engine = backend.engine
    monitors = automations.monitors(engine, who, {r.file_id for r in rows if r.file_id})
    named = {*evaluator_ids, *(e for m in monitors.values() for e in m.evaluator_ids)}
    found = files.describe(engine, who, version_ids(rows), newest_of=named)
    parents = {posixpath.dirname(v.path) for v in found.versions.values()}
    folders = directories.ids_at(engine, who, parents)
    return Files(found.versions, found.usage, found.newest, monitors, found.deployed, folders)


def context(backend: Backend, who: Principal, rows: list[Any]) -> tuple[Files, Judgments]:
    """What the logs of an answer nest, read once for all of them: their judgments, and the
    Files of the logs, of the evaluator logs that judged them and of their evaluators."""
    judged = judgments.of(backend.engine, who, rows)
    sources = list(judged.sources.values())
    return files_of(backend, who, rows + sources, judged.evaluator_ids()), judged


def rows_of(nodes: list[traces.Node]) -> list[Any]:
    """Every log in these subtrees, evaluations included."""
    return [r for node in nodes for n in node.walk() for r in (n.row, *n.evaluations)]


def nested(node: traces.Node, root: Any, files_: Files, judged: Judgments) -> dict[str, Any]:
    """A log with its evaluations and its trace children, nested all the way down."""
    flow = traces.flow_of(root)
    return log_response(node.row, files_, judged, node, trace_flow_id=flow, children=True)


def log_with_trace(backend: Backend, who: Principal, log_id: str) -> dict[str, Any]:
    node, root = traces.subtree(backend.engine, who, log_id, LOG_COLUMNS)
    return nested(node, root, *context(backend, who, rows_of([node])))


def file_responses(backend: Backend, who: Principal, versions: list[Any]) -> list[Any]:
    """File responses, with their monitoring evaluators, read once for all of them."""
    files_ = files_of(backend, who, versions)
    return [files_.of(version.version_id) for version in versions]


def file_response(backend: Backend, who: Principal, version: Any) -> dict[str, Any]:
    return file_responses(backend, who, [version])[0]
