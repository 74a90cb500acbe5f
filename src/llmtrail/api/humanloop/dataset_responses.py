"""Answer bodies of Humanloop Datasets (contract §6), as the `humanloop` 0.8.38 SDK types
them: `datasets.upsert`, `get`, `list`, `list_datapoints`, `list_versions`, `upload_csv`,
`update_dataset_version`, `list_environments`, `set_deployment`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmtrail.api.humanloop.responses import EnvironmentResponse
from llmtrail.api.humanloop.schemas import Message


class DatapointResponse(BaseModel):
    """One Datapoint; its id is a digest of its content (identical Datapoints are one), or
    the id of the log a Keywords AI dataset copied."""

    id: str
    inputs: dict[str, str] | None
    messages: list[Message] | None
    target: dict[str, Any] | None


class DatasetResponse(BaseModel):
    """A Dataset at one version."""

    model_config = ConfigDict(extra="forbid")

    id: str
    path: str
    name: str
    description: str | None
    directory_id: str | None = Field(description="Always null: there are no directories.")
    type: Literal["dataset"]
    version_id: str = Field(
        description="The version's id; `dsv_..._draft` for a dataset no upsert has versioned "
        "yet (one the Keywords AI dialect made): its current logs."
    )
    version_name: str | None
    version_description: str | None
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime
    datapoints_count: int = Field(description="In this version.")
    environments: list[EnvironmentResponse] = Field(
        description="Those this version is deployed to."
    )
    tags: list[str]
    datapoints: list[DatapointResponse] | None = Field(
        default=None, description="Only when `include_datapoints` asks for them."
    )


class DatasetEnvironmentResponse(EnvironmentResponse):
    """`GET /v5/datasets/{id}/environments`: an environment, with the Dataset at the version
    deployed to it."""

    file: DatasetResponse | None = Field(description="Null when no version is deployed there.")


class PaginatedDatasetResponse(BaseModel):
    """`GET /v5/datasets`: each Dataset at its newest version."""

    records: list[DatasetResponse]
    page: int
    size: int
    total: int = Field(description="Over all pages.")


class PaginatedDatapointResponse(BaseModel):
    """`GET /v5/datasets/{id}/datapoints`: one version's Datapoints, in the order added."""

    records: list[DatapointResponse]
    page: int
    size: int
    total: int = Field(description="Over all pages.")


class ListDatasets(BaseModel):
    """`GET /v5/datasets/{id}/versions`: the Dataset at each version, oldest first."""

    records: list[DatasetResponse]
