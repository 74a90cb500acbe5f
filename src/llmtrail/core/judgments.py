"""Judgments: what a Humanloop evaluator log says about the log it judges.

An evaluator log is a log of its own, under the log it judges, and in the transaction that
stores it also the score its evaluator gives that log (one per evaluator and log: a judgment
logged again replaces it). So a judgment is one record whichever dialect reads it: a
Keywords AI score, a Humanloop evaluator log. Reads answer each log's scores with the
evaluator logs that gave them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row

from llmtrail.core import evaluators, scores
from llmtrail.core.keys import Principal
from llmtrail.core.scoring import InvalidScore, Outcome
from llmtrail.store import evaluation as score_store
from llmtrail.store import files as file_store
from llmtrail.store import logs as log_store
from llmtrail.store.writer import Submission, WriteTx

SOURCE = "humanloop"  # the `source` of a score an evaluator log gave


@dataclass(frozen=True)
class Judge:
    """What a new evaluator log does after it is inserted (`ingest.write_logs(then=...)`):
    the evaluator of its File version (made or brought up to its spec) scores the judged log
    with `judgment`, replacing the score it gave before. Plain data, as it crosses to the
    writer process."""

    principal: Principal
    judged_id: str
    judgment: Any

    def __call__(self, tx: WriteTx, submission: Submission) -> None:
        [(_, [log])] = submission.inserts
        org_id = self.principal.org_id
        version = file_store.version(tx.conn, org_id, log["file_id"], log["version_id"])
        evaluator = evaluators.ensure(tx.conn, self.principal, version)  # type: ignore[arg-type]
        judged = log_store.get_by_unique_id(tx.conn, org_id, self.judged_id)
        score = scores.new_row(
            org_id,
            judged,  # type: ignore[arg-type]  # the parent link found it in this transaction
            evaluator,
            outcome(evaluator, self.judgment, log),
            source=SOURCE,
            source_log_id=log["unique_id"],
        )
        score_store.add_score(tx.conn, score, replace=True)


def outcome(evaluator: Row, judgment: Any, log: Mapping[str, Any]) -> Outcome:
    """The judgment as a value of the evaluator's type; an evaluator log that gives none, or
    one that is not of that type, or that reports an error, is an error score saying why:
    a judgment is never dropped."""
    output = log["output"]
    given: dict[str, Any] = {
        "explanation": output if isinstance(output, str) else None,
        "latency": log["latency"],
    }
    if log["error_message"]:
        return Outcome(error=log["error_message"], **given)
    if judgment is None:
        return Outcome(error="the evaluator log gives no judgment", **given)
    try:
        value = evaluators.definition_of(evaluator).values.coerce(judgment)
    except InvalidScore as exc:
        why = f"the judgment does not fit this {evaluator.value_type} evaluator: {exc}"
        return Outcome(error=why, **given)
    return Outcome(value=value, **given)


@dataclass(frozen=True)
class Judgments:
    """The scores of an answer's logs, by log (primary key), and the evaluator logs that
    gave those written by one, by id."""

    scores: dict[int, list[Row]]
    sources: dict[str, Row]

    def evaluator_ids(self) -> set[str]:
        return {s.evaluator_id for found in self.scores.values() for s in found}

    def source_of(self, score: Row) -> Row | None:
        """The evaluator log that gave the score, if one did and it is still stored."""
        if score.source != SOURCE or score.source_log_id is None:
            return None
        return self.sources.get(score.source_log_id)


def of(engine: Engine, principal: Principal, logs: Iterable[Row]) -> Judgments:
    """The judgments of these logs, read in one query, and the evaluator logs that gave them
    (read in one more, for those not among `logs`)."""
    known = {row.unique_id: row for row in logs}
    org_id = principal.org_id
    with engine.connect() as conn:
        found = score_store.scores_of(conn, org_id, [row.id for row in known.values()])
        given = {s.source_log_id for rows in found.values() for s in rows if s.source == SOURCE}
        sources = {uid: known[uid] for uid in given if uid in known}
        sources |= log_store.get_many(conn, org_id, given - sources.keys() - {None})
    return Judgments(found, sources)
