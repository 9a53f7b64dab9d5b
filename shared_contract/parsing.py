"""Read a judge's verdict from its completion.

Formatting is read leniently (NFKC, zero-width characters, code fences, prose around the
verdict, letter case, markdown emphasis, trailing commas); the vocabulary is closed (PASS and
FAIL, or C and I in the letter protocol); the last well-formed verdict of the completion counts.
A completion without a usable verdict gives a status that names why, never a FAIL.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared_contract.schema import BinaryScale, NumericScale, OrdinalScale, VerdictProtocol

# Invisible format characters, bidirectional marks, embeddings and isolates included: NFKC keeps them,
# and a judge writing right-to-left text can put one inside a verdict word.
_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None
)
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
# The patterns below never let two unbounded runs compete for the same white space (as in
# "\s*[*_]*\s*"): such a pair backtracks in quadratic or cubic time on a long run of spaces, which
# degenerate completions do contain. The verdict key may be quoted, as in Python-style dicts
# ('verdict': 'PASS'). The terminator is a lookahead, so a match never ends after the JSON object it sits in.
_VERDICT_LINE = re.compile(
    r"(?<![A-Za-z])verdict['\"]?\s*[:=]\s*(?:[*_`\"']+\s*)?([A-Za-z][A-Za-z_/]*(?: +[A-Za-z_/]+)*)"
    r"\s*(?:[*_`\"']+\s*)?(?=$|[.,;!)\]}\n])",
    re.IGNORECASE | re.MULTILINE,
)
_GRADE_LINE = re.compile(r"(?<![A-Za-z])GRADE\s*:\s*(?:[*_`]+\s*)?([A-Za-z]+|\d+(?:\.\d+)?)\b", re.IGNORECASE)
_OTHER_LABEL = re.compile(r"(?<![A-Za-z])(?!verdict\b)([A-Za-z]+)\s*:\s*(?:[*_`]+\s*)?(PASS|FAIL|C|I)\b", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
# A JSON object opens with '{' and then a quoted key or '}', so other braces (code, Python dicts) are skipped.
_OBJECT_START = re.compile(r"\{(?=\s*[\"}])")
_FIRST_WINDOW = 1024


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


def _decode_at(decoder: json.JSONDecoder, text: str, index: int) -> tuple[Any, int] | None:
    """Decode the JSON value that starts at ``index``; None when there is none.

    The decoder reads a window of the text that grows only while the value runs past its end.
    Decoding the whole text instead would cost time in proportion to ``index`` for every failed
    attempt (JSONDecodeError counts the lines before the error), which is quadratic over a long
    completion with many '{' characters.

    NOTE: deeply nested objects that never close still cost time in proportion to the text's
    length times their depth (up to the recursion limit): about 1 minute for 1 MB of '{"a": '.
    """
    size = _FIRST_WINDOW
    while True:
        window = text[index : index + size]
        try:
            value, end = decoder.raw_decode(window)
        except json.JSONDecodeError as error:
            ran_out = error.pos >= len(window) - 16 or error.msg.startswith("Unterminated string")
            if index + size >= len(text) or not ran_out:
                return None
            size *= 4
        except RecursionError:
            # Nesting deeper than the interpreter's recursion limit: not a verdict object.
            return None
        else:
            return value, index + end


def _decode_objects(text: str, found: dict[int, tuple[int, dict[str, Any]]], to_original: Callable[[int], int]) -> None:
    """Decode a JSON object at every '{' whose original offset has none yet, keyed by that offset."""
    decoder = json.JSONDecoder()
    for match in _OBJECT_START.finditer(text):
        start = to_original(match.start())
        if start in found:
            continue
        decoded = _decode_at(decoder, text, match.start())
        if decoded is not None and isinstance(decoded[0], dict):
            value, end = decoded
            found[start] = (to_original(end), {str(key).strip().lower(): item for key, item in value.items()})


def _without_trailing_commas(text: str) -> tuple[str, Callable[[int], int]]:
    """Drop each comma (and the white space after it) that precedes '}' or ']'.

    Returns the repaired text and a function that maps an offset in it back to the original text.
    """
    pieces: list[str] = []
    removed_at: list[int] = []  # offsets in the repaired text where characters were dropped
    removed_total: list[int] = []  # characters dropped up to and including that point
    last = 0
    kept = 0
    for match in _TRAILING_COMMA.finditer(text):
        pieces.append(text[last : match.start()])
        kept += match.start() - last
        removed_at.append(kept)
        removed_total.append((removed_total[-1] if removed_total else 0) + match.start(1) - match.start())
        last = match.start(1)
    pieces.append(text[last:])

    def to_original(offset: int) -> int:
        index = bisect.bisect_right(removed_at, offset) - 1
        return offset + (removed_total[index] if index >= 0 else 0)

    return "".join(pieces), to_original


def json_objects(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Return every JSON object in the text as (end offset, object), keys lower-cased.

    Nested objects are returned too. Trailing commas are tolerated: objects that only decode once
    they are removed come from a second pass over the repaired text, so no '{' starts a scan of
    the rest of the text.
    """
    found: dict[int, tuple[int, dict[str, Any]]] = {}
    _decode_objects(text, found, lambda offset: offset)
    if _TRAILING_COMMA.search(text):
        repaired, to_original = _without_trailing_commas(text)
        _decode_objects(repaired, found, to_original)
    return [found[start] for start in sorted(found)]


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
    # A bare reason carries no verdict, so it never overrides a verdict given before it.
    decisive = [candidate for candidate in candidates if candidate[1].status != "missing_verdict"]
    return (decisive or candidates)[-1][1]


def _batched_criterion(label: Any, criterion_ids: list[str]) -> str | None:
    """Resolve a batched verdict's criterion label to a criterion id.

    Judges echo the prompt's heading, so "Requirement K2" names K2. A bare position ("2" or
    "Requirement 2") names the second criterion of the prompt, unless a criterion has that id.
    """
    known = {key.casefold(): key for key in criterion_ids}
    name = str(label).strip().casefold()
    name = re.sub(r"^requirement\s+", "", name).strip()
    if name in known:
        return known[name]
    if name.isdigit() and 1 <= int(name) <= len(criterion_ids):
        return criterion_ids[int(name) - 1]
    return None


def parse_batched(
    completion: str, scales: dict[str, BinaryScale | OrdinalScale | NumericScale]
) -> dict[str, ParsedVerdict]:
    """Parse a batched completion: one verdict object per criterion id, the last one for each id winning."""
    text = clean_completion(completion)
    latest: dict[str, tuple[int, ParsedVerdict]] = {}
    for end, obj in json_objects(text):
        criterion_id = _batched_criterion(obj.get("criterion", obj.get("id", "")), list(scales))
        if criterion_id is None:
            continue
        parsed = _object_verdict(obj, scales[criterion_id]) or ParsedVerdict(None, "missing_verdict")
        if criterion_id not in latest or end >= latest[criterion_id][0]:
            latest[criterion_id] = (end, parsed)
    fallback = _no_verdict(text)
    missing = ParsedVerdict(None, "missing_verdict" if latest else fallback.status, detail="no verdict for this criterion")
    return {criterion_id: latest.get(criterion_id, (0, missing))[1] for criterion_id in scales}
