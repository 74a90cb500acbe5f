"""The Keywords AI experiment routes (`/api/experiments/...`, as the `keywordsai` SDK's
`ExperimentAPI` calls them), over `core.experiments`: create, list, read, rename and delete
an experiment; add, change and remove its rows and columns; run the columns over the rows and
have evaluators judge the results, both in the background."""

# No `from __future__ import annotations`: FastAPI must see the body models as classes.

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from llmtrail.api.auth import principal
from llmtrail.api.backend import Backend, get_backend
from llmtrail.api.keywords import experiment_responses as ex
from llmtrail.api.keywords.errors import doc, resource_surface
from llmtrail.api.keywords.evaluation import Page, PageSize, paged
from llmtrail.api.routing import JSONBody
from llmtrail.core import experiments
from llmtrail.core.keys import Principal

surface = resource_surface("Keywords AI: experiments")
router = surface.router
BASE = "/api/experiments/"
ONE = f"{BASE}{{experiment_id}}/"
OwnId = Annotated[str | None, Field(min_length=1, max_length=128)]  # the client's, if any


# Request bodies: the SDK's types (`keywordsai.types.experiment_types`), checked here.


class MessageIn(BaseModel):
    """A chat message of a column's template; its text may name `{{variables}}`."""

    model_config = ConfigDict(extra="allow")

    role: Literal["user", "assistant", "system", "tool", "developer"]
    content: str | list[dict[str, Any] | str] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class FunctionIn(BaseModel):
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolIn(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionIn


class ColumnIn(BaseModel):
    """A column: a model and its parameters (OpenAI's defaults unless given), and the
    messages each row fills in."""

    model_config = ConfigDict(extra="forbid")

    id: OwnId = None
    model: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    temperature: float = Field(default=1.0, ge=0, le=2)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    top_p: float = Field(default=1.0, ge=0, le=1)
    frequency_penalty: float = Field(default=0.0, ge=-2, le=2)
    presence_penalty: float = Field(default=0.0, ge=-2, le=2)
    tools: list[ToolIn] = []
    prompt_messages: list[MessageIn] = Field(
        min_length=1, validation_alias=AliasChoices("prompt_messages", "messages")
    )
    reasoning_effort: str | None = Field(default=None, max_length=32)
    stream: bool = False  # kept as given; a run is never streamed
    tool_choice: str | dict[str, Any] = "auto"
    response_format: str | dict[str, Any] = {"type": "text"}

    def item(self) -> dict[str, Any]:
        """The column as core stores it: every field, the messages and tools as sent."""
        out = self.model_dump(exclude={"prompt_messages", "tools"})
        out["prompt_messages"] = [m.model_dump(exclude_none=True) for m in self.prompt_messages]
        out["tools"] = [t.model_dump(exclude_none=True) for t in self.tools]
        return out


class RowIn(BaseModel):
    """A row: the variables its columns' messages name, and the output hoped for. `status`
    and `results` are the server's (the SDK sends their defaults): results come of `run`."""

    id: OwnId = None
    input: dict[str, Any] = {}
    ideal_output: str | None = None
    status: str | None = None
    results: list[Any] = []

    @field_validator("results")
    @classmethod
    def _made_by_runs(cls, value: list[Any]) -> list[Any]:
        if value:
            raise ValueError("results are what `run` makes: send none")
        return value

    def item(self) -> dict[str, Any]:
        return {"id": self.id, "input": self.input, "ideal_output": self.ideal_output}


class CreateBody(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    columns: list[ColumnIn] = []
    rows: list[RowIn] = []


class UpdateBody(BaseModel):
    """A new name or description; rows and columns change through their own routes."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None


class RowsBody(BaseModel):
    rows: list[RowIn] = Field(min_length=1)


class RowIds(BaseModel):
    rows: list[str] = Field(min_length=1)


class ColumnsBody(BaseModel):
    columns: list[ColumnIn] = Field(min_length=1)


class ColumnIds(BaseModel):
    columns: list[str] = Field(min_length=1)


class RunBody(BaseModel):
    """The columns to run (stored first): all the experiment's when none are given."""

    columns: list[ColumnIn] | None = None


class EvalsBody(BaseModel):
    evaluator_slugs: list[str] = Field(min_length=1, description="Slugs or ids.")


# Routes


def _done(
    verb: str,
    part: experiments.Part,
    experiment_id: str,
    changed: list[dict[str, Any]] | int,
    status: int = 200,
) -> JSONBody:
    """What a change of rows (columns) answers: a sentence, how many, and (but a removal)
    them as stored: `{"added_rows": 1, "rows": [...]}`, as the SDK's docs describe it."""
    count = changed if isinstance(changed, int) else len(changed)
    answer: dict[str, Any] = {
        "message": f"{verb.capitalize()} {count} {part.field}",
        "experiment_id": experiment_id,
        f"{verb}_{part.field}": count,
    }
    if not isinstance(changed, int):
        answer[part.field] = changed
    return JSONBody(answer, status_code=status)


@router.post(f"{BASE}create/", status_code=201, responses=doc(ex.Experiment, 400, status=201))
def create_experiment(
    body: CreateBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """An experiment with its columns and rows (each keeps the id it is given)."""
    found = experiments.create(
        backend.engine,
        who,
        body.name,
        body.description,
        [c.item() for c in body.columns],
        [r.item() for r in body.rows],
    )
    return JSONBody(found, status_code=201)


@router.get(f"{BASE}list/", responses=doc(ex.ExperimentList, 400))
def list_experiments(
    request: Request,
    page: int = Page,
    page_size: int = PageSize,
    name: str | None = Query(None, max_length=255, description="Part of the name."),
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """The experiments, newest first, without their rows (`GET .../{id}/rows/` pages them)."""
    total, found = experiments.listed(backend.engine, who, page, page_size, name)
    return paged(request, total, page, page_size, found)


@router.get(ONE, responses=doc(ex.Experiment, 404))
def get_experiment(
    experiment_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """The experiment, every row with each column's result, and per column the aggregates of
    its evaluators."""
    return JSONBody(experiments.get(backend.engine, who, experiment_id))


@router.patch(ONE, responses=doc(ex.Experiment, 400, 404))
def update_experiment(
    experiment_id: str,
    body: UpdateBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    changes = body.model_dump(exclude_unset=True)
    return JSONBody(experiments.update(backend.engine, who, experiment_id, changes))


@router.delete(ONE, responses=doc(ex.Deleted, 404))
def delete_experiment(
    experiment_id: str,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """The experiment and its rows, columns and results; the logs of its runs stay."""
    experiments.delete(backend.engine, who, experiment_id)
    return JSONBody({"message": "Experiment deleted", "id": experiment_id})


@router.get(f"{ONE}rows/", responses=doc(ex.RowList, 400, 404))
def list_rows(
    request: Request,
    experiment_id: str,
    page: int = Page,
    page_size: int = PageSize,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """The rows in order, each with each column's result."""
    total, rows = experiments.rows_page(backend.engine, who, experiment_id, page, page_size)
    return paged(request, total, page, page_size, rows)


@router.post(f"{ONE}rows/", status_code=201, responses=doc(ex.RowsAdded, 400, 404, status=201))
def add_rows(
    experiment_id: str,
    body: RowsBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    items = [r.item() for r in body.rows]
    added = experiments.add(backend.engine, who, experiment_id, experiments.ROWS, items)
    return _done("added", experiments.ROWS, experiment_id, added, status=201)


@router.patch(f"{ONE}rows/", responses=doc(ex.RowsUpdated, 400, 404))
def update_rows(
    experiment_id: str,
    body: RowsBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Replace rows' input and ideal output, named by id."""
    items = [r.item() for r in body.rows]
    changed = experiments.change(backend.engine, who, experiment_id, experiments.ROWS, items)
    return _done("updated", experiments.ROWS, experiment_id, changed)


@router.delete(f"{ONE}rows/", responses=doc(ex.RowsRemoved, 400, 404))
def remove_rows(
    experiment_id: str,
    body: RowIds,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Remove rows by id, with their results."""
    n = experiments.remove(backend.engine, who, experiment_id, experiments.ROWS, body.rows)
    return _done("removed", experiments.ROWS, experiment_id, n)


@router.post(
    f"{ONE}columns/", status_code=201, responses=doc(ex.ColumnsAdded, 400, 404, status=201)
)
def add_columns(
    experiment_id: str,
    body: ColumnsBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    items = [c.item() for c in body.columns]
    added = experiments.add(backend.engine, who, experiment_id, experiments.COLUMNS, items)
    return _done("added", experiments.COLUMNS, experiment_id, added, status=201)


@router.patch(f"{ONE}columns/", responses=doc(ex.ColumnsUpdated, 400, 404))
def update_columns(
    experiment_id: str,
    body: ColumnsBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Replace columns' configuration, named by id; their results stay until they run again."""
    items = [c.item() for c in body.columns]
    changed = experiments.change(backend.engine, who, experiment_id, experiments.COLUMNS, items)
    return _done("updated", experiments.COLUMNS, experiment_id, changed)


@router.delete(f"{ONE}columns/", responses=doc(ex.ColumnsRemoved, 400, 404))
def remove_columns(
    experiment_id: str,
    body: ColumnIds,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Remove columns by id, with their results."""
    n = experiments.remove(backend.engine, who, experiment_id, experiments.COLUMNS, body.columns)
    return _done("removed", experiments.COLUMNS, experiment_id, n)


@router.post(f"{ONE}run/", status_code=202, responses=doc(ex.RunStarted, 400, 404, status=202))
def run_experiment(
    experiment_id: str,
    body: RunBody | None = None,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Run the columns (those given, stored first; else all) over every row, in the
    background: each cell's call to the LLM provider becomes a log and the cell's result."""
    columns = [c.item() for c in body.columns] if body and body.columns else None
    started = experiments.run(backend.engine, who, experiment_id, columns)
    return JSONBody(started, status_code=202)


@router.post(
    f"{ONE}run-evals/", status_code=202, responses=doc(ex.EvalsStarted, 400, 404, status=202)
)
def run_evals(
    experiment_id: str,
    body: EvalsBody,
    who: Principal = Depends(principal),
    backend: Backend = Depends(get_backend),
) -> JSONBody:
    """Have evaluators (slugs or ids) judge every result, and every later one, in the
    background; the experiment then shows their aggregates per column."""
    started = experiments.run_evals(backend.engine, who, experiment_id, body.evaluator_slugs)
    return JSONBody(started, status_code=202)
