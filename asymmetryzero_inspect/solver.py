"""The replay solver: set each sample's completion from saved responses, without calling a model."""

from __future__ import annotations

import json
from pathlib import Path

from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver

from asymmetryzero_inspect._naming import registry_name_for

REPLAY_MODEL_NAME = "replay_solver"


def _jsonl_responses(path: Path, text: str) -> dict[str, str]:
    answers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: invalid JSON: {error.msg}; write one JSON object per line") from None
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("response"), str):
            raise ValueError(f'{path}:{number}: expected an object {{"id": <contract id>, "response": <response text>}}, got {line.strip()[:80]!r}')
        if item["id"] in answers:
            raise ValueError(f"{path}:{number}: contract id {item['id']!r} appears twice; keep one response per contract")
        answers[item["id"]] = item["response"]
    return answers


def load_responses(path: str | Path) -> dict[str, str]:
    """Read saved responses by contract id.

    A ``.jsonl`` file has one ``{"id": ..., "response": ...}`` object per line. Any other file is
    JSON: an object mapping contract id to response text, or a list of id/response objects.

    Raises:
        ValueError: the file is not in one of these forms, or a contract id appears twice.
        OSError: the file cannot be read.
    """
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".jsonl":
        return _jsonl_responses(file, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{file}: invalid JSON at line {error.lineno}: {error.msg}") from None
    if isinstance(data, list):
        return _jsonl_responses(file, "\n".join(json.dumps(item) for item in data))
    if isinstance(data, dict) and all(isinstance(key, str) and isinstance(value, str) for key, value in data.items()):
        return dict(data)
    raise ValueError(f"{file}: expected an object mapping contract id to response text, or a list of {{id, response}} objects")


@solver(name=registry_name_for("replay_solver"))
def replay_solver(responses: str) -> Solver:
    """Set the completion to the saved response for the sample's id.

    Args:
        responses: A JSON or JSONL file of saved responses (see ``load_responses``).

    Returns:
        A solver that appends the response as the assistant message and sets ``state.output``.
        A sample whose id has no saved response raises ``ValueError``, which errors that sample.
    """
    answers = load_responses(responses)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        key = str(state.sample_id)
        if key not in answers:
            raise ValueError(f"no saved response for sample {key!r} in {responses}; add a response for contract id {key!r} to that file")
        output = ModelOutput.from_content(model=REPLAY_MODEL_NAME, content=answers[key])
        state.output = output
        state.messages.append(output.message)
        return state

    return solve
