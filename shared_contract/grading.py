"""Grade one sample against a contract: checks, jury votes, decisions, and the verdict record."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared_contract.aggregation import TaskOutcome, decide_criterion, decide_task, median_score
from shared_contract.backend import JudgeRequest
from shared_contract.audit import (
    CriterionResult,
    Decision,
    JurySummary,
    RunInfo,
    Totals,
    VerdictRecord,
    Vote,
    VoteVerdict,
    package_version,
)
from shared_contract.cache import vote_key
from shared_contract.checks import run_check
from shared_contract.evidence import Evidence, Material, resolve_material
from shared_contract.jury import JuryEngine, VoteJob
from shared_contract.loading import contract_hash
from shared_contract.parsing import ParsedVerdict, parse_batched, parse_verdict
from shared_contract.prompts import TEMPLATE_HASH, JudgePrompt, batched_prompt, criterion_prompt, new_nonce
from shared_contract.schema import (
    BinaryScale,
    Contract,
    Criterion,
    EmptyResponsePolicy,
    Judge,
    JudgingMode,
    Method,
    Target,
    VoteRuleKind,
)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seat:
    """A judge seat on the panel: its name and judge."""

    name: str
    judge: Judge


def seats_for(judges: list[Judge]) -> list[Seat]:
    """Name the seats J1, J2, ... unless the judges carry names."""
    return [Seat(judge.name or f"J{index}", judge) for index, judge in enumerate(judges, start=1)]


def select_jury(contract: Contract, jury: str | None = None, judges: list[Judge] | None = None) -> tuple[str | None, list[Judge]]:
    """Pick the judges: explicit judges win, then the named jury, then the contract's default jury.

    Raises:
        KeyError: the named jury is not in the contract.
    """
    if judges:
        return jury or "custom", list(judges)
    name = jury or contract.default_jury
    if name is None:
        return None, []
    if name not in contract.juries:
        raise KeyError(f"jury {name!r} not found in contract {contract.id!r}; available: {sorted(contract.juries)}")
    return name, list(contract.juries[name])


def _reference_images(contract: Contract, base_dir: Path | None) -> list[Path]:
    images = []
    for name in contract.task.reference_files:
        path = (base_dir or Path(".")) / name
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".gif"}:
            images.append(path)
    return images


def _not_called(seats: list[Seat], reason: str) -> list[Vote]:
    return [
        Vote(seat=s.name, model=s.judge.model, settings=s.judge.settings.model_dump(mode="json"), verdict=VoteVerdict.NOT_CALLED, reason=reason)
        for s in seats
    ]


def _result(criterion: Criterion, decision: Decision, reason: str | None, **extra: object) -> CriterionResult:
    return CriterionResult(
        id=criterion.id,
        method=criterion.method.value,
        weight=criterion.weight,
        polarity=criterion.polarity.value,
        required=criterion.required,
        group=criterion.group,
        decision=decision,
        reason=reason,
        **extra,
    )


class Grader:
    """Grades samples against contracts with one jury engine, shared across samples for global limits."""

    def __init__(self, engine: JuryEngine | None = None):
        self.engine = engine

    async def grade(
        self,
        contract: Contract,
        evidence: Evidence,
        *,
        judges: list[Judge] | None = None,
        jury: str | None = None,
        base_dir: str | Path | None = None,
        sample_id: str | None = None,
        epoch: int | None = None,
        solver: str | None = None,
        framework: str = "cli",
        run_id: str | None = None,
    ) -> VerdictRecord:
        """Grade one sample and return its verdict record. Judge and provider faults never raise."""
        started_at, started = datetime.now(UTC).isoformat(timespec="milliseconds"), time.perf_counter()
        base = Path(base_dir) if base_dir is not None else None
        jury_name, panel = select_jury(contract, jury, judges)
        hashed = contract_hash(contract, base)
        seats = seats_for(panel)
        warnings = self._warnings(contract, seats, solver)

        materials: dict[Target, Material] = {}
        for criterion in contract.criteria:
            target = contract.target_of(criterion)
            if target not in materials:
                materials[target] = resolve_material(target, evidence)

        results: dict[str, CriterionResult] = {}
        jury_criteria: list[Criterion] = []
        for criterion in contract.criteria:
            material = materials[contract.target_of(criterion)]
            if criterion.method is not Method.JURY:
                check = run_check(criterion, evidence, material)
                results[criterion.id] = _result(criterion, check.decision, check.reason, detail=check.detail)
            else:
                jury_criteria.append(criterion)

        jobs: list[tuple[VoteJob, tuple[str, ...]]] = []
        images = _reference_images(contract, base)
        for target in {contract.target_of(c) for c in jury_criteria}:
            members = [c for c in jury_criteria if contract.target_of(c) == target]
            material = materials[target]
            skip = self._skip_reason(contract, material, seats)
            if skip is not None:
                decision, reason = skip
                for criterion in members:
                    votes = sorted(_not_called(seats, reason), key=lambda vote: vote.seat)
                    tally = decide_criterion(votes, len(seats), contract.vote_rule)[2]
                    results[criterion.id] = _result(criterion, decision, reason, tally=tally, split=tally.split, votes=votes)
                continue
            jobs.extend(self._jobs(contract, hashed, members, material, seats, images, warnings))

        votes_by_criterion: dict[str, dict[str, Vote]] = {c.id: {} for c in jury_criteria}
        if jobs:
            assert self.engine is not None
            # NOTE: a task's requests go out together (up to the engine's concurrency limits), but a
            # provider can serve a shared prefix from its cache only after one request carrying it has
            # been processed. Requests sent at the same moment may all pay the full input rate.
            outcomes = await asyncio.gather(*(self.engine.run(job) for job, _ in jobs))
            for (job, _), votes in zip(jobs, outcomes, strict=True):
                for criterion_id, vote in votes.items():
                    votes_by_criterion[criterion_id][job.seat] = vote

        # Records list votes by seat name and criteria by id, so declaration order never shows in them.
        seat_order = sorted(s.name for s in seats)
        for criterion in jury_criteria:
            if criterion.id in results:
                continue
            votes = [votes_by_criterion[criterion.id][name] for name in seat_order]
            decision, reason, tally = decide_criterion(votes, len(seats), contract.vote_rule)
            results[criterion.id] = _result(
                criterion, decision, reason, tally=tally, split=tally.split, votes=votes, score=median_score(votes)
            )

        ordered = [results[criterion_id] for criterion_id in sorted(results)]
        outcome = decide_task(ordered, contract.aggregation)
        outage = judge_outage(ordered)
        if outage is not None:
            # A task graded only by its checks because no judge replied is not a result. The
            # record keeps the partial score, and the outcome gives the reason.
            logger.warning("contract %s sample %s: %s", contract.id, sample_id, outage)
            outcome = TaskOutcome(outcome.score, Decision.UNSCORED, outage, outcome.coverage)
        main_material = materials[contract.target] if contract.target in materials else resolve_material(contract.target, evidence)
        return VerdictRecord(
            contract_id=contract.id,
            contract_version=contract.version,
            contract_hash=hashed,
            sample_id=sample_id,
            epoch=epoch,
            solver=solver,
            evidence_digest=main_material.digest,
            evidence_chars=len(main_material.text or ""),
            jury=JurySummary(
                name=jury_name,
                seats=[
                    {"seat": s.name, "model": s.judge.model, "settings": s.judge.settings.model_dump(mode="json")}
                    for s in sorted(seats, key=lambda seat: seat.name)
                ],
                vote_rule=contract.vote_rule.model_dump(mode="json"),
                prompt_template=TEMPLATE_HASH,
            ),
            criteria=ordered,
            score=outcome.score,
            outcome=outcome.outcome,
            outcome_reason=outcome.reason,
            coverage=outcome.coverage,
            totals=totals(ordered),
            warnings=warnings,
            run=RunInfo(
                framework=framework,
                run_id=run_id,
                started_at=started_at,
                finished_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                wall_time_s=round(time.perf_counter() - started, 6),
                package_version=package_version(),
            ),
        )

    def _warnings(self, contract: Contract, seats: list[Seat], solver: str | None) -> list[str]:
        warnings = []
        has_jury = any(c.method is Method.JURY for c in contract.criteria)
        if has_jury and seats and contract.vote_rule.kind is VoteRuleKind.MAJORITY and len(seats) % 2 == 0:
            warnings.append(f"even panel of {len(seats)} under strict majority: ties come out UNSCORED")
        if has_jury and solver and any(s.judge.model == solver for s in seats):
            warnings.append(f"the jury contains the solver's model {solver!r}: it grades its own output")
        for warning in warnings:
            logger.warning("contract %s: %s", contract.id, warning)
        return warnings

    def _skip_reason(self, contract: Contract, material: Material, seats: list[Seat]) -> tuple[Decision, str] | None:
        """Return the decision for jury criteria that need no judge call, or None when judges must vote."""
        if not seats:
            return Decision.UNSCORED, "no jury configured"
        if material.infrastructure_error:
            return Decision.UNSCORED, material.infrastructure_error
        if material.is_empty:
            # Judges shown nothing tend to invent a response and pass it, so they are not asked.
            empty_fails = contract.judging.empty_response is EmptyResponsePolicy.FAIL
            return (Decision.FAIL if empty_fails else Decision.UNSCORED), "empty_response"
        return None

    def _jobs(
        self,
        contract: Contract,
        hashed: str,
        criteria: list[Criterion],
        material: Material,
        seats: list[Seat],
        images: list[Path],
        warnings: list[str],
    ) -> list[tuple[VoteJob, tuple[str, ...]]]:
        text = material.text or ""
        nonce = new_nonce(text + contract.model_dump_json())
        replicas: Counter[str] = Counter()
        jobs = []
        blind: list[str] = []
        prompts: dict[tuple[tuple[str, ...], str | None], JudgePrompt] = {}
        for seat in seats:
            judge = seat.judge
            replica = replicas[judge.model_dump_json()]
            replicas[judge.model_dump_json()] += 1
            seat_images = tuple(images) if images and self.engine and self.engine.backend.accepts_images(judge.model) else ()
            if images and not seat_images:
                blind.append(f"{seat.name} ({judge.model})")
            reference_note = None
            if images:
                shown = " (attached)" if seat_images else " (not available to this judge)"
                reference_note = ", ".join(path.name for path in images) + shown
            for group in _request_groups(contract, criteria):
                ids = tuple(c.id for c in group)
                # Seats share one rendered prompt per request group, so memory grows with the
                # number of criteria and not with criteria x judges x material size.
                if (ids, reference_note) not in prompts:
                    prompts[(ids, reference_note)] = (
                        batched_prompt(contract, group, text, nonce, reference_note)
                        if len(group) > 1
                        else criterion_prompt(contract, group[0], text, nonce, reference_note)
                    )
                prompt = prompts[(ids, reference_note)]
                if len(group) > 1:
                    parse = functools.partial(parse_batched, scales={c.id: c.scale for c in group})
                else:
                    parse = functools.partial(_parse_single, group[0].id, group[0].scale, contract.judging.protocol)
                request = JudgeRequest(
                    model=judge.model,
                    system=prompt.system,
                    user=prompt.user,
                    settings=judge.settings,
                    images=seat_images,
                    cache_boundary=prompt.cache_boundary,
                )
                key = vote_key(
                    hashed, ids, judge.model_dump(mode="json"), replica, TEMPLATE_HASH, material.digest, contract.judging.protocol.value
                )
                jobs.append((VoteJob(seat.name, request, parse, ids, contract.judging, key, prompt.prompt_hash), ids))
        if blind:
            note = f"reference images not shown to {', '.join(blind)}: the model does not accept images"
            warnings.append(note)
            logger.warning("contract %s: %s", contract.id, note)
        return jobs


def _request_groups(contract: Contract, criteria: list[Criterion]) -> list[list[Criterion]]:
    """Split jury criteria into requests: batched mode puts all binary criteria in one request."""
    if contract.judging.mode is not JudgingMode.BATCHED:
        return [[c] for c in criteria]
    binary = [c for c in criteria if isinstance(c.scale, BinaryScale)]
    others = [[c] for c in criteria if not isinstance(c.scale, BinaryScale)]
    return ([binary] if binary else []) + others


def _parse_single(criterion_id: str, scale: object, protocol: object, completion: str) -> dict[str, ParsedVerdict]:
    return {criterion_id: parse_verdict(completion, scale, protocol)}  # type: ignore[arg-type]


TRANSPORT_FAILURES = ("judge_", "provider_error")


def judge_outage(results: list[CriterionResult]) -> str | None:
    """Return why the jury is out when every judge call of the record failed in transport, else None.

    Transport failures are rate limits, server errors, timeouts, connection and provider errors
    that outlasted the retries; an unparseable or refused completion is the judge's answer.
    """
    called = [vote for result in results for vote in result.votes if vote.verdict is not VoteVerdict.NOT_CALLED]
    if not called:
        return None
    if all(vote.verdict is VoteVerdict.INVALID and vote.parse_status.startswith(TRANSPORT_FAILURES) for vote in called):
        kinds = sorted({vote.parse_status for vote in called})
        return f"judge outage: all {len(called)} judge calls failed after retries ({', '.join(kinds)})"
    return None


def totals(results: list[CriterionResult]) -> Totals:
    """Sum judge usage over every vote of a record."""
    votes = [vote for result in results for vote in result.votes]
    # Cached votes keep the cost they had when obtained, so records of a resumed run compare with a fresh one.
    costs = [vote.cost_usd for vote in votes if vote.verdict is not VoteVerdict.NOT_CALLED]
    called = [vote for vote in votes if vote.verdict is not VoteVerdict.NOT_CALLED]
    input_tokens = sum(v.input_tokens for v in votes)
    output_tokens = sum(v.output_tokens for v in votes)
    return Totals(
        judge_calls=len(called),
        requests=sum(len(v.attempts) for v in votes),
        rate_limited=sum(1 for v in votes for a in v.attempts if a.status == "rate_limited"),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=sum(v.reasoning_tokens for v in votes),
        cached_input_tokens=sum(v.cached_input_tokens for v in votes),
        total_tokens=input_tokens + output_tokens,
        cost_usd=None if any(c is None for c in costs) else math.fsum(c for c in costs if c is not None),
        votes_from_cache=sum(1 for v in votes if v.from_cache),
        invalid_votes=sum(1 for v in votes if v.verdict is VoteVerdict.INVALID),
        latency_s=round(math.fsum(v.timing.latency_s for v in votes), 6),
    )
