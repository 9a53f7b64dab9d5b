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
    """One request to one judge model.

    ``cache_boundary`` is the length in characters of the leading part of ``user`` that every
    request of the same judge and graded task shares (``JudgePrompt.shared_user``), or 0 when no
    boundary is marked. The character at that offset is the newline that joins the two parts.
    """

    model: str
    system: str
    user: str
    settings: JudgeSettings
    images: tuple[Path, ...] = ()
    response_schema: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    cache_boundary: int = 0

    def __post_init__(self) -> None:
        if self.cache_boundary and not (0 < self.cache_boundary < len(self.user) and self.user[self.cache_boundary] == "\n"):
            raise ValueError(
                f"cache_boundary {self.cache_boundary} must be the offset of a newline inside user "
                f"(length {len(self.user)}); pass JudgePrompt.cache_boundary, or 0 for no boundary"
            )

    def user_parts(self) -> tuple[str, ...]:
        """Split ``user`` at the cache boundary into (shared part, rest), dropping the joining newline.

        Returns ``(user,)`` when no boundary is marked. Joining the parts with a newline gives ``user``.
        """
        if not self.cache_boundary:
            return (self.user,)
        return self.user[: self.cache_boundary], self.user[self.cache_boundary + 1 :]


@dataclass(frozen=True)
class JudgeReply:
    """A judge's completion with the usage the provider reported.

    ``finish_reason`` is "stop", "length" (cut at the token limit), "content_filter" or None.
    ``input_tokens`` counts every prompt token, cached or not; ``cached_input_tokens`` is the part
    of it read from the provider's prompt cache, billed at the cached rate.
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
