"""Import the published AsymmetryZero bundle format (tasks.json, answers.json, refs/) as contracts.

Meaning is kept: criterion weights stay points (score = points of met criteria over all points),
and ``passThreshold`` on a 0-100 scale (default 100) becomes ``pass_threshold`` on 0-1.
``ExactMatch`` criteria become ``exact`` checks on the final answer; because an exact check needs
a defined answer to compare, tasks with such criteria get one added instruction line asking the
solver to end with "Final answer: ...". ``llm-judge`` criteria become jury criteria whose
requirement is the bundle's ``semanticPrompt``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from shared_contract.loading import contract_from_data
from shared_contract.schema import Contract

FINAL_ANSWER_INSTRUCTION = 'End your reply with a line of the form "Final answer: <your answer>".'
LOCAL_JURY = [
    {"model": "local/qwen2.5-coder-1.5b", "name": f"L{seed}", "settings": {"temperature": 0.5, "seed": seed, "max_tokens": 256}}
    for seed in (1, 2, 3)
]


class BundleError(ValueError):
    """The bundle is malformed; the message names the file and the entry."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: file not found; a bundle folder holds tasks.json and answers.json") from None
    except json.JSONDecodeError as error:
        raise BundleError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from None


def _criterion(item: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        weight = float(item["weight"])
        grader = item["grader_type"]
        prompt = str(item["semanticPrompt"])
        criterion_id = str(item["id"])
    except KeyError as missing:
        raise BundleError(f"{where}: criterion is missing {missing}") from None
    data: dict[str, Any] = {
        "id": criterion_id,
        "weight": abs(weight),
        "polarity": "negative" if weight < 0 else "positive",
    }
    if grader == "ExactMatch":
        data.update(
            requirement=str(item.get("description") or f"The final answer is {prompt}."),
            method="exact",
            expected=prompt,
            normalize=["nfkc", "casefold", "punctuation", "whitespace", "strip"],
        )
    elif grader == "llm-judge":
        data.update(requirement=prompt, method="jury")
    else:
        raise BundleError(f"{where}: grader_type {grader!r} is not ExactMatch or llm-judge")
    examples = [e for e in item.get("examples") or [] if isinstance(e, str)]
    if examples:
        data["examples"] = {"passing": examples}
    return data


def bundle_contracts(bundle: str | Path) -> list[tuple[dict[str, Any], list[Path]]]:
    """Read a bundle and return each task's contract data with the reference files it names.

    Raises:
        BundleError: a file is missing or malformed; the message names file and entry.
    """
    bundle = Path(bundle)
    tasks = _read_json(bundle / "tasks.json")
    answers = _read_json(bundle / "answers.json")
    prompts = {item["task_id"]: item for item in (tasks.get("prompts", []) if isinstance(tasks, dict) else tasks)}
    imported = []
    for index, entry in enumerate(answers):
        task_id = entry.get("task_id")
        where = f"{bundle / 'answers.json'}[{index}] ({task_id})"
        if task_id not in prompts:
            raise BundleError(f"{where}: task_id not found in tasks.json")
        task = prompts[task_id]
        criteria = [_criterion(item, f"{where}.criteria[{n}]") for n, item in enumerate(entry.get("criteria", []))]
        prompt = task["task_prompt"]
        if any(c["method"] == "exact" for c in criteria):
            prompt = f"{prompt}\n\n{FINAL_ANSWER_INSTRUCTION}"
        reference = task.get("reference_file") or entry.get("reference_file") or ""
        references = [bundle / "refs" / reference] if reference else []
        for path in references:
            if not path.resolve().is_relative_to((bundle / "refs").resolve()):
                raise BundleError(f"{where}: reference file {reference!r} leads outside {bundle / 'refs'}; name a file inside it")
            if not path.is_file():
                raise BundleError(f"{where}: reference file {path} not found")
        data = {
            "id": task_id,
            "title": task_id,
            "task": {"prompt": prompt, "reference_files": [f"refs/{p.name}" for p in references]},
            "criteria": criteria,
            "juries": {"local": LOCAL_JURY},
            "default_jury": "local",
            "aggregation": {"pass_threshold": float(entry.get("passThreshold", 100)) / 100},
        }
        imported.append((data, references))
    return imported


def import_bundle(bundle: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one validated YAML contract per bundle task into ``out_dir``, with its reference files."""
    out = Path(out_dir)
    (out / "refs").mkdir(parents=True, exist_ok=True)
    written = []
    for data, references in bundle_contracts(bundle):
        contract: Contract = contract_from_data(data, f"{bundle}:{data['id']}")
        for path in references:
            shutil.copyfile(path, out / "refs" / path.name)
        target = out / f"{contract.id}.yaml"
        target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        written.append(target)
    return written
