"""The LLM judge: a model, over any OpenAI-compatible chat-completions endpoint, scores a log.

Its answer is read strictly: a JSON object with a `score` of the evaluator's type (or,
exactly, a bare number or boolean). Anything else is an error result that quotes it, never
a guess. What a retry can cure (a 429, a 5xx, a timeout, a lost connection) raises
`Transient`; what it cannot (a bad key, an unknown model, an answer of the wrong shape) is
the evaluation's result. Every result that got an answer carries the judge's own tokens,
cost and latency, since the judge's calls are paid for whatever they say.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from llmtrail.config import Settings
from llmtrail.core import templates
from llmtrail.core.pricing import cost_of
from llmtrail.core.scoring import EvalInputs, InvalidScore, Outcome, Transient, ValueSpec

EXCERPT_CHARS = 200


@dataclass(frozen=True)
class Judge:
    """One endpoint and key. Its client keeps connections open across calls and is safe to
    share between the worker's threads; `close` ends them."""

    base_url: str
    api_key: str | None = field(repr=False)  # kept out of logs
    timeout: float
    _client: httpx.Client = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)
        object.__setattr__(self, "_client", client)

    @classmethod
    def from_settings(cls, settings: Settings) -> Judge:
        return cls(settings.llm_base_url, settings.llm_api_key, settings.llm_timeout_seconds)

    def close(self) -> None:
        self._client.close()

    def score(
        self,
        *,
        model: str,
        template: str,
        inputs: EvalInputs,
        spec: ValueSpec,
        rubric: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Outcome:
        """Ask `model` to score `inputs` (the user message is `template`, rendered).

        Blocking: the API's "run it now" route calls it in a thread.
        """
        request: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": instructions(spec, rubric)},
                {"role": "user", "content": render(template, inputs)},
            ],
            "response_format": {"type": "json_object"},
        }
        if temperature is not None:
            request["temperature"] = temperature
        if max_tokens is not None:
            request["max_tokens"] = max_tokens
        started = time.perf_counter()
        try:
            response = self._client.post("/chat/completions", json=request)
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise Transient(f"the judge's provider did not answer ({reason})") from exc
        latency = time.perf_counter() - started
        if response.status_code == 429 or response.status_code >= 500:
            wait = _retry_after(response)
            later = f"; it asks to retry after {wait:g} s" if wait is not None else ""
            raise Transient(_status_error(response) + later, retry_after=wait)
        if not response.is_success:
            return Outcome.failed(_status_error(response), latency=latency)
        return _read(response, model, spec, latency)


def render(template: str, inputs: EvalInputs) -> str:
    """`template` with the log's parts as its `{{variable}}`s (`core.templates`)."""
    values = {
        "input": inputs.input,
        "output": inputs.output,
        "metadata": inputs.metadata,
        "ideal_output": inputs.ideal_output,
        "llm_input": inputs.input,
        "llm_output": inputs.output,
    }
    return templates.fill_text(template, values)


def instructions(spec: ValueSpec, rubric: str | None = None) -> str:
    """The system message: exactly how to answer, so that the answer can be read strictly."""
    parts = ["You are an evaluator. Judge what the user sends you."]
    if rubric and rubric.strip():
        parts.append(f"Judge it by this rubric:\n{rubric.strip()}")
    parts.append(
        "Answer with a JSON object and nothing else, in this form:\n"
        '{"score": <score>, "explanation": "<briefly, why you gave this score>"}\n'
        f"where <score> is {_allowed(spec)}."
    )
    return "\n\n".join(parts)


def parse(content: str, spec: ValueSpec) -> tuple[Any, str | None]:
    """The score and explanation in the judge's answer, or InvalidScore saying why not."""
    text = content.strip()
    if not text:
        raise InvalidScore("the answer is empty")
    try:
        answer = json.loads(text, parse_constant=_not_json)
    except ValueError:
        raise InvalidScore("the answer is not a JSON object") from None
    if isinstance(answer, bool | int | float):
        return spec.coerce(answer), None
    if not isinstance(answer, dict):
        raise InvalidScore("the answer is not a JSON object")
    if answer.get("score") is None:
        raise InvalidScore("the answer has no score")
    explanation = answer.get("explanation")
    if explanation is not None and not isinstance(explanation, str):
        raise InvalidScore("the answer's explanation is not a string")
    return spec.coerce(answer["score"]), explanation


def _read(response: httpx.Response, model: str, spec: ValueSpec, latency: float) -> Outcome:
    """The outcome of a successful call, read from its chat completion."""
    completion = _completion(response)
    if completion is None:
        error = f"the judge's provider answered with no chat completion: {_excerpt(response.text)}"
        return Outcome.failed(error, latency=latency)
    body, message = completion
    usage = _usage(body.get("usage"), model) | {"latency": latency}
    content, refusal = message.get("content") or "", message.get("refusal")
    if refusal and not content.strip():
        return Outcome.failed(f"the judge refused: {_excerpt(str(refusal))}", **usage)
    try:
        value, explanation = parse(content, spec)
    except InvalidScore as exc:
        said = f"; the judge answered: {_excerpt(content)}" if content.strip() else ""
        return Outcome.failed(f"{exc}{said}", **usage)
    return Outcome(value=value, explanation=explanation, **usage)


def _completion(response: httpx.Response) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The body and its first choice's message, if the body is a chat completion."""
    try:
        body = response.json()
        message = body["choices"][0]["message"]
    except (ValueError, LookupError, TypeError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("content"), str | None):
        return None
    return body, message


def _usage(usage: Any, model: str) -> dict[str, Any]:
    """The call's tokens and their cost (None when genai-prices does not know the model)."""
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details")
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else None
    cost = cost_of(model, None, prompt, completion, cached)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost": cost.total if cost else None,
    }


def _count(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else None


def _allowed(spec: ValueSpec) -> str:
    """What the score may be, in words the judge can follow."""
    choices = ", ".join(json.dumps(choice, ensure_ascii=False) for choice in spec.choices)
    if spec.type in ("numerical", "percentage"):
        low, high = spec.bounds()
        if low is not None and high is not None:
            number = f"a number from {low:g} to {high:g}"
        elif low is not None:
            number = f"a number no less than {low:g}"
        elif high is not None:
            number = f"a number no greater than {high:g}"
        else:
            number = "a number"
        return f"{number} (a percentage)" if spec.type == "percentage" else number
    if spec.type == "boolean":
        return "true or false, as a JSON boolean"
    if spec.type == "single_select":
        return f"exactly one of these strings: {choices}" if choices else "one string"
    if spec.type == "multi_select":
        if choices:
            return f"a JSON array of those of these strings that apply (maybe none): {choices}"
        return "a JSON array of strings"
    if spec.type == "text":
        return "a string"
    return "any JSON value"


def _retry_after(response: httpx.Response) -> float | None:
    """The wait the provider asked for, in seconds (the form providers send)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _status_error(response: httpx.Response) -> str:
    """The status and the provider's own message (OpenAI's `{"error": {"message": ...}}`, or
    else the body), which says what to fix: the key, the model's name, the request."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        error = error["message"]
    message = _excerpt(error if isinstance(error, str) else response.text)
    status = f"{response.status_code} {response.reason_phrase}".strip()
    return f"the judge's provider answered {status}" + (f": {message}" if message else "")


def _excerpt(text: str) -> str:
    """`text` on one line and cut short: enough to see what went wrong, at an error's end."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "…"


def _not_json(name: str) -> None:
    """Python reads NaN and Infinity; JSON has no such values."""
    raise ValueError(name)
