"""Prompt caching: the shared part of a task's judge requests, the cache boundary sent through
Inspect, and how a request's usage (cached tokens included) is recorded and split over votes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from inspect_ai.model import (
    ChatMessage,
    ChatMessageUser,
    ContentText,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    get_model,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from shared_contract.backend import JudgeReply, JudgeRequest
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.inspect_backend import InspectBackend
from shared_contract.jury import JuryEngine
from shared_contract.loading import contract_from_data
from shared_contract.pricing import Price, PriceTable
from shared_contract.prompts import PART_SEPARATOR, batched_prompt, criterion_prompt
from shared_contract.schema import Contract, Judge, JudgeSettings

MATERIAL = "The gateway certificate expired at 09:12 UTC.\nPayments failed for 40 minutes."
NONCE = "0123456789abcdef01234567"
MODEL = "cache_capture/judge"


def _contract(criteria: int = 3, mode: str = "per_criterion") -> Contract:
    return contract_from_data(
        {
            "id": "cache-test",
            "task": {"prompt": "Summarise the incident.", "reference_answer": "An expired certificate."},
            "criteria": [{"id": f"K{index}", "requirement": f"Requirement number {index} holds."} for index in range(criteria)],
            "judging": {"mode": mode},
        }
    )


class CaptureAPI(ModelAPI):
    """Records every request's messages and returns PASS for each listed requirement, with fixed usage."""

    def __init__(
        self, model_name: str, base_url: str | None = None, api_key: str | None = None, config: GenerateConfig = GenerateConfig()
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        self.usage = ModelUsage()
        self.inputs: list[list[ChatMessage]] = []

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> ModelOutput:
        self.inputs.append(input)
        ids = [line.split()[-1] for line in input[-1].text.splitlines() if line.startswith("## Requirement ")]
        verdicts = ", ".join(f'{{"criterion": "{cid}", "verdict": "PASS", "reason": "ok"}}' for cid in ids)
        completion = f'{{"verdicts": [{verdicts}]}}' if len(ids) > 1 else '{"verdict": "PASS", "reason": "ok"}'
        output = ModelOutput.from_content(model="judge", content=completion)
        output.usage = self.usage
        return output


@modelapi(name="cache_capture")
def cache_capture() -> type[ModelAPI]:
    """Register CaptureAPI as the ``cache_capture`` provider."""
    return CaptureAPI


class FixedUsageBackend:
    """Returns PASS for each requirement of every request at once, always with the same usage."""

    def __init__(self, reply_usage: dict[str, Any]):
        self.reply_usage = reply_usage

    def accepts_images(self, model: str) -> bool:
        return False

    def max_concurrency(self, model: str) -> int | None:
        return None

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        ids = [line.split()[-1] for line in request.user.splitlines() if line.startswith("## Requirement ")]
        verdicts = ", ".join(f'{{"criterion": "{cid}", "verdict": "PASS", "reason": "ok"}}' for cid in ids)
        return JudgeReply(completion=f'{{"verdicts": [{verdicts}]}}', **self.reply_usage)


def _grade_with_capture(contract: Contract, usage: ModelUsage) -> tuple[CaptureAPI, Any]:
    model = get_model(MODEL, memoize=False)
    api = model.api
    assert isinstance(api, CaptureAPI)
    api.usage = usage
    backend = InspectBackend(models={MODEL: model})
    record = asyncio.run(Grader(JuryEngine(backend)).grade(contract, Evidence(response=MATERIAL), judges=[Judge(model=MODEL)]))
    return api, record


def test_shared_part_identical_and_first() -> None:
    contract = _contract()
    first = criterion_prompt(contract, contract.criteria[0], MATERIAL, NONCE)
    second = criterion_prompt(contract, contract.criteria[1], MATERIAL, NONCE)

    assert first.shared_user == second.shared_user
    assert first.system == second.system
    assert first.user.startswith(first.shared_user)
    assert second.user.startswith(second.shared_user)
    assert first.user == first.shared_user + PART_SEPARATOR + first.criterion_user
    assert MATERIAL in first.shared_user
    assert "## Requirement" not in first.shared_user
    assert first.criterion_user.startswith("## Requirement K0")
    assert second.criterion_user.startswith("## Requirement K1")
    assert first.cache_boundary == len(first.shared_user)


def test_batched_prompt_shares_the_same_part() -> None:
    contract = _contract()
    single = criterion_prompt(contract, contract.criteria[0], MATERIAL, NONCE)
    batch = batched_prompt(contract, contract.criteria, MATERIAL, NONCE)

    assert batch.shared_user == single.shared_user
    assert batch.user == batch.shared_user + PART_SEPARATOR + batch.criterion_user
    for criterion in contract.criteria:
        assert f"## Requirement {criterion.id}" in batch.criterion_user


def test_request_rejects_boundary_off_newline() -> None:
    with pytest.raises(ValueError, match="cache_boundary 3"):
        JudgeRequest(model=MODEL, system="s", user="abcdef", settings=JudgeSettings(), cache_boundary=3)
    request = JudgeRequest(model=MODEL, system="s", user="abc\ndef", settings=JudgeSettings(), cache_boundary=3)
    assert request.user_parts() == ("abc", "def")


def test_inspect_request_marks_shared_part() -> None:
    contract = _contract()
    api, record = _grade_with_capture(contract, ModelUsage(input_tokens=10, output_tokens=5))
    criteria = {criterion.id: criterion for criterion in contract.criteria}

    assert len(api.inputs) == len(contract.criteria)
    shared_parts = set()
    for messages in api.inputs:
        user = messages[-1]
        assert isinstance(user, ChatMessageUser)
        assert isinstance(user.content, list)
        assert len(user.content) == 2
        shared, criterion = user.content
        assert isinstance(shared, ContentText)
        assert isinstance(criterion, ContentText)
        assert shared.cache_breakpoint is True
        assert not criterion.cache_breakpoint
        assert criterion.text.startswith("## Requirement ")
        shared_parts.add(shared.text)
        # The joined text is the full prompt, so providers matching on ChatMessage.text see no change.
        criterion_id = criterion.text.split()[2]
        nonce = next(line for line in shared.text.splitlines() if line.startswith("<<<MATERIAL ")).split()[1].rstrip(">")
        expected = criterion_prompt(contract, criteria[criterion_id], MATERIAL, nonce)
        assert user.text == expected.user
    assert len(shared_parts) == 1
    assert all(result.votes[0].verdict.value == "PASS" for result in record.criteria)


def test_inspect_usage_counts_cached_tokens() -> None:
    usage = ModelUsage(input_tokens=100, output_tokens=7, input_tokens_cache_read=900, input_tokens_cache_write=50)
    _, record = _grade_with_capture(_contract(criteria=1), usage)
    vote = record.criteria[0].votes[0]

    # Inspect's input_tokens excludes cache reads and writes; the vote counts every prompt token.
    assert vote.input_tokens == 1050
    assert vote.cached_input_tokens == 900
    assert vote.uncached_input_tokens == 150
    assert record.totals.input_tokens == 1050
    assert record.totals.cached_input_tokens == 900
    assert record.totals.uncached_input_tokens == 150


@pytest.mark.parametrize(
    ("criteria", "input_tokens", "cached", "output_tokens", "reasoning"),
    [(4, 8, 7, 5, 3), (4, 10, 9, 4, 4), (3, 1000, 640, 301, 0), (5, 0, 0, 0, 0), (2, 7, 7, 3, 3)],
)
def test_batched_usage_split_sums(criteria: int, input_tokens: int, cached: int, output_tokens: int, reasoning: int) -> None:
    contract = _contract(criteria=criteria, mode="batched")
    backend = FixedUsageBackend(
        {"input_tokens": input_tokens, "cached_input_tokens": cached, "output_tokens": output_tokens, "reasoning_tokens": reasoning}
    )
    prices = PriceTable({MODEL: Price(input=3.0, output=15.0, cached_input=0.3)})
    engine = JuryEngine(backend, prices=prices)
    record = asyncio.run(Grader(engine).grade(contract, Evidence(response=MATERIAL), judges=[Judge(model=MODEL)]))
    votes = [result.votes[0] for result in record.criteria]

    assert engine.calls == 1
    assert sum(vote.input_tokens for vote in votes) == input_tokens
    assert sum(vote.cached_input_tokens for vote in votes) == cached
    assert sum(vote.output_tokens for vote in votes) == output_tokens
    assert sum(vote.reasoning_tokens for vote in votes) == reasoning
    for vote in votes:
        assert 0 <= vote.cached_input_tokens <= vote.input_tokens
        assert 0 <= vote.reasoning_tokens <= vote.output_tokens
    expected_cost = prices.cost(MODEL, input_tokens, output_tokens, cached)
    assert expected_cost is not None
    assert sum(vote.cost_usd or 0.0 for vote in votes) == pytest.approx(expected_cost)
    assert record.totals.input_tokens == input_tokens
    assert record.totals.cached_input_tokens == cached
    assert record.totals.cost_usd == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("label", "expected"),
    [("K2", "K2"), ("Requirement K2", "K2"), ("requirement k2", "K2"), ("2", "K2"), ("Requirement 1", "K1"), ("7", None), ("K9", None)],
)
def test_batched_label_resolution(label: str, expected: str | None) -> None:
    from shared_contract.parsing import parse_batched
    from shared_contract.schema import BinaryScale

    completion = json.dumps({"verdicts": [{"criterion": label, "verdict": "PASS"}]})
    parsed = parse_batched(completion, {"K1": BinaryScale(), "K2": BinaryScale()})
    for criterion_id, verdict in parsed.items():
        if criterion_id == expected:
            assert verdict.verdict == "PASS"
        else:
            assert verdict.verdict is None
