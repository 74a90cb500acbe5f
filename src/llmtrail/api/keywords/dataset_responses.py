"""Answer bodies of the Keywords AI dataset routes (contract §3.3, seed 004), as
`dataset_shapes` builds them; for the OpenAPI document and `response_model=`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from llmtrail.api.keywords.responses import Closed, Environment, Page
from llmtrail.core import datasets


class Timestamps(Closed):
    """The time window the dataset was first filled from (nulls for an empty one)."""

    start_time: datetime | None
    end_time: datetime | None


class Dataset(Closed):
    """A dataset: what create, list, get and patch answer."""

    id: str
    name: str
    description: str
    type: Literal[datasets.TYPES]
    status: Literal[datasets.READY, datasets.LOADING]
    running_status: Literal[datasets.PENDING, datasets.RUNNING, datasets.COMPLETED] | None = Field(
        description="The background add's state; null when none ever ran."
    )
    running_progress: float | None = Field(description="Percent of the background add done.")
    running_at: datetime | None
    organization_id: str
    organization: str
    unique_organization_ids: list[str]
    path: str = Field(description="Where the Humanloop dialect files it.")
    log_count: int
    initial_log_filters: dict[str, Any] | None
    timestamps: Timestamps
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
