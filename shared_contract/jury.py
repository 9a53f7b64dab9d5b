"""The jury engine: send one judge request per vote, retry what may recover, and record everything.

No error of one vote escapes this module: a vote that cannot be obtained is INVALID with a
reason, so the task and the run go on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay

from shared_contract.audit import COMPLETION_RECORD_CHARS, Attempt, Vote, VoteTiming, VoteVerdict
from shared_contract.backend import JudgeBackend, JudgeCallError, JudgeReply, JudgeRequest
from shared_contract.cache import VoteCache
from shared_contract.parsing import ParsedVerdict
from shared_contract.pricing import PriceTable
from shared_contract.schema import Judging

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JuryLimits:
    """Concurrency and back-off settings of a jury run."""

    max_concurrency: int = 32
    per_model_concurrency: int = 16
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0


@dataclass(frozen=True)
class VoteJob:
    """Everything needed to obtain one vote (or, batched, one judge's votes on several criteria)."""

    seat: str
    request: JudgeRequest
    parse: Callable[[str], dict[str, ParsedVerdict]]
    criterion_ids: tuple[str, ...]
    judging: Judging
    cache_key: str | None = None
    prompt_hash: str | None = None


@dataclass
class _Progress:
    attempts: list[Attempt] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    provider_cost: float | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JuryEngine:
    """Obtains votes under a global and a per-model concurrency limit."""

    def __init__(
        self,
        backend: JudgeBackend,
        prices: PriceTable | None = None,
        cache: VoteCache | None = None,
        limits: JuryLimits | None = None,
        on_vote: Callable[[Vote], None] | None = None,
    ):
        self.backend = backend
        self.prices = prices or PriceTable.load()
        self.cache = cache
        self.limits = limits or JuryLimits()
        self.on_vote = on_vote
        self._global = asyncio.Semaphore(self.limits.max_concurrency)
        self._per_model: dict[str, asyncio.Semaphore] = {}
        self.calls = 0

    def _model_slot(self, model: str) -> asyncio.Semaphore:
        if model not in self._per_model:
            limit = self.limits.per_model_concurrency
            provider_limit = getattr(self.backend, "max_concurrency", lambda _: None)(model)
            if provider_limit is not None:
                limit = min(limit, provider_limit)
            self._per_model[model] = asyncio.Semaphore(limit)
        return self._per_model[model]

    def _delay(self, error: BaseException | None, attempt_number: int) -> float:
        """Back off exponentially, and wait exactly a rate limit's Retry-After when it gives one."""
        if isinstance(error, JudgeCallError) and error.retry_after_s is not None:
            return max(error.retry_after_s, 0.0)
        return min(self.limits.backoff_base_s * 2 ** (attempt_number - 1), self.limits.backoff_max_s)

    async def _call_once(self, request: JudgeRequest, progress: _Progress, judging: Judging, ids: str) -> JudgeReply:
        number = len(progress.attempts) + 1
        error: JudgeCallError | None = None
        reply: JudgeReply | None = None
        # Hold the concurrency slots only for the call itself; recording happens after release.
        async with self._global, self._model_slot(request.model):
            self.calls += 1
            started = time.perf_counter()
            try:
                reply = await asyncio.wait_for(self.backend.complete(request), timeout=judging.attempt_timeout_s)
            except TimeoutError:
                error = JudgeCallError("timeout", f"no completion within {judging.attempt_timeout_s}s")
            except JudgeCallError as call_error:
                error = call_error
            except Exception as unexpected:  # A provider bug must cost one vote, never the run.
                error = JudgeCallError("error", f"{type(unexpected).__name__}: {unexpected}")
            latency = round(time.perf_counter() - started, 6)

        if reply is not None:
            progress.input_tokens += reply.input_tokens
            progress.output_tokens += reply.output_tokens
            progress.reasoning_tokens += reply.reasoning_tokens
            progress.cached_input_tokens += reply.cached_input_tokens
            if reply.cost_usd is not None:
                progress.provider_cost = (progress.provider_cost or 0.0) + reply.cost_usd
            progress.attempts.append(
                Attempt(
                    number=number,
                    status="ok",
                    max_tokens=request.settings.max_tokens,
                    input_tokens=reply.input_tokens,
                    output_tokens=reply.output_tokens,
                    latency_s=latency,
                )
            )
            return reply

        assert error is not None
        progress.attempts.append(
            Attempt(
                number=number,
                status=error.kind,
                error=str(error),
                retry_after_s=error.retry_after_s,
                max_tokens=request.settings.max_tokens,
                latency_s=latency,
            )
        )
        level = logging.INFO if error.transient else logging.WARNING
        logger.log(level, "judge call failed: model=%s criteria=%s attempt=%d kind=%s: %s", request.model, ids, number, error.kind, error)
        raise error

    async def _call_with_retries(self, request: JudgeRequest, progress: _Progress, judging: Judging, ids: str) -> JudgeReply:
        started = time.monotonic()
        # The first attempt runs without tenacity: most votes need no retry, and this is the hot path.
        try:
            return await self._call_once(request, progress, judging, ids)
        except JudgeCallError as error:
            if not error.transient or judging.max_attempts == 1:
                raise
            first_error = error

        budget = judging.max_total_s - (time.monotonic() - started)
        if budget <= 0:
            raise first_error
        await asyncio.sleep(min(self._delay(first_error, 1), budget))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(judging.max_attempts - 1) | stop_after_delay(max(budget - self._delay(first_error, 1), 0.0)),
            wait=lambda state: self._delay(state.outcome.exception() if state.outcome else None, state.attempt_number + 1),
            retry=retry_if_exception(lambda error: isinstance(error, JudgeCallError) and error.transient),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(request, progress, judging, ids)
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def run(self, job: VoteJob) -> dict[str, Vote]:
        """Obtain the job's votes, one per criterion id; never raises for judge or provider faults."""
        ids = ",".join(job.criterion_ids)
        if self.cache is not None and job.cache_key is not None:
            cached = self.cache.get(job.cache_key)
            if cached is not None:
                logger.debug("vote cache hit: seat=%s criteria=%s", job.seat, ids)
                votes = {cid: Vote.model_validate(vote) for cid, vote in _unpack(cached, job.criterion_ids).items()}
                for vote in votes.values():
                    vote.from_cache = True
                return votes

        started_at = _now()
        progress = _Progress()
        request = job.request
        reasks_left = job.judging.reask_unparseable
        widened = False
        final: dict[str, ParsedVerdict] | None = None
        completion: str | None = None
        failure: tuple[str, str] | None = None

        while True:
            try:
                reply = await self._call_with_retries(request, progress, job.judging, ids)
            except JudgeCallError as error:
                failure = (f"judge_{error.kind}" if error.kind != "error" else "provider_error", str(error))
                logger.warning("vote gave up: seat=%s model=%s criteria=%s after %d attempts: %s", job.seat, request.model, ids, len(progress.attempts), error)
                break
            completion = reply.completion
            if reply.finish_reason == "length":
                progress.attempts[-1] = progress.attempts[-1].model_copy(update={"status": "truncated"})
                if not widened:
                    # One retry with twice the room; a second cut-off makes the vote INVALID.
                    widened = True
                    bigger = request.settings.model_copy(update={"max_tokens": request.settings.max_tokens * 2})
                    request = replace(request, settings=bigger)
                    continue
                failure = ("truncated", "completion cut off at the token limit twice")
                break
            if reply.finish_reason == "content_filter":
                progress.attempts[-1] = progress.attempts[-1].model_copy(update={"status": "refusal"})
                failure = ("refusal", "the provider's content filter stopped the completion")
                break
            final = job.parse(reply.completion)
            unusable = [p for p in final.values() if p.verdict is None and p.status != "refusal"]
            if unusable and reasks_left > 0:
                reasks_left -= 1
                progress.attempts[-1] = progress.attempts[-1].model_copy(update={"status": "unparseable"})
                logger.info("asking again after an unparseable completion: seat=%s criteria=%s status=%s", job.seat, ids, unusable[0].status)
                continue
            break

        # Latency is time spent in judge calls; waits for a concurrency slot or a back-off are not the judge's.
        latency = round(sum(attempt.latency_s for attempt in progress.attempts), 6)
        timing = VoteTiming(started_at=started_at, finished_at=_now(), latency_s=latency)
        votes = self._build_votes(job, request, progress, final, completion, failure, timing)
        transport_failure = failure is not None and failure[0].startswith(("judge_", "provider_error"))
        if self.cache is not None and job.cache_key is not None and not transport_failure:
            self.cache.put(job.cache_key, _pack(votes))
        if self.on_vote is not None:
            for vote in votes.values():
                self.on_vote(vote)
        return votes

    def _build_votes(
        self,
        job: VoteJob,
        request: JudgeRequest,
        progress: _Progress,
        final: dict[str, ParsedVerdict] | None,
        completion: str | None,
        failure: tuple[str, str] | None,
        timing: VoteTiming,
    ) -> dict[str, Vote]:
        cost = progress.provider_cost
        if cost is None:
            cost = self.prices.cost(request.model, progress.input_tokens, progress.output_tokens, progress.cached_input_tokens)
        share = len(job.criterion_ids)
        # A batched request's usage is split evenly over its criteria; the first criterion takes the remainder.
        input_shares = _split(progress.input_tokens, share)
        cached_shares = _split_within(progress.cached_input_tokens, input_shares)
        output_shares = _split(progress.output_tokens, share)
        reasoning_shares = _split_within(progress.reasoning_tokens, output_shares)
        votes: dict[str, Vote] = {}
        for index, criterion_id in enumerate(job.criterion_ids):
            parsed = final.get(criterion_id) if final else None
            if failure is not None:
                verdict, reason, status = VoteVerdict.INVALID, f"{failure[0]}: {failure[1]}", failure[0]
            elif parsed is None or parsed.verdict is None:
                status = parsed.status if parsed else "no_verdict"
                detail = parsed.detail if parsed and parsed.detail else status
                verdict, reason = VoteVerdict.INVALID, f"{status}: {detail}"
            else:
                verdict, reason, status = VoteVerdict(parsed.verdict), None, "ok"
            first = index == 0
            votes[criterion_id] = Vote(
                seat=job.seat,
                model=request.model,
                settings=request.settings.model_dump(mode="json"),
                verdict=verdict,
                reason=reason,
                score=parsed.score if parsed else None,
                raw_score=parsed.raw_score if parsed else None,
                rationale=parsed.rationale if parsed else None,
                completion=completion[:COMPLETION_RECORD_CHARS] if completion is not None else None,
                completion_chars=len(completion) if completion is not None and len(completion) > COMPLETION_RECORD_CHARS else None,
                completion_cut=completion is not None and len(completion) > COMPLETION_RECORD_CHARS,
                parse_status=status,
                attempts=progress.attempts if first else [],
                input_tokens=input_shares[index],
                output_tokens=output_shares[index],
                reasoning_tokens=reasoning_shares[index],
                cached_input_tokens=cached_shares[index],
                cost_usd=None if cost is None else (cost / share),
                prompt_hash=job.prompt_hash,
                timing=timing,
            )
        return votes


def _split(total: int, share: int) -> list[int]:
    """Split a token count into ``share`` near-equal parts; the first part takes the remainder."""
    parts = [total // share] * share
    parts[0] += total % share
    return parts


def _split_within(total: int, limits: list[int]) -> list[int]:
    """Split ``total`` like ``_split``, but never give a part more than its limit.

    Cached input tokens are a subset of input tokens, so a vote's cached share must not exceed its
    input share. With 8 input and 7 cached tokens over 4 criteria, the plain split would give the
    first vote 4 cached tokens out of 2 input tokens. The excess goes to the next parts with room.
    When ``total`` exceeds ``sum(limits)`` (a provider that reports more cached than input tokens),
    the rest goes to the first part, so the parts always sum to ``total``.
    """
    parts = [min(part, limit) for part, limit in zip(_split(total, len(limits)), limits, strict=True)]
    excess = total - sum(parts)
    for index, limit in enumerate(limits):
        moved = min(excess, limit - parts[index])
        parts[index] += moved
        excess -= moved
    parts[0] += excess
    return parts


def _pack(votes: dict[str, Vote]) -> Vote:
    """Store several criteria's votes in one cache entry by nesting them in the first vote's detail."""
    first = next(iter(votes.values()))
    if len(votes) == 1:
        return first
    bundle = first.model_copy(update={"rationale": None})
    bundle.completion = None
    return Vote.model_validate(
        {**bundle.model_dump(), "reason": "batched", "parse_status": "batched", "attempts": [], "completion": _encode(votes)}
    )


def _encode(votes: dict[str, Vote]) -> str:
    return json.dumps({cid: vote.model_dump(mode="json") for cid, vote in votes.items()})


def _unpack(cached: Vote, criterion_ids: tuple[str, ...]) -> dict[str, Vote]:
    if len(criterion_ids) == 1:
        return {criterion_ids[0]: cached}
    stored = json.loads(cached.completion or "{}")
    return {cid: Vote.model_validate(stored[cid]) for cid in criterion_ids}
