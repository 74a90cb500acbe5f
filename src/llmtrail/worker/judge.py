"""The LLM judge: a model, over any OpenAI-compatible chat-completions endpoint, scores a log.

Its answer is read strictly: a JSON object with a `score` of the evaluator's type (or,
exactly, a bare number or boolean). Anything else is an error result that quotes it, never
a guess. What a retry can cure (a 429, a 5xx, a timeout, a lost connection) raises
`Transient`; what it cannot (a bad key, an unknown model, an answer of the wrong shape) is
the evaluation's result. Every result that got an answer carries the judge's own tokens,
cost and latency, since the judge's calls are paid for whatever they say. The call itself
is `providers.openai_chat`'s, shared with Prompt calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from llmtrail.config import Settings
from llmtrail.core import templates
from llmtrail.core.scoring import EvalInputs, InvalidScore, Outcome, Transient, ValueSpec
from llmtrail.providers.openai_chat import ChatClient, Completion, ProviderError, excerpt

NAME = "the judge's provider"


@dataclass(frozen=True)
class Judge:
    """One endpoint and key (`providers.openai_chat`). Its client keeps connections open
    across calls and is safe to share between the worker's threads; `close` ends them."""

    base_url: str
    api_key: str | None = field(repr=False)  # kept out of logs
    timeout: float
    _client: ChatClient = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        client = ChatClient(self.base_url, self.api_key, self.timeout, NAME)
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
        try:
            completion = self._client.complete(request)
        except ProviderError as exc:
            if exc.transient:
                raise Transient(exc.message, retry_after=exc.retry_after) from exc
            return Outcome.failed(exc.message, latency=exc.latency)
        return _read(completion, model, spec)


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


def _read(completion: Completion, model: str, spec: ValueSpec) -> Outcome:
    """The outcome of a chat completion: the judge's score, or why its answer is not one."""
    usage = completion.usage
    cost = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost": usage.cost(model),
        "latency": completion.latency,
    }
    content, refusal = completion.content, completion.message.get("refusal")
    if refusal and not content.strip():
        return Outcome.failed(f"the judge refused: {excerpt(str(refusal))}", **cost)
    try:
        value, explanation = parse(content, spec)
    except InvalidScore as exc:
        said = f"; the judge answered: {excerpt(content)}" if content.strip() else ""
        return Outcome.failed(f"{exc}{said}", **cost)
    return Outcome(value=value, explanation=explanation, **cost)


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


def _not_json(name: str) -> None:
    """Python reads NaN and Infinity; JSON has no such values."""
    raise ValueError(name)
