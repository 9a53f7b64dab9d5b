"""Turn the hard judge-output cases into contracts, replay scripts and expected values."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("ASYMMETRYZERO_SHARED", Path(__file__).resolve().parents[2] / "shared"))
# The published case file when it sits beside the repository, else the copy kept in tests/data.
_PUBLISHED_CASES = SHARED / "cases" / "judge_outputs.json"
CASES_FILE = _PUBLISHED_CASES if _PUBLISHED_CASES.is_file() else Path(__file__).parent / "data" / "judge_outputs.json"
PEER_BUNDLE = SHARED / "peer" / "simple_bundle"

# Reason codes our parser gives for INVALID votes, per case, criterion and judge.
INVALID_REASONS = {
    ("J03", "K1", "J1"): "wrong_label",
    ("J03", "K1", "J2"): "wrong_label",
    ("J04", "K1", "J2"): "no_verdict",
    ("J08", "K1", "J1"): "missing_verdict",
    ("J10", "K1", "J1"): "refusal",
    ("J11", "K1", "J1"): "truncated",
    ("J15", "K1", "J3"): "off_scale",
    ("J24", "K2", "J1"): "judge_timeout",
    ("J24", "K2", "J2"): "judge_timeout",
    ("J24", "K2", "J3"): "judge_timeout",
    ("J30", "K1", "J1"): "out_of_vocabulary",
    ("J30", "K1", "J2"): "out_of_vocabulary",
    ("J33", "K1", "J1"): "not_offered",
}


def load_cases() -> list[dict[str, Any]]:
    """Read every case."""
    return json.loads(CASES_FILE.read_text(encoding="utf-8"))


def judges_of(case: dict[str, Any]) -> list[str]:
    """Judge names in panel order, from the first jury criterion."""
    for criterion in case["criteria"]:
        if criterion.get("judges"):
            return [judge["judge"] for judge in criterion["judges"]]
    return []


def case_contract(case: dict[str, Any], protocol: str = "json") -> dict[str, Any]:
    """Build contract data for a case; judges are replay models named after the case's judges."""
    criteria = []
    for item in case["criteria"]:
        weight = float(item.get("weight", 1))
        criterion: dict[str, Any] = {
            "id": item["id"],
            "requirement": item["criterion"],
            "weight": abs(weight),
            "polarity": "negative" if weight < 0 else "positive",
        }
        if item.get("grader") == "exact":
            criterion.update(method="exact", expected=item["criterion"])
        if case["kind"] == "scale":
            criterion["scale"] = {"kind": "numeric", "minimum": 0, "maximum": 5, "integer": True, "pass_at": 0.7}
        criteria.append(criterion)
    timeout_case = case["kind"] == "timeout"
    return {
        "id": case["id"].lower(),
        "title": case["title"],
        "task": {"prompt": case["question"]},
        "criteria": criteria,
        "juries": {"panel": [{"model": f"replay/{name}"} for name in judges_of(case)]},
        "default_jury": "panel",
        "judging": {
            "protocol": protocol,
            "attempt_timeout_s": 0.5 if timeout_case else 30,
            "max_attempts": 2 if timeout_case else 4,
            "max_total_s": 5 if timeout_case else 60,
        },
    }


def _reply(judge: dict[str, Any], key: str, response: str) -> dict[str, Any]:
    reply: dict[str, Any] = {"completion": judge[key], "usage": judge.get("usage") or {"input_tokens": 100, "output_tokens": 20}}
    if judge.get("finish_reason"):
        reply["finish_reason"] = judge["finish_reason"]
    conditional = judge.get("conditional")
    if conditional and conditional.get("when", {}).get("prompt_lacks_full_response"):
        reply["unless_prompt_contains"] = response
        reply["otherwise"] = {"completion": conditional[key], "usage": reply["usage"]}
    return reply


def case_script(case: dict[str, Any], protocol: str = "json") -> dict[str, Any]:
    """Build the replay script that gives each judge its recorded completion and transport faults."""
    key = "raw_json" if protocol == "json" else "raw_grade"
    rules = []
    for criterion in case["criteria"]:
        for judge in criterion.get("judges", []):
            reply = _reply(judge, key, case["response"])
            replies = []
            for step in judge.get("transport", []) or []:
                if step.get("status", 200) != 200:
                    replies.append({"error": {"status": step["status"], "retry_after": step.get("retry_after")}})
                elif step.get("delay_s"):
                    replies.append({**reply, "delay_s": step["delay_s"]})
                else:
                    replies.append(reply)
            rules.append({"judge": judge["judge"], "criterion": criterion["id"], "replies": replies or [reply]})
    script: dict[str, Any] = {"rules": rules}
    transport = case.get("transport_global")
    if transport:
        script["global_faults"] = {"first_n": transport["n"], "status": transport["first_n_calls_status"], "retry_after": transport["retry_after"]}
    return script
