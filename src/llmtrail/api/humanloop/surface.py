"""The Humanloop v5 surface (`/v5/...`, `X-API-KEY`): its router, error shape and answers.

Paths, bodies and answers follow what the `humanloop` 0.8.38 SDK sends and parses; rule
violations are 422 in FastAPI's shape, which the SDK raises as UnprocessableEntityError.
The routes live in one module per concern, each declaring them on `router`; `router.py`
assembles them.
"""

from __future__ import annotations

from llmtrail.api.auth import SECURITY_SCHEMES, principal
from llmtrail.api.humanloop import responses as answer
from llmtrail.api.humanloop.errors import HumanloopErrors
from llmtrail.api.humanloop.multipart import BoundaryFromBody
from llmtrail.api.responses import Detail, answers, failures
from llmtrail.api.surface import Surface
from llmtrail.core.files import FileType

ERRORS = {
    401: Detail,
    404: Detail,
    409: Detail,
    413: Detail,
    422: answer.HTTPValidationError,
    502: Detail,
    503: Detail,
}
surface = Surface(
    "Humanloop",
    errors=HumanloopErrors(),
    auth=principal,
    security=SECURITY_SCHEMES,
    prefix="/v5",
    responses=failures(ERRORS, 401, 413, 422),
    middleware=[BoundaryFromBody],  # the SDK's CSV upload
)
router = surface.router
MAX_PAGE_SIZE = 1000

# What each File type's routes answer.
FILES = {
    FileType.PROMPT: answer.PromptResponse,
    FileType.AGENT: answer.AgentResponse,
    FileType.FLOW: answer.FlowResponse,
    FileType.TOOL: answer.ToolResponse,
    FileType.EVALUATOR: answer.EvaluatorResponse,
}


def doc(model: object, *codes: int, status: int = 200) -> dict:
    """The `responses=` of a route of this surface."""
    return answers(status, model, ERRORS, *codes)
