"""The judge backend interface: one request in, one completion out, or a classified error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from shared_contract.schema import JudgeSettings

ErrorKind = Literal["rate_limited", "server_error", "timeout", "connection_error", "error"]
TRANSIENT_KINDS: frozenset[str] = frozenset({"rate_limited", "server_error", "timeout", "connection_error"})


@dataclass(frozen=True)
class JudgeRequest:
    """One request to one judge model."""

    model: str
    system: str
    user: str
    settings: JudgeSettings
    images: tuple[Path, ...] = ()
    response_schema: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgeReply:
    """A judge's completion with the usage the provider reported.

    ``finish_reason`` is "stop", "length" (cut at the token limit), "content_filter" or None.
    """

    completion: str
    finish_reason: str | None = "stop"
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None


class JudgeCallError(Exception):
    """A judge request failed; ``kind`` says whether a retry may help."""

    def __init__(self, kind: ErrorKind, message: str, retry_after_s: float | None = None, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after_s = retry_after_s
        self.status = status

    @property
    def transient(self) -> bool:
        """True for rate limits, server errors, timeouts and connection errors."""
        return self.kind in TRANSIENT_KINDS


class JudgeBackend(Protocol):
    """Sends judge requests. Implementations raise JudgeCallError for failed requests."""

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Send one request and return the completion."""
        ...

    def accepts_images(self, model: str) -> bool:
        """Return whether the model takes image input."""
        ...

    def max_concurrency(self, model: str) -> int | None:
        """Return how many requests the model serves at once, or None when it sets no limit.

        The engine never has more requests in flight for the model, so a request's time limit
        measures the request and not a wait in the provider's own queue.
        """
        ...
