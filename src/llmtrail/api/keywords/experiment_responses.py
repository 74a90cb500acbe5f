"""Answer bodies of the Keywords AI experiment routes, as `core.experiments` builds them;
for the OpenAPI document and `response_model=`. The `keywordsai` SDK parses them into its
`ExperimentType` (which ignores the keys it does not know, such as `aggregates`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from llmtrail.api.keywords.dataset_responses import Aggregate
from llmtrail.api.keywords.responses import Closed, Page
from llmtrail.core import experiments as core

Status = Literal[core.READY, core.RUNNING, core.COMPLETED]


class Column(Closed):
    """A column: a prompt configuration, as it was given (the SDK's `ExperimentColumnType`;
    `max_completion_tokens` is null when none was given, which that type does not take)."""

    id: str
    model: str
    name: str
    temperature: float
    max_completion_tokens: int | None
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    tools: list[dict[str, Any]]
    prompt_messages: list[dict[str, Any]]
    reasoning_effort: str | None
    stream: bool
    tool_choice: str | dict[str, Any]
    response_format: str | dict[str, Any]


class Metrics(Closed):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    latency: float | None = Field(description="Seconds the provider took.")
    cost: float | None = Field(description="USD, when the model's price is known.")


class Judgment(Closed):
    """One evaluator's word on a result."""

    evaluator_id: str
    evaluator_name: str
    value_type: str
    value: Any
    primary_score: float | None = Field(description="The value as a number (true is 1).")
    is_passed: bool | None
    explanation: str | None
    error: str | None


class Result(Closed):
    """A column's latest run over a row."""

    id: str = Field(description="The run's id: a new one each time the cell runs.")
    column_id: str
    status: Literal[core.RUNNING, core.COMPLETED, core.ERROR]
    error: str | None
    output: dict[str, Any] | None = Field(description="The model's message.")
    ran_at: datetime = Field(description="When it ran (when it was queued, while running).")
    log_id: str | None = Field(description="The log of the call (its unique_id).")
    llm_inference_metrics: Metrics | None
    evaluation_result: dict[str, Judgment] | None = Field(
        description="By evaluator slug, the experiment's evaluators' judgments."
    )


class RowValues(Closed):
    """A row as it was given: its variables and the output hoped for."""

    id: str
    input: dict[str, Any]
    ideal_output: str | None


class ExperimentRow(RowValues):
    """A row with each column's result (null: the column never ran over it)."""

    status: Status
    results: list[Result | None]


class ColumnAggregates(Closed):
    """What the experiment's evaluators said over one column's results."""

    column_id: str
    column_name: str | None
    result_count: int = Field(description="Its completed results: what each evaluator judges.")
    evaluators: list[Aggregate]


class ExperimentSummary(Closed):
    """An experiment as the list answers it: without its rows."""

    id: str
    name: str
    description: str
    status: Status
    column_count: int
    row_count: int
    columns: list[Column]
    variables: list[str] = Field(description="The {{variables}} its columns' messages name.")
    created_at: datetime
    updated_at: datetime


class Experiment(ExperimentSummary):
    """An experiment: what create, get and update answer."""

    rows: list[ExperimentRow]
    evaluator_ids: list[str] = Field(description="The evaluators run-evals has run.")
    aggregates: list[ColumnAggregates]


class ExperimentList(Page[ExperimentSummary]):
    """`GET /api/experiments/list/`."""


class RowList(Page[ExperimentRow]):
    """`GET /api/experiments/{id}/rows/`."""


class Deleted(Closed):
    message: str
    id: str


class RowsAdded(Closed):
    message: str
    experiment_id: str
    added_rows: int
    rows: list[RowValues]


class RowsUpdated(Closed):
    message: str
    experiment_id: str
    updated_rows: int
    rows: list[RowValues]


class RowsRemoved(Closed):
    message: str
    experiment_id: str
    removed_rows: int


class ColumnsAdded(Closed):
    message: str
    experiment_id: str
    added_columns: int
    columns: list[Column]


class ColumnsUpdated(Closed):
    message: str
    experiment_id: str
    updated_columns: int
    columns: list[Column]


class ColumnsRemoved(Closed):
    message: str
    experiment_id: str
    removed_columns: int


class RunStarted(Closed):
    """`POST /api/experiments/{id}/run/`: the cells run in the background."""

    message: str
    experiment_id: str
    status: Literal[core.RUNNING]
    column_ids: list[str]
    queued: int = Field(description="Cells queued: rows times columns run.")


class EvalsStarted(Closed):
    """`POST /api/experiments/{id}/run-evals/`: the judgments run in the background."""

    message: str
    experiment_id: str
    evaluators: list[str] = Field(description="The evaluators' slugs.")
    status: Literal[core.RUNNING]
    queued: int = Field(description="Judgments queued: results times evaluators.")
