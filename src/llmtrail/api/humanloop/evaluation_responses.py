"""Answer bodies of Humanloop Evaluations, as the `humanloop` 0.8.38 SDK types them: the
`evaluations.*` client and what `evals.run` reads (`get_stats`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmtrail.api.humanloop import responses as hl
from llmtrail.api.humanloop.dataset_responses import DatapointResponse, DatasetResponse

EvaluationStatus = Literal["pending", "running", "completed", "cancelled"]


class EvaluationEvaluatorResponse(BaseModel):
    version: hl.EvaluatorResponse = Field(description="The Evaluator at the version added.")
    orchestrated: bool = Field(
        description="Whether the server runs it (llm, code and rule Evaluators); if not, its "
        "judgments are logged as Evaluator Logs (`evaluators.log`)."
    )
    added_at: datetime


class EvaluationResponse(BaseModel):
    id: str = Field(description="Starts with `evr_`.")
    runs_count: int
    evaluators: list[EvaluationEvaluatorResponse]
    name: str | None
    file_id: str | None
    created_at: datetime
    created_by: dict[str, Any] | None = None
    updated_at: datetime
    url: str | None = Field(default=None, description="Always null: there is no page for it.")


class PaginatedEvaluationResponse(BaseModel):
    """`GET /v5/evaluations?file_id=`: newest first; a page past the end has no records."""

    records: list[EvaluationResponse]
    page: int
    size: int
    total: int


class EvaluationRunResponse(BaseModel):
    id: str = Field(description="Starts with `run_`.")
    dataset: DatasetResponse | None = Field(description="The Dataset version it runs over.")
    version: hl.FileResponse | None = Field(description="The File version evaluated.")
    orchestrated: bool = Field(description="Always false: the caller logs to the Run.")
    added_at: datetime = Field(description="When this Evaluation began to show it.")
    created_at: datetime
    created_by: dict[str, Any] | None = None
    status: EvaluationStatus = Field(
        description="`pending` until it has a Log, then `running`; `completed` once every "
        "Datapoint has a Log judged by every Evaluator that is not human (or when set so)."
    )
    control: bool


class EvaluationRunsResponse(BaseModel):
    """`GET /v5/evaluations/{id}/runs`: newest first."""

    runs: list[EvaluationRunResponse]


class _EvaluatorStats(BaseModel):
    """The stats of one Evaluator on one Run; the kind (by the Evaluator's value type) is
    told by its fields, as the SDK's union tells it."""

    model_config = ConfigDict(extra="forbid")

    evaluator_version_id: str
    total_logs: int = Field(description="Its scores of the Run's Logs, errors and nulls too.")
    num_judgments: int = Field(description="Those with a value.")
    num_nulls: int
    num_errors: int


class NumericEvaluatorStatsResponse(_EvaluatorStats):
    mean: float | None
    sum: float | None
    std: float | None = Field(description="Population standard deviation.")
    percentiles: dict[str, float] = Field(description="25, 50, 75, 90, 95 and 99.")


class BooleanEvaluatorStatsResponse(_EvaluatorStats):
    num_true: int
    num_false: int


class SelectEvaluatorStatsResponse(_EvaluatorStats):
    num_judgments_per_option: dict[str, int]


class TextEvaluatorStatsResponse(_EvaluatorStats):
    pass


class RunStatsResponse(BaseModel):
    run_id: str
    version_id: str | None
    batch_id: str | None = None
    num_logs: int
    evaluator_stats: list[
        NumericEvaluatorStatsResponse
        | BooleanEvaluatorStatsResponse
        | SelectEvaluatorStatsResponse
        | TextEvaluatorStatsResponse
    ]
    status: EvaluationStatus


class EvaluationStats(BaseModel):
    """`GET /v5/evaluations/{id}/stats`: each Run newest first, and a report to print."""

    run_stats: list[RunStatsResponse]
    progress: str
    report: str
    status: EvaluationStatus


class EvaluationLogResponse(BaseModel):
    run_id: str
    datapoint: DatapointResponse | None
    log: hl.LogResponse
    evaluator_logs: list[hl.LogResponse]


class PaginatedDataEvaluationLogResponse(BaseModel):
    """`GET /v5/evaluations/{id}/logs`: the Logs of its Runs, oldest first."""

    records: list[EvaluationLogResponse]
    page: int
    size: int
    total: int
