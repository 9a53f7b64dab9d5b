"""Read a judge's verdict from its completion.

Formatting is read leniently (NFKC, zero-width characters, code fences, prose around the
verdict, letter case, markdown emphasis, trailing commas); the vocabulary is closed (PASS and
FAIL, or C and I in the letter protocol); the last well-formed verdict of the completion counts.
A completion without a usable verdict gives a status that names why, never a FAIL.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from shared_contract.schema import BinaryScale, NumericScale, OrdinalScale, VerdictProtocol

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_EMPHASIS = "*_`'\" "
_PASS_WORDS = {"PASS", "PASSED", "MET"}
_FAIL_WORDS = {"FAIL", "FAILED", "NOT MET", "NOT_MET"}
_LETTER_PASS = {"C", "CORRECT"}
_LETTER_FAIL = {"I", "INCORRECT"}
_NOT_OFFERED = {"PARTIAL", "PARTIALLY", "P", "PARTIAL PASS", "PARTIALLY MET", "MIXED", "UNSURE", "UNKNOWN", "N/A", "NA", "UNCLEAR"}
_REFUSAL = re.compile(
    r"\b(i['’]?m sorry|i am sorry|i can(?:no|['’])t (?:help|assist|evaluate|grade|judge|comply)|i cannot (?:help|assist|evaluate|grade|judge)|"
    r"i (?:won['’]t|will not) (?:evaluate|grade|judge)|unable to (?:evaluate|grade|judge|comply)|as an ai)\b",
    re.IGNORECASE,
)
_VERDICT_LINE = re.compile(r"(?<![A-Za-z])verdict\s*[:=]\s*[*_`\"']*\s*([A-Za-z][A-Za-z _/]*?)\s*[*_`\"']*\s*(?:$|[.,;)\n])", re.IGNORECASE | re.MULTILINE)
_GRADE_LINE = re.compile(r"(?<![A-Za-z])GRADE\s*:\s*[*_`]*\s*([A-Za-z]+|\d+(?:\.\d+)?)\b", re.IGNORECASE)
_OTHER_LABEL = re.compile(r"(?<![A-Za-z])([A-Za-z]+)\s*:\s*[*_`]*\s*(PASS|FAIL|C|I)\b", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


@dataclass(frozen=True)
class ParsedVerdict:
    """What a completion says about one criterion.

    ``verdict`` is "PASS", "FAIL" or None; ``status`` is "ok" or the reason there is no verdict
    (no_verdict, missing_verdict, wrong_label, out_of_vocabulary, not_offered, off_scale, refusal).
    """

    verdict: str | None
    status: str
    score: float | None = None
    raw_score: float | None = None
    rationale: str | None = None
    detail: str | None = None


def clean_completion(text: str) -> str:
    """Apply NFKC and drop zero-width characters, so look-alike text reads as plain ASCII."""
    return unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)


def _closing_brace(text: str, start: int) -> int | None:
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def json_objects(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Return every JSON object in the text as (end offset, object), keys lower-cased.

    Nested objects are returned too. Trailing commas are tolerated.
    """
    decoder = json.JSONDecoder()
    found: list[tuple[int, dict[str, Any]]] = []
    for match in re.finditer(r"\{", text):
        start = match.start()
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            end_or_none = _closing_brace(text, start)
            if end_or_none is None:
                continue
            try:
                value = json.loads(_TRAILING_COMMA.sub(r"\1", text[start:end_or_none]))
            except json.JSONDecodeError:
                continue
            end = end_or_none
        if isinstance(value, dict):
            found.append((end, {str(key).strip().lower(): item for key, item in value.items()}))
    return found


def _word(value: Any) -> str:
    return str(value).strip(_EMPHASIS).upper().replace("_", " ") if value is not None else ""


def _rationale(obj: dict[str, Any]) -> str | None:
    for key in ("reason", "rationale", "explanation"):
        if isinstance(obj.get(key), str):
            return obj[key]
    return None


def _from_word(word: str, letters: bool, rationale: str | None = None) -> ParsedVerdict:
    if word in _PASS_WORDS or (letters and word in _LETTER_PASS):
        return ParsedVerdict("PASS", "ok", rationale=rationale)
    if word in _FAIL_WORDS or (letters and word in _LETTER_FAIL):
        return ParsedVerdict("FAIL", "ok", rationale=rationale)
    if word in _NOT_OFFERED:
        return ParsedVerdict(None, "not_offered", rationale=rationale, detail=f"verdict {word!r} is not on offer (PASS or FAIL)")
    return ParsedVerdict(None, "out_of_vocabulary", rationale=rationale, detail=f"verdict {word!r} is not PASS or FAIL")


