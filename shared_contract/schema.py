"""Evaluation contract models: the single source of truth for the contract file format.

A contract states what is graded (the target) and how each criterion is judged (a deterministic
check or a jury of LLM judges). It also names the juries that may judge it, the rule that turns
votes into a criterion decision, and how criterion decisions become a task outcome and score.
"""

from __future__ import annotations

import re
from collections import Counter
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONTRACT_FORMAT = "asymmetryzero/contract/v1"

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
MIN_POINTS = 1e-6
MAX_POINTS = 1e6


class _Strict(BaseModel):
    """Base for contract models: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetKind(StrEnum):
    """Part of a solver's work that a criterion grades."""

    FINAL_ANSWER = "final_answer"
    FILE = "file"
    COMMAND_OUTPUT = "command_output"
    TRAJECTORY = "trajectory"


class Target(_Strict):
    """The graded material: the final answer, a workspace file, a command's output or the trajectory."""

    kind: TargetKind = TargetKind.FINAL_ANSWER
    path: str | None = Field(default=None, description="Workspace-relative file path, for kind 'file'.")
    command: str | None = Field(default=None, description="Shell command run in the workspace, for kind 'command_output'.")
    timeout_s: float = Field(default=60.0, gt=0, description="Time limit in seconds for the command.")

    @model_validator(mode="after")
    def _check_kind_fields(self) -> Target:
        if self.kind is TargetKind.FILE and not self.path:
            raise ValueError("target kind 'file' needs 'path': the workspace-relative file to grade")
        if self.kind is TargetKind.COMMAND_OUTPUT and not self.command:
            raise ValueError("target kind 'command_output' needs 'command': the shell command whose output is graded")
        return self


class Method(StrEnum):
    """Judging method of a criterion: a deterministic check or the jury."""

    JURY = "jury"
    EXACT = "exact"
    CONTAINS = "contains"
    REGEX = "regex"
    NUMERIC = "numeric"
    JSON_PATH = "json_path"
    FILE_EXISTS = "file_exists"
    FILE_CONTAINS = "file_contains"
    COMMAND_EXIT_CODE = "command_exit_code"


DETERMINISTIC_METHODS = frozenset(Method) - {Method.JURY}


class Normalization(StrEnum):
    """Text normalisation steps applied to both sides before a text comparison."""

    STRIP = "strip"
    CASEFOLD = "casefold"
    WHITESPACE = "whitespace"
    PUNCTUATION = "punctuation"
    NFKC = "nfkc"


class Extraction(StrEnum):
    """Part of the graded text that a text or numeric check compares.

    ``final_answer_line`` takes the text after the last line starting with "Final answer:" or
    "Answer:", and the whole text when there is no such line.
    """

    FINAL_ANSWER_LINE = "final_answer_line"
    WHOLE = "whole"
    LAST_LINE = "last_line"


class Polarity(StrEnum):
    """Positive criteria earn their weight when met; negative criteria subtract it when met."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class ScaleLevel(_Strict):
    """One labelled level of an ordinal scale."""

    value: int
    label: str


class BinaryScale(_Strict):
    """Met or not met; the judge returns PASS or FAIL."""

    kind: Literal["binary"] = "binary"


class OrdinalScale(_Strict):
    """Integer levels with labels; the judge returns one level's value."""

    kind: Literal["ordinal"]
    levels: list[ScaleLevel] = Field(min_length=2)
    pass_at: float = Field(default=0.5, ge=0, le=1, description="Normalised score at or above which a vote is PASS.")

    @model_validator(mode="after")
    def _check_levels(self) -> OrdinalScale:
        values = [level.value for level in self.levels]
        if len(set(values)) != len(values):
            raise ValueError(f"ordinal scale levels must have distinct values, got {values}")
        return self


class NumericScale(_Strict):
    """A number in [minimum, maximum]; integer-only when 'integer' is true."""

    kind: Literal["numeric"]
    minimum: float
    maximum: float
    integer: bool = True
    pass_at: float = Field(default=0.5, ge=0, le=1, description="Normalised score at or above which a vote is PASS.")

    @model_validator(mode="after")
    def _check_range(self) -> NumericScale:
        if not self.maximum > self.minimum:
            raise ValueError(f"numeric scale needs maximum > minimum, got {self.minimum}..{self.maximum}")
        return self


