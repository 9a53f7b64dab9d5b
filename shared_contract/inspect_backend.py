"""Judge backend on Inspect AI's model API, so every Inspect provider can judge.

inspect_ai is imported only when this backend is used; the rest of the core runs without it.
Inspect's own retry loop is turned off (``max_retries=0``) so the jury engine sees, records and
retries every failed attempt itself.

NOTE: provider SDKs may still retry inside one Inspect call: the OpenAI SDK retries 5xx responses
twice by default, so for ``openai/`` judges one recorded attempt can stand for up to three requests.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
from typing import Any

from shared_contract.backend import ErrorKind, JudgeCallError, JudgeReply, JudgeRequest

logger = logging.getLogger(__name__)

# Environment variables whose values are treated as credentials, by name suffix.
_SECRET_SUFFIXES = ("_API_KEY", "_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
_MIN_SECRET_CHARS = 8
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)


def redact_secrets(text: str) -> str:
    """Replace credentials in a provider's error text with [REDACTED].

    Some providers and gateways repeat the request's key in their error messages, and those
    messages end up in verdict records and logs. Redacted: the value of every environment variable
    whose name ends in _API_KEY, _KEY, _TOKEN, _SECRET or _PASSWORD (8 characters or more), and the
    token after "Bearer".
    """
    for name, value in os.environ.items():
        if len(value) >= _MIN_SECRET_CHARS and name.upper().endswith(_SECRET_SUFFIXES) and value in text:
            text = text.replace(value, "[REDACTED]")
    return _BEARER.sub(r"\1[REDACTED]", text)


_IMAGE_PREFIXES = ("openai/", "anthropic/", "google/", "openrouter/", "grok/", "mistral/pixtral", "bedrock/anthropic")


def _status_of(error: BaseException) -> int | None:
    for holder in (error, getattr(error, "response", None)):
        for name in ("status_code", "status", "http_status"):
            value = getattr(holder, name, None)
            if isinstance(value, int):
                return value
    return None


def _retry_after_of(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    if value is None:
        headers = getattr(getattr(error, "response", None), "headers", None)
        value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def classify_error(error: BaseException) -> JudgeCallError:
    """Map a provider exception to a JudgeCallError whose kind says whether to retry."""
    if isinstance(error, JudgeCallError):
        return error
    inner = getattr(error, "last_attempt", None)
    if inner is not None and inner.exception() is not None:
        # tenacity.RetryError from Inspect's retry wrapper: classify the underlying failure.
        return classify_error(inner.exception())
    status = _status_of(error)
    name = type(error).__name__.lower()
    kind: ErrorKind
    if status == 429 or "ratelimit" in name:
        kind = "rate_limited"
    elif status is not None and status >= 500:
        kind = "server_error"
    elif isinstance(error, TimeoutError) or "timeout" in name:
        kind = "timeout"
    elif isinstance(error, ConnectionError) or "connect" in name:
        kind = "connection_error"
    else:
        kind = "error"
    return JudgeCallError(kind, redact_secrets(f"{type(error).__name__}: {error}"), _retry_after_of(error), status)


class InspectBackend:
    """Sends judge requests through ``inspect_ai.model``.

    Args:
        models: Inspect Model objects by model name (for example those bound to a model role),
            used before ``get_model`` is asked for a model name.
        image_models: Model names known to take images, beyond the built-in provider prefixes.
    """

    def __init__(self, models: dict[str, Any] | None = None, image_models: set[str] | None = None):
        self._models: dict[str, Any] = dict(models or {})
        self._image_models = set(image_models or ())

    def _model(self, name: str) -> Any:
        if name not in self._models:
            from inspect_ai.model import get_model

            self._models[name] = get_model(name)
        return self._models[name]

    def max_concurrency(self, model: str) -> int | None:
        """Return the provider's own limit on concurrent requests (1 for the local model), if it sets one."""
        try:
            limit = self._model(model).api.max_connections()
        except Exception:  # A provider that cannot be built yet fails its votes later, with a reason.
            return None
        return limit if isinstance(limit, int) and limit > 0 else None

    def accepts_images(self, model: str) -> bool:
        """Return whether the model is known to take image input."""
        return model in self._image_models or model.startswith(_IMAGE_PREFIXES)

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Send one request through Inspect; raise JudgeCallError on any provider failure."""
        from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig

        settings = request.settings
        config = GenerateConfig(
            temperature=settings.temperature,
            seed=settings.seed,
            max_tokens=settings.max_tokens,
            top_p=settings.top_p,
            reasoning_effort=settings.reasoning_effort,
            max_retries=0,
            # Requests of one task share their leading part (instructions, task, evidence), so let
            # providers that need an explicit switch (Anthropic) cache it.
            cache_prompt="auto",
        )
        messages = [ChatMessageSystem(content=request.system), ChatMessageUser(content=user_content(request))]

        try:
            output = await self._model(request.model).generate(messages, config=config)
        except Exception as error:  # Every provider raises its own types; classify, never crash the vote.
            raise classify_error(error) from error

        if output.error:
            raise JudgeCallError("error", redact_secrets(f"provider returned an error: {output.error}"))
        usage = output.usage
        stop = output.stop_reason
        finish = {"max_tokens": "length", "model_length": "length", "content_filter": "content_filter"}.get(stop, "stop")
        cache_read = (usage.input_tokens_cache_read if usage else 0) or 0
        cache_write = (usage.input_tokens_cache_write if usage else 0) or 0
        # Inspect's ModelUsage.input_tokens excludes cache reads and cache writes (OpenAI, Anthropic,
        # Google and Bedrock providers in inspect-ai 0.3.285), while JudgeReply.input_tokens counts
        # every prompt token. Cache writes are billed here at the uncached input rate.
        # NOTE: Anthropic bills cache writes at 1.25x the input rate, so their cost is underestimated.
        return JudgeReply(
            completion=output.completion,
            finish_reason=finish,
            input_tokens=((usage.input_tokens if usage else 0) or 0) + cache_read + cache_write,
            output_tokens=(usage.output_tokens if usage else 0) or 0,
            reasoning_tokens=(usage.reasoning_tokens if usage else 0) or 0,
            cached_input_tokens=cache_read,
        )


def user_content(request: JudgeRequest) -> Any:
    """Build the user message content: plain text, or content parts with a cache boundary.

    With a cache boundary the shared part and the criterion part become two ContentText parts, and
    the shared part carries ``cache_breakpoint=True``. Inspect 0.3.285 passes the mark on to
    Anthropic and to OpenAI gpt-5.6 and later, which then cache the prompt up to that part. Other
    providers ignore it and cache by prefix on their own, or not at all. ``ChatMessage.text`` joins
    the parts with a newline, so it equals ``request.user``.

    Returns:
        A string when there is no boundary and no image, else a list of Inspect content parts.
    """
    from inspect_ai.model import ContentImage, ContentText

    parts = request.user_parts()
    if len(parts) == 1 and not request.images:
        return request.user
    content: list[Any] = [ContentText(text=parts[0], cache_breakpoint=len(parts) > 1 or None)]
    content.extend(ContentText(text=part) for part in parts[1:])
    # NOTE: reference images follow the criterion part, so they are outside the marked cache prefix.
    for path in request.images:
        media = mimetypes.guess_type(path.name)[0] or "image/png"
        content.append(ContentImage(image=f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode()}"))
    return content