def score_verdict(raw: Any, scale: BinaryScale | OrdinalScale | NumericScale, rationale: str | None = None) -> ParsedVerdict:
    """Turn a judge's score into a vote on the criterion's scale; off-scale values are invalid."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return ParsedVerdict(None, "off_scale", rationale=rationale, detail=f"score {raw!r} is not a number")
    try:
        value = float(raw)
    except ValueError:
        return ParsedVerdict(None, "off_scale", rationale=rationale, detail=f"score {raw!r} is not a number")
    if value != value:
        return ParsedVerdict(None, "off_scale", rationale=rationale, detail="score is NaN")

    if isinstance(scale, BinaryScale):
        if value in (0.0, 1.0):
            return ParsedVerdict("PASS" if value == 1.0 else "FAIL", "ok", score=value, raw_score=value, rationale=rationale)
        return ParsedVerdict(None, "off_scale", rationale=rationale, detail=f"score {raw!r} on a binary criterion (0 or 1)")

    if isinstance(scale, OrdinalScale):
        values = sorted(level.value for level in scale.levels)
        if value not in values:
            return ParsedVerdict(None, "off_scale", rationale=rationale, detail=f"score {raw!r} is not one of the levels {values}")
        low, high = values[0], values[-1]
    else:
        low, high = scale.minimum, scale.maximum
        if scale.integer and not value.is_integer():
            return ParsedVerdict(None, "off_scale", rationale=rationale, detail=f"score {raw!r} is not an integer on {low:g}-{high:g}")
        if not low <= value <= high:
            return ParsedVerdict(None, "off_scale", rationale=rationale, detail=f"score {raw!r} is outside {low:g}-{high:g}")
    normalised = (value - low) / (high - low)
    verdict = "PASS" if normalised >= scale.pass_at - 1e-9 else "FAIL"
    return ParsedVerdict(verdict, "ok", score=normalised, raw_score=value, rationale=rationale)


def _object_verdict(obj: dict[str, Any], scale: BinaryScale | OrdinalScale | NumericScale) -> ParsedVerdict | None:
    """Read one JSON object; None when it carries no verdict-like key at all."""
    rationale = _rationale(obj)
    if "verdict" in obj:
        if not isinstance(scale, BinaryScale) and "score" in obj:
            return score_verdict(obj["score"], scale, rationale)
        return _from_word(_word(obj["verdict"]), letters=False, rationale=rationale)
    if "score" in obj:
        return score_verdict(obj["score"], scale, rationale)
    labelled = [key for key, value in obj.items() if isinstance(value, str) and _word(value) in _PASS_WORDS | _FAIL_WORDS]
    if labelled:
        return ParsedVerdict(None, "wrong_label", rationale=rationale, detail=f"verdict under key {labelled[-1]!r}, not 'verdict'")
    if rationale is not None and set(obj) <= {"reason", "rationale", "explanation"}:
        return ParsedVerdict(None, "missing_verdict", rationale=rationale, detail="object has a reason but no verdict")
    return None


def _no_verdict(text: str) -> ParsedVerdict:
    if _REFUSAL.search(text):
        return ParsedVerdict(None, "refusal", detail="the judge declined to grade")
    label = _OTHER_LABEL.search(text)
    if label:
        return ParsedVerdict(None, "wrong_label", detail=f"{label.group(1)!r} is not the verdict label")
    return ParsedVerdict(None, "no_verdict", detail="no verdict found in the completion")


def parse_verdict(
    completion: str,
    scale: BinaryScale | OrdinalScale | NumericScale | None = None,
    protocol: VerdictProtocol = VerdictProtocol.JSON,
) -> ParsedVerdict:
    """Parse one criterion's verdict; the last well-formed verdict in the completion wins."""
    scale = scale or BinaryScale()
    text = clean_completion(completion)
    candidates: list[tuple[int, ParsedVerdict]] = []

    if protocol is VerdictProtocol.GRADE_LETTER:
        for match in _GRADE_LINE.finditer(text):
            word = match.group(1).upper()
            if re.fullmatch(r"\d+(?:\.\d+)?", word):
                candidates.append((match.end(), score_verdict(word, scale)))
            else:
                candidates.append((match.end(), _from_word(word, letters=True)))
    else:
        for end, obj in json_objects(text):
            parsed = _object_verdict(obj, scale)
            if parsed is not None:
                candidates.append((end, parsed))
        for match in _VERDICT_LINE.finditer(text):
            candidates.append((match.end(), _from_word(_word(match.group(1)), letters=False)))

    if not candidates:
        return _no_verdict(text)
    # Prefer the latest candidate; a misspelt key or bare reason only counts when nothing better follows it.
    candidates.sort(key=lambda item: item[0])
    return candidates[-1][1]


def parse_batched(
    completion: str, scales: dict[str, BinaryScale | OrdinalScale | NumericScale]
) -> dict[str, ParsedVerdict]:
    """Parse a batched completion: one verdict object per criterion id, the last one for each id winning."""
    text = clean_completion(completion)
    latest: dict[str, tuple[int, ParsedVerdict]] = {}
    known = {key.casefold(): key for key in scales}
    for end, obj in json_objects(text):
        criterion_id = known.get(str(obj.get("criterion", obj.get("id", ""))).strip().casefold())
        if criterion_id is None:
            continue
        parsed = _object_verdict(obj, scales[criterion_id]) or ParsedVerdict(None, "missing_verdict")
        if criterion_id not in latest or end >= latest[criterion_id][0]:
            latest[criterion_id] = (end, parsed)
    fallback = _no_verdict(text)
    missing = ParsedVerdict(None, "missing_verdict" if latest else fallback.status, detail="no verdict for this criterion")
    return {criterion_id: latest.get(criterion_id, (0, missing))[1] for criterion_id in scales}