Scale = Annotated[BinaryScale | OrdinalScale | NumericScale, Field(discriminator="kind")]


class Examples(_Strict):
    """Expert examples of answers that meet and that fail a criterion, shown to judges."""

    passing: list[str] = Field(default_factory=list)
    failing: list[str] = Field(default_factory=list)


class NumericTolerance(_Strict):
    """Tolerance for numeric comparison: passes when within either bound."""

    absolute: float = Field(default=0.0, ge=0)
    relative: float = Field(default=0.0, ge=0)


class Criterion(_Strict):
    """One graded requirement and how it is judged."""

    id: str = Field(pattern=_ID_PATTERN)
    requirement: str = Field(min_length=1, description="What the graded material must satisfy, as shown to judges.")
    method: Method = Method.JURY
    scale: Scale = Field(default_factory=BinaryScale)
    weight: float = Field(default=1.0, description="Points; a negative criterion subtracts them when met.")
    polarity: Polarity = Polarity.POSITIVE
    required: bool = Field(default=False, description="A required criterion that is not satisfied fails the task.")
    group: str | None = None
    examples: Examples = Field(default_factory=Examples)
    target: Target | None = Field(default=None, description="Overrides the contract's target for this criterion.")

    # Parameters of the deterministic methods.
    expected: str | float | int | bool | None = None
    normalize: list[Normalization] = Field(default_factory=lambda: [Normalization.STRIP])
    extract: Extraction = Extraction.FINAL_ANSWER_LINE
    pattern: str | None = None
    tolerance: NumericTolerance = Field(default_factory=NumericTolerance)
    units: list[str] = Field(default_factory=list, description="Unit suffixes allowed after a number, e.g. ['kg', 'kilograms'].")
    json_path: str | None = None
    path: str | None = Field(default=None, description="Workspace-relative path for file methods.")
    command: str | None = None
    exit_code: int = 0
    timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("weight")
    @classmethod
    def _check_weight_finite(cls, weight: float) -> float:
        if weight != weight or weight in (float("inf"), float("-inf")):
            raise ValueError(f"weight must be a finite number, got {weight}")
        if weight == 0:
            raise ValueError("weight must not be 0: drop the criterion or give it points")
        if not MIN_POINTS <= abs(weight) <= MAX_POINTS:
            # Bounded so that sums and ratios of points stay finite floats.
            raise ValueError(f"weight must be between {MIN_POINTS:g} and {MAX_POINTS:g} points in size, got {weight}")
        return weight

    @model_validator(mode="after")
    def _check_method_fields(self) -> Criterion:
        if self.weight < 0 and self.polarity is Polarity.POSITIVE:
            raise ValueError(
                f"negative weight {self.weight} on a positive criterion: give positive points and set "
                "'polarity: negative' for a penalty"
            )
        needs: dict[Method, tuple[str, ...]] = {
            Method.EXACT: ("expected",),
            Method.CONTAINS: ("expected",),
            Method.REGEX: ("pattern",),
            Method.NUMERIC: ("expected",),
            Method.JSON_PATH: ("json_path", "expected"),
            Method.FILE_EXISTS: ("path",),
            Method.FILE_CONTAINS: ("path", "expected"),
            Method.COMMAND_EXIT_CODE: ("command",),
        }
        missing = [name for name in needs.get(self.method, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"method '{self.method.value}' needs {', '.join(repr(m) for m in missing)}")
        if self.method is Method.REGEX and self.pattern is not None:
            try:
                re.compile(self.pattern)
            except (re.error, OverflowError, RecursionError) as error:
                # OverflowError: a repeat count past the engine's limit; RecursionError: groups nested too deeply.
                raise ValueError(f"pattern {self.pattern[:200]!r} is not a valid regular expression: {error}") from None
        if self.method is Method.JSON_PATH and self.json_path is not None:
            _check_json_path(self.json_path)
        if self.path is not None and self.path.strip().rstrip("/") in ("", "."):
            raise ValueError(f"path {self.path!r} names the workspace itself: name a file inside it")
        if self.method is Method.NUMERIC:
            try:
                float(str(self.expected).replace(",", ""))
            except ValueError:
                raise ValueError(f"method 'numeric' needs a number in 'expected', got {self.expected!r}") from None
        if self.method is not Method.JURY and not isinstance(self.scale, BinaryScale):
            raise ValueError("only jury criteria take an ordinal or numeric scale; deterministic checks are binary")
        return self

    @property
    def points(self) -> float:
        """Absolute points of the criterion, whatever sign the file gave."""
        return abs(self.weight)


def _check_json_path(expression: str) -> None:
    """Raise ValueError when the JSON path does not parse."""
    from jsonpath_ng.ext import parse

    try:
        parse(expression)
    except Exception as error:  # jsonpath-ng raises bare Exceptions and lexer errors for bad syntax.
        raise ValueError(f"json_path {expression!r} is not a valid JSON path: {error}") from None


class JudgeSettings(_Strict):
    """Generation settings pinned for one judge."""

    temperature: float = Field(default=0.0, ge=0, le=2)
    seed: int | None = 0
    max_tokens: int = Field(default=1024, gt=0)
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    top_p: float | None = Field(default=None, gt=0, le=1)


class Judge(_Strict):
    """One seat on a jury: a model with its pinned settings."""

    model: str = Field(min_length=1, description="Inspect model name, e.g. 'openai/gpt-4o-mini'.")
    name: str | None = Field(default=None, description="Seat name shown in records; defaults to J1, J2, ...")
    settings: JudgeSettings = Field(default_factory=JudgeSettings)
    price: str | None = Field(default=None, description="Price table entry to use when it differs from the model name.")


class VoteRuleKind(StrEnum):
    """Rule that turns a panel's votes into a criterion decision."""

    MAJORITY = "majority"
    AT_LEAST = "at_least"
    UNANIMOUS = "unanimous"


class VoteRule(_Strict):
    """Vote rule. Invalid votes stay in the panel's denominator under every rule."""

    kind: VoteRuleKind = VoteRuleKind.MAJORITY
    k: int | None = Field(default=None, ge=1, description="Votes needed to PASS, for 'at_least'.")
    quorum: int | None = Field(default=None, ge=1, description="Minimum valid votes for any decision.")

    @model_validator(mode="after")
    def _check_k(self) -> VoteRule:
        if self.kind is VoteRuleKind.AT_LEAST and self.k is None:
            raise ValueError("vote rule 'at_least' needs 'k', the number of PASS votes required")
        if self.kind is not VoteRuleKind.AT_LEAST and self.k is not None:
            raise ValueError(f"'k' applies only to vote rule 'at_least', not '{self.kind.value}'")
        return self


class UnscoredPolicy(StrEnum):
    """Treatment of an unscored criterion in the task score."""

    EXCLUDE = "exclude"
    COUNT_AS_FAIL = "count_as_fail"
    UNSCORE_TASK = "unscore_task"


class Aggregation(_Strict):
    """Rules that turn criterion decisions into a task score and outcome."""

    pass_threshold: float = Field(default=1.0, ge=0, le=1, description="Task passes when score >= this value.")
    unscored_policy: UnscoredPolicy = UnscoredPolicy.EXCLUDE
    min_coverage: float = Field(default=0.0, ge=0, le=1, description="Below this share of scored weight the task is UNSCORED.")
    groups: dict[str, float] = Field(default_factory=dict, description="Group weights; criteria name their group.")

    @field_validator("groups")
    @classmethod
    def _check_group_weights(cls, groups: dict[str, float]) -> dict[str, float]:
        bad = {name: weight for name, weight in groups.items() if not MIN_POINTS <= weight <= MAX_POINTS}
        if bad:
            raise ValueError(f"group weights must be between {MIN_POINTS:g} and {MAX_POINTS:g}, got {bad}")
        return groups


class EmptyResponsePolicy(StrEnum):
    """Decision for jury criteria when the graded material is empty."""

    FAIL = "fail"
    UNSCORED = "unscored"


class JudgingMode(StrEnum):
    """One request per judge per criterion, or one request per judge for all jury criteria."""

    PER_CRITERION = "per_criterion"
    BATCHED = "batched"


class VerdictProtocol(StrEnum):
    """Format the judge is asked to answer in."""

    JSON = "json"
    GRADE_LETTER = "grade_letter"


class Judging(_Strict):
    """Jury request settings."""

    mode: JudgingMode = JudgingMode.PER_CRITERION
    protocol: VerdictProtocol = VerdictProtocol.JSON
    empty_response: EmptyResponsePolicy = EmptyResponsePolicy.FAIL
    max_attempts: int = Field(default=4, ge=1, le=20, description="Transport attempts per vote (429, 5xx, timeouts).")
    max_total_s: float = Field(default=300.0, gt=0, description="Time budget in seconds for all attempts of one vote.")
    attempt_timeout_s: float = Field(default=120.0, gt=0, description="Time limit in seconds for one judge call.")
    reask_unparseable: int = Field(default=1, ge=0, le=5, description="Extra requests after an unparseable completion.")


class Task(_Strict):
    """The solver's task prompt, with reference material for judges."""

    prompt: str = Field(min_length=1)
    reference_answer: str | None = None
    reference_files: list[str] = Field(default_factory=list, description="Paths relative to the contract file.")


class Contract(_Strict):
    """An evaluation contract."""

    format: Literal["asymmetryzero/contract/v1"] = CONTRACT_FORMAT
    id: str = Field(pattern=_ID_PATTERN)
    version: str = "1"
    title: str = ""
    task: Task
    target: Target = Field(default_factory=Target)
    criteria: list[Criterion] = Field(min_length=1)
    juries: dict[str, list[Judge]] = Field(default_factory=dict)
    default_jury: str | None = None
    vote_rule: VoteRule = Field(default_factory=VoteRule)
    aggregation: Aggregation = Field(default_factory=Aggregation)
    judging: Judging = Field(default_factory=Judging)
    reward_keys: list[Literal["score", "coverage", "pass"]] = Field(
        default_factory=list, description="Extra keys written to Harbor's reward.json beside 'reward'."
    )

    @field_validator("criteria")
    @classmethod
    def _check_criteria(cls, criteria: list[Criterion]) -> list[Criterion]:
        ids = [criterion.id for criterion in criteria]
        duplicates = sorted(i for i, count in Counter(ids).items() if count > 1)
        if duplicates:
            raise ValueError(f"criterion ids must be unique, duplicated: {duplicates}")
        if criteria and not any(c.polarity is Polarity.POSITIVE for c in criteria):
            raise ValueError("rubric has no positive points, so the score's denominator would be 0: add a positive criterion")
        return criteria

    @model_validator(mode="after")
    def _check_contract(self) -> Contract:
        for name, judges in self.juries.items():
            if not judges:
                raise ValueError(f"jury {name!r} has no judges")
            seats = [judge.name for judge in judges if judge.name]
            if len(set(seats)) != len(seats):
                raise ValueError(f"jury {name!r} has duplicate seat names {seats}")
            if self.vote_rule.k is not None and self.vote_rule.k > len(judges):
                raise ValueError(f"vote rule k={self.vote_rule.k} exceeds the {len(judges)} judges of jury {name!r}")
        if self.default_jury is not None and self.default_jury not in self.juries:
            raise ValueError(f"default_jury {self.default_jury!r} is not one of the juries {sorted(self.juries)}")
        groups = self.aggregation.groups
        if groups:
            unknown = sorted({c.group for c in self.criteria if c.group is not None and c.group not in groups})
            if unknown:
                raise ValueError(f"criteria name groups {unknown} that aggregation.groups does not declare")
        return self

    def criterion(self, criterion_id: str) -> Criterion:
        """Return the criterion with this id; raise KeyError naming the known ids."""
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(f"criterion {criterion_id!r} not in contract {self.id!r}: known {[c.id for c in self.criteria]}")

    def target_of(self, criterion: Criterion) -> Target:
        """Return the target a criterion grades: its own, or the contract's."""
        return criterion.target or self.target
