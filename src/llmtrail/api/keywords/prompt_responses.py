"""Answer bodies of the Keywords AI prompt routes (`keywordsai` 1.0.4's `Prompt` and
`PromptVersion`), as `api.keywords.prompts` builds them; for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from llmtrail.api.keywords.responses import Closed, Page


class PromptVersion(Closed):
    """A version of a prompt: a version of its Humanloop Prompt File."""

    id: str = Field(description="The Humanloop version id (`prv_...`).")
    prompt_version_id: str = Field(description="The same id.")
    description: str
    created_at: datetime
    updated_at: datetime = Field(description="When a draft was last edited, else created_at.")
    version: int = Field(description="Its number in the prompt, from 1, never reused.")
    messages: list[dict[str, Any]] = Field(description="The Humanloop template's messages.")
    model: str
    stream: bool
    temperature: float
    max_tokens: int
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    reasoning_effort: str | None
    variables: dict[str, Any]
    readonly: bool = Field(
        description="Committed, deployed or logged: its settings no longer change."
    )
    fallback_models: list[str] | None
    load_balance_models: list[dict[str, Any]] | None
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    response_format: dict[str, Any] | None
    is_enforcing_response_format: bool
    prompt: str = Field(description="The prompt's id.")
    parent_prompt: str = Field(description="The prompt's id.")


class Prompt(Closed):
    """A prompt: a Humanloop Prompt File (the same id), with all its versions."""

    id: str = Field(description="The Humanloop File id (`pr_...`).")
    name: str
    description: str
    prompt_id: str = Field(description="The same id.")
    prompt_slug: str = Field(description="Its Humanloop path.")
    full_prompt_id: str = Field(description="The same id.")
    current_version: PromptVersion = Field(description="Its newest version.")
    live_version: PromptVersion | None = Field(
        description="The version deployed to the default environment (`production`)."
    )
    prompt_versions: list[PromptVersion] = Field(description="Newest first.")
    commit_count: int = Field(description="How many of its versions are read-only.")
    starred: bool
    tags: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class PromptList(Page[Prompt]):
    """`GET /api/prompts/list/`."""


class PromptVersionList(Page[PromptVersion]):
    """`GET /api/prompts/{prompt_id}/versions/`."""
