"""Answer bodies of the Keywords AI dataset routes (contract §3.3, seed 004), as
`dataset_shapes` builds them; for the OpenAPI document and `response_model=`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from llmtrail.api.keywords.responses import Closed, Environment, Page
from llmtrail.core import dataset_evals, datasets


class Dataset(Closed):
    """A dataset: what create, list, get and patch answer."""

    id: str
    name: str
    description: str
    type: Literal[datasets.TYPES]
    status: Literal[datasets.READY, datasets.LOADING, datasets.FAILED]
    running_status: Literal[
        datasets.PENDING, datasets.RUNNING, datasets.COMPLETED, datasets.FAILED
    ] = Field(description="The background add's state (completed for an empty dataset).")
    running_progress: float = Field(description="Percent of the background add done.")
    running_at: datetime | None
    organization_id: str
    organization: str
    unique_organization_ids: list[str]
    path: str = Field(description="Where the Humanloop dialect files it.")
    log_count: int
    initial_log_filters: dict[str, Any]
    timestamps: list[datetime] = Field(description="[start_time, end_time] it was filled from.")
    evaluator: None
    updated_by: None
    completed_annotation_count: int
    created_at: datetime
    updated_at: datetime


class DatasetList(Page[Dataset]):
    """`GET /api/datasets/list/`."""


class DatasetLog(Closed):
    """A dataset log: the complete log object of seed 004 (`GET .../logs/{log_id}/`), which
    the list, create, patch and replace answers also use. A copy of a log keeps its id."""

    id: str
    unique_id: str
    dataset_id: str
    organization_id: str
    unique_organization_id: str
    organization_key_id: str | None = Field(description="The id of the key, never the key.")
    environment: Environment
    timestamp: datetime
    start_time: datetime | None
    prompt_id: str
    prompt_name: str
    trace_unique_id: str
    customer_identifier: str
    thread_identifier: str
    custom_identifier: str
    log_type: str
    prompt_tokens: int | None
    completion_tokens: int | None
    total_request_tokens: int | None
    cost: float | None
    model: str | None
    latency: float | None
    tokens_per_second: float | None
    time_to_first_token: float | None
    routing_time: float
    status_code: int
    status: str
    blurred: bool
    metadata: dict[str, Any]
    system: str = Field(description="The system messages' text.")
    prompt: str = Field(description="The other prompt messages' text, or the input.")
    completion: str = Field(description="The completion message's text, or the output.")
    messages: list[dict[str, Any]] = Field(description="The prompt messages.")
    completion_message: dict[str, Any] | None
    input: str | None = Field(description="JSON text unless a string was given.")
    output: str | None = Field(description="JSON text unless a string was given.")
    target: Any = Field(description="The expected output of a datapoint, if any.")
    parameters: dict[str, Any]
    source_log_id: str | None = Field(description="The log it was copied from, if any.")
    annotation_status: str
    annotation_completed_by: None
    scores: list[Any]
    created_at: datetime = Field(description="When it was added to the dataset.")
    updated_at: datetime


class DatasetLogList(Page[DatasetLog]):
    """`GET` and `POST /api/datasets/{id}/logs/list/`."""

    filters_data: dict[str, Any]


class CreatedDatasetLog(Closed):
    """201 of `POST /api/datasets/{id}/logs/`."""

    message: str
    log_data: DatasetLog


class Message(Closed):
    """An answer of one sentence: what was done, or is being done in the background."""

    message: str


class Removed(Message):
    """`DELETE /api/datasets/{id}/logs/delete/`: done when answered."""

    removed_count: int


# --- evaluation runs ------------------------------------------------------------------------

RunStatus = Literal[dataset_evals.RUNNING, dataset_evals.COMPLETED, dataset_evals.FAILED]


class EvalReportSummary(Closed):
    """A run over a dataset, as create and list answer it."""

    id: str
    dataset_id: str
    status: RunStatus
    evaluator_slugs: list[str]
    evaluator_ids: list[str]
    log_count: int = Field(description="The dataset's logs when the run was created.")
    result_count: int = Field(description="Results stored so far, errors included.")
    expected_count: int = Field(description="log_count times the number of evaluators.")
    created_at: datetime
    updated_at: datetime


class Aggregate(Closed):
    """What one evaluator said over the run's logs."""

    evaluator_id: str
    evaluator_slug: str | None = Field(description="Null until the evaluator has a result.")
    evaluator_name: str | None
    value_type: str | None
    count: int
    error_count: int
    mean: float | None = Field(description="Of numbers; of booleans, the share true.")
    pass_rate: float | None = Field(
        description="The share passing its passing_conditions (or true, for a boolean "
        "evaluator without any)."
    )
    distribution: dict[str, int] = Field(description="Each value (each choice) and its count.")


class EvalReport(EvalReportSummary):
    """`GET /api/datasets/{id}/eval-reports/{report_id}/`."""

    aggregates: list[Aggregate]


class EvalReportList(Page[EvalReportSummary]):
    """`GET /api/datasets/{id}/eval-reports/list/`."""


class EvaluatorComparison(Closed):
    evaluator_id: str
    evaluator_slug: str | None
    a: Aggregate | None
    b: Aggregate | None
    mean_delta: float | None = Field(description="b's mean minus a's.")
    pass_rate_delta: float | None = Field(description="b's pass rate minus a's.")
    changed_logs: int = Field(description="Logs both runs judged whose value differs.")


class EvalComparison(Closed):
    """`GET /api/datasets/{id}/eval-reports/compare/?a=..&b=..`: two runs side by side."""

    a: EvalReport
    b: EvalReport
    evaluators: list[EvaluatorComparison]
