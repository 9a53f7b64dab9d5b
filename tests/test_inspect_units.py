"""In-process tests of the Inspect adapter's pieces: saved responses, samples, score values, metrics."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest

from shared_contract.loading import ContractError
from inspect_ai.model import ChatMessageUser, ContentImage, ModelName
from inspect_ai.scorer import SampleScore, Score
from inspect_ai.solver import TaskState

from asymmetryzero_inspect._naming import PACKAGE, registry_name_for
from asymmetryzero_inspect.judges import RoleBackend, choose_panel, parse_model_names
from asymmetryzero_inspect.metrics import invalid_vote_rate, judge_cost_usd, judge_latency_s, jury_split_rate
from asymmetryzero_inspect.scorer import _warn_if_changed
from asymmetryzero_inspect.solver import load_responses, replay_solver
from asymmetryzero_inspect.task import contract_samples
from asymmetryzero_inspect.verdict_score import SUMMARY_LIMIT, VALUE_KEYS, score_from_record, score_summary, score_value
from shared_contract.audit import Decision, VerdictRecord
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.loading import contract_from_data

# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _grade(data: dict[str, Any], response: str) -> VerdictRecord:
    return asyncio.run(Grader().grade(contract_from_data(data), Evidence(response=response)))


def _contract(criteria: list[dict[str, Any]], contract_id: str = "c1") -> dict[str, Any]:
    return {"id": contract_id, "task": {"prompt": "Name the capital of France."}, "criteria": criteria}


def _write_contract(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _sample_score(value: dict[str, float]) -> SampleScore:
    return SampleScore(score=Score(value=value), sample_id="s")  # type: ignore[arg-type]


def test_responses_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text('{"id": "a", "response": "one"}\n\n{"id": "b", "response": "two"}\n', encoding="utf-8")
    assert load_responses(path) == {"a": "one", "b": "two"}


def test_responses_json_mapping_and_list(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"a": "one"}), encoding="utf-8")
    listed = tmp_path / "listed.json"
    listed.write_text(json.dumps([{"id": "a", "response": "one"}]), encoding="utf-8")
    assert load_responses(mapping) == {"a": "one"}
    assert load_responses(listed) == {"a": "one"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id": "a", "response": "x"}\n{"id": "a", "response": "y"}\n', "appears twice"),
        ('{"id": "a"}\n', "expected an object"),
        ("not json\n", "invalid JSON"),
    ],
)
def test_responses_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_responses(path)


def test_replay_solver_missing_answer(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"known": "text"}), encoding="utf-8")
    solve = replay_solver(str(path))
    state = TaskState(model=ModelName("none/none"), sample_id="unknown", epoch=1, input="q", messages=[])

    async def no_generate(state: TaskState, **kwargs: Any) -> TaskState:
        raise AssertionError("the replay solver must not call the model")

    with pytest.raises(ValueError, match="no saved response for sample 'unknown'"):
        asyncio.run(solve(state, no_generate))  # type: ignore[arg-type]


def test_model_names_parsed() -> None:
    assert parse_model_names(None) == []
    assert parse_model_names(" replay/a, replay/b ") == ["replay/a", "replay/b"]
    with pytest.raises(ValueError, match="empty model name"):
        parse_model_names("replay/a,,replay/b")


def test_panel_precedence() -> None:
    backend = RoleBackend()
    name, judges = choose_panel(["replay/a", "replay/b"], "panel", backend)
    assert name == "custom"
    assert judges is not None and [judge.model for judge in judges] == ["replay/a", "replay/b"]
    assert choose_panel([], "panel", backend) == ("panel", None)
    # Outside a task no model role is bound, so the contract's default jury decides.
    assert choose_panel([], None, backend) == (None, None)


def test_registry_name_qualified_once() -> None:
    name = registry_name_for("contract_scorer")
    assert name in ("contract_scorer", f"{PACKAGE}/contract_scorer")


def test_samples_from_folder(tmp_path: Path) -> None:
    (tmp_path / "chart.png").write_bytes(PIXEL)
    (tmp_path / "notes.txt").write_text("reference notes", encoding="utf-8")
    with_image = _contract([{"id": "k", "requirement": "r", "method": "contains", "expected": "Paris"}], "with-image")
    with_image["task"]["reference_files"] = ["chart.png", "notes.txt"]
    _write_contract(tmp_path, "b.json", with_image)
    _write_contract(tmp_path, "a.json", _contract([{"id": "k", "requirement": "r", "method": "contains", "expected": "Paris"}], "plain"))
    (tmp_path / "ignored.txt").write_text("not a contract", encoding="utf-8")

    samples = contract_samples(tmp_path)
    assert [sample.id for sample in samples] == ["plain", "with-image"]
    assert samples[0].input == "Name the capital of France."
    assert samples[0].metadata is not None
    assert samples[0].metadata["contract_path"] == str((tmp_path / "a.json").resolve())

    message = samples[1].input[0]  # type: ignore[index]
    assert isinstance(message, ChatMessageUser)
    images = [part for part in message.content if isinstance(part, ContentImage)]  # type: ignore[union-attr]
    assert len(images) == 1
    assert images[0].image.startswith("data:image/png;base64,")


def test_samples_duplicate_ids_rejected(tmp_path: Path) -> None:
    criteria = [{"id": "k", "requirement": "r", "method": "contains", "expected": "Paris"}]
    _write_contract(tmp_path, "a.json", _contract(criteria, "same"))
    _write_contract(tmp_path, "b.json", _contract(criteria, "same"))
    with pytest.raises(ValueError, match="declared by both"):
        contract_samples(tmp_path)


def test_samples_missing_image_rejected(tmp_path: Path) -> None:
    data = _contract([{"id": "k", "requirement": "r", "method": "contains", "expected": "Paris"}])
    data["task"]["reference_files"] = ["missing.png"]
    _write_contract(tmp_path, "a.json", data)
    with pytest.raises(ContractError, match="missing.png"):
        contract_samples(tmp_path)


def test_unscored_value_is_nan() -> None:
    # The required jury criterion has no judges, so the task is UNSCORED although 'k' passed.
    record = _grade(
        _contract([
            {"id": "k", "requirement": "names Paris", "method": "contains", "expected": "Paris"},
            {"id": "j", "requirement": "is polite", "required": True},
        ]),
        "Final answer: Paris",
    )
    assert record.outcome is Decision.UNSCORED
    assert record.score == pytest.approx(1.0)
    value = score_value(record)
    assert tuple(value) == VALUE_KEYS
    assert math.isnan(value["score"])
    assert value["unscored"] == 1
    assert value["pass"] == 0
    assert value["votes"] == 0
    assert math.isnan(value["split_rate"])


def test_score_keeps_full_record() -> None:
    record = _grade(_contract([{"id": "k", "requirement": "names Paris", "method": "contains", "expected": "Paris"}]), "Paris")
    score = score_from_record(record)
    assert score.metadata is not None
    assert VerdictRecord.model_validate(score.metadata["record"]) == record
    assert score.value["score"] == 1.0  # type: ignore[index]
    assert "`k` (contains): PASS" in (score.explanation or "")


def test_summary_bounded_with_many_criteria() -> None:
    criteria = [
        {"id": f"criterion-{index:03d}-" + "x" * 90, "requirement": "names Paris", "method": "contains", "expected": "Paris"}
        for index in range(40)
    ]
    summary = score_summary(_grade(_contract(criteria), "Paris"))
    assert len(json.dumps(summary, ensure_ascii=False)) <= SUMMARY_LIMIT
    assert summary["criteria_omitted"] == 40 - len(summary["criteria"])
    assert summary["criteria_omitted"] > 0


def test_changed_contract_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    contract = contract_from_data(_contract([{"id": "k", "requirement": "r", "method": "contains", "expected": "Paris"}]))
    warned: set[str] = set()
    with caplog.at_level(logging.WARNING, logger="asymmetryzero_inspect.scorer"):
        _warn_if_changed(contract, "sha256:new", {"contract_hash": "sha256:old"}, warned)
        _warn_if_changed(contract, "sha256:new", {"contract_hash": "sha256:old"}, warned)
        _warn_if_changed(contract, "sha256:same", {"contract_hash": "sha256:same"}, set())
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "contract c1 changed since the eval ran" in messages[0]


def test_cost_total_unknown_when_any_unknown() -> None:
    known = _sample_score({"cost_usd": 0.5})
    unknown = _sample_score({"cost_usd": math.nan})
    assert judge_cost_usd()([known, known]) == pytest.approx(1.0)
    assert math.isnan(judge_cost_usd()([known, unknown]))  # type: ignore[arg-type]


def test_pooled_rates() -> None:
    scores = [
        _sample_score({"split_items": 2, "narrow_splits": 1, "votes": 6, "invalid_votes": 0, "judge_latency_s": 1.5}),
        _sample_score({"split_items": 0, "narrow_splits": 0, "votes": 0, "invalid_votes": 0, "judge_latency_s": 0.0}),
        _sample_score({"split_items": 3, "narrow_splits": 0, "votes": 9, "invalid_votes": 3, "judge_latency_s": 2.0}),
    ]
    assert jury_split_rate()(scores) == pytest.approx(1 / 5)
    assert invalid_vote_rate()(scores) == pytest.approx(3 / 15)
    assert judge_latency_s()(scores) == pytest.approx(3.5)
    assert math.isnan(invalid_vote_rate()([scores[1]]))  # type: ignore[arg-type]
    assert math.isnan(jury_split_rate()([scores[1]]))  # type: ignore[arg-type]
