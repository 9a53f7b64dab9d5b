"""Tests for the offline local judge provider.

The request and output conversions run without llama-cpp-python. The smoke test loads the real
model and skips when llama-cpp-python or the packaged weights are not installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentImage,
    ContentReasoning,
    ContentText,
    GenerateConfig,
    ResponseSchema,
    get_model,
)
from inspect_ai.util import JSONSchema

from asymmetryzero_inspect import local_model
from shared_contract.local_weights import LocalWeightsError, ensure_local_weights

VERDICT_SCHEMA = JSONSchema(
    type="object",
    properties={
        "verdict": JSONSchema(type="string", enum=["PASS", "FAIL"]),
        "reason": JSONSchema(type="string"),
    },
    required=["verdict", "reason"],
)


def _llama_response(text: str, finish_reason: str, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def test_build_request_maps_roles_and_config() -> None:
    messages = [
        ChatMessageSystem(content="You grade answers."),
        ChatMessageUser(content=[ContentText(text="Question"), ContentText(text="Answer: 4")]),
        ChatMessageAssistant(content=[ContentReasoning(reasoning="hidden"), ContentText(text="PASS")]),
    ]
    config = GenerateConfig(temperature=0.0, seed=7, max_tokens=64, stop_seqs=["\n\n"], top_p=0.9)

    request = local_model._build_request(messages, config)

    assert request["messages"] == [
        {"role": "system", "content": "You grade answers."},
        {"role": "user", "content": "Question\nAnswer: 4"},
        {"role": "assistant", "content": "PASS"},
    ]
    assert request["temperature"] == 0.0
    assert request["seed"] == 7
    assert request["max_tokens"] == 64
    assert request["stop"] == ["\n\n"]
    assert request["top_p"] == 0.9
    assert "response_format" not in request


def test_build_request_passes_response_schema() -> None:
    config = GenerateConfig(response_schema=ResponseSchema(name="verdict", json_schema=VERDICT_SCHEMA))

    request = local_model._build_request([ChatMessageUser(content="Grade it")], config)

    assert request["response_format"]["type"] == "json_object"
    assert request["response_format"]["schema"]["required"] == ["verdict", "reason"]
    assert request["response_format"]["schema"]["properties"]["verdict"]["enum"] == ["PASS", "FAIL"]


def test_build_request_notes_skipped_image(caplog: pytest.LogCaptureFixture) -> None:
    message = ChatMessageUser(content=[ContentText(text="Look"), ContentImage(image="data:image/png;base64,AAAA")])

    request = local_model._build_request([message], GenerateConfig())

    text = request["messages"][0]["content"]
    assert text.startswith("Look\n")
    assert "[image omitted: this model reads text only" in text
    assert "AAAA" not in text
    assert "skipped image content" in caplog.text


def test_build_request_rejects_tool_message() -> None:
    message = ChatMessageTool(content="42", tool_call_id="call-1", function="add")

    with pytest.raises(ValueError, match="does not support tool calling"):
        local_model._build_request([ChatMessageUser(content="Hi"), message], GenerateConfig())


def test_output_stop_reason_stop() -> None:
    output = local_model._to_model_output("m", _llama_response("PASS", "stop", 20, 3), n_ctx=8192, elapsed=0.5)

    assert output.completion == "PASS"
    assert output.stop_reason == "stop"
    assert output.usage is not None
    assert output.usage.input_tokens == 20
    assert output.usage.output_tokens == 3
    assert output.usage.total_tokens == 23
    assert output.time == 0.5


def test_output_stop_reason_max_tokens() -> None:
    output = local_model._to_model_output("m", _llama_response("{\"verd", "length", 20, 5), n_ctx=8192, elapsed=0.1)

    assert output.stop_reason == "max_tokens"


def test_output_stop_reason_context_full() -> None:
    output = local_model._to_model_output("m", _llama_response("...", "length", 8000, 192), n_ctx=8192, elapsed=0.1)

    assert output.stop_reason == "model_length"


def _extract_json_object(text: str) -> dict[str, Any]:
    start = text.find("{")
    end = text.rfind("}")
    assert start != -1, f"no JSON object in model output: {text!r}"
    assert end > start, f"no JSON object in model output: {text!r}"
    parsed = json.loads(text[start : end + 1])
    assert isinstance(parsed, dict), f"model output is not a JSON object: {text!r}"
    return parsed


@pytest.mark.local_model
async def test_local_model_returns_json_verdicts() -> None:
    pytest.importorskip("llama_cpp")
    try:
        ensure_local_weights(progress=False)
    except LocalWeightsError as error:
        pytest.skip(f"local judge weights unavailable: {error}")

    model = get_model("local/qwen2.5-coder-1.5b", config=GenerateConfig(temperature=0.0, seed=1, max_tokens=128))
    instruction = 'Reply with only a JSON object {"verdict": "PASS" or "FAIL", "reason": "<one sentence>"}.'

    constrained = await model.generate(
        f"Criterion: the answer equals 4.\nAnswer: 2 + 2 = 4\n{instruction}",
        config=GenerateConfig(response_schema=ResponseSchema(name="verdict", json_schema=VERDICT_SCHEMA)),
    )
    free_text = await model.generate(f"Criterion: the answer names a prime number.\nAnswer: 9\n{instruction}")

    for output in (constrained, free_text):
        verdict = _extract_json_object(output.completion)
        assert verdict.get("verdict") in {"PASS", "FAIL"}, output.completion
        assert output.usage is not None
        assert output.usage.input_tokens > 0
        assert output.usage.output_tokens > 0


@pytest.mark.parametrize("n_ctx", [0, 300, -256])
def test_provider_rejects_invalid_n_ctx(n_ctx: int) -> None:
    with pytest.raises(ValueError, match="multiple of 256"):
        local_model.LocalLlamaAPI("qwen2.5-coder-1.5b", n_ctx=n_ctx)


def test_provider_rejects_unknown_model() -> None:
    with pytest.raises(ValueError, match="Unknown local model 'no-such-model'"):
        local_model.LocalLlamaAPI("no-such-model")


def test_provider_rejects_missing_model_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"

    with pytest.raises(ValueError, match="is not a file"):
        local_model.LocalLlamaAPI("custom", model_path=str(missing))
