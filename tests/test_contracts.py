"""Contract validation messages, the content hash, the JSON Schema and the validate command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared_contract.loading import ContractError, contract_hash, load_contract

DATA = Path(__file__).parent / "data"
BASIC = yaml.safe_load((DATA / "basic.yaml").read_text(encoding="utf-8"))


def _with(**changes) -> dict:
    data = json.loads(json.dumps(BASIC))
    for path, value in changes.items():
        target = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return data


MALFORMED = [
    ("duplicate-ids", _with(criteria__1__id="exact-city"), "criteria", "unique"),
    ("unknown-method", _with(criteria__1__method="vibes"), "criteria[1].method", "Input should be"),
    ("threshold-range", _with(aggregation__pass_threshold=1.5), "aggregation.pass_threshold", "less than or equal to 1"),
    ("empty-criteria", _with(criteria=[]), "criteria", "at least 1 item"),
    ("negative-positive", _with(criteria__1__weight=-2), "criteria[1]", "negative weight -2.0 on a positive criterion"),
    ("wrong-type", _with(criteria__1__required="maybe"), "criteria[1].required", "valid boolean"),
    ("unknown-field", _with(criteria__1__wieght=3), "criteria[1].wieght", "Extra inputs"),
    ("missing-prompt", _with(task={}), "task.prompt", "Field required"),
    ("bad-regex", _with(criteria__1__method="regex", criteria__1__pattern="(unclosed"), "criteria[1]", "not a valid regular expression"),
    ("no-positive", _with(criteria=[{"id": "bad", "requirement": "Recommends tea.", "polarity": "negative", "weight": 4}]), "criteria", "no positive points"),
    ("bad-json-path", _with(criteria__1__method="json_path", criteria__1__json_path="$[[[[", criteria__1__expected=1), "criteria[1]", "not a valid JSON path"),
    ("workspace-root", _with(criteria__1__method="file_exists", criteria__1__path="."), "criteria[1]", "names the workspace itself"),
    ("missing-reference", _with(task={"prompt": "p", "reference_files": ["refs/none.png"]}), "task.reference_files[0]", "not found"),
    ("escaping-reference", _with(task={"prompt": "p", "reference_files": ["../../etc/passwd"]}), "task.reference_files[0]", "leads outside"),
]


@pytest.mark.parametrize(("name", "data", "field", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_contract_message(name: str, data: dict, field: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    problems = raised.value.problems
    assert any(p.field == field for p in problems), [str(p) for p in problems]
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert all(p.file == str(path) and p.fix for p in problems)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ncriteria: [\n  - oops: : :\n", encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    problem = raised.value.problems[0]
    assert problem.field.startswith("line ")
    assert "invalid YAML" in problem.message


def test_validate_accepts_folder(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text((DATA / "basic.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(_with(criteria=[])), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "shared_contract.cli", "validate", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "bad.yaml" in run.stdout
    assert "1 valid, 1 invalid" in run.stderr


def test_validate_reports_every_file(tmp_path: Path) -> None:
    paths = []
    for name, data, _, _ in MALFORMED:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        paths.append(str(path))
    (tmp_path / "syntax.yaml").write_text("a: [\n", encoding="utf-8")
    paths.append(str(tmp_path / "syntax.yaml"))
    paths.append(str(DATA / "basic.yaml"))
    run = subprocess.run([sys.executable, "-m", "shared_contract.cli", "validate", *paths], capture_output=True, text=True)
    assert run.returncode == 1
    for path in paths[:-1]:
        assert path in run.stdout, path
    assert str(DATA / "basic.yaml") not in run.stdout
    assert f"1 valid, {len(paths) - 1} invalid" in run.stderr


def test_hash_stable_across_formats(tmp_path: Path) -> None:
    base = contract_hash(load_contract(DATA / "basic.yaml"))
    as_json = tmp_path / "basic.json"
    as_json.write_text(json.dumps(BASIC, indent=7, sort_keys=True), encoding="utf-8")
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(yaml.safe_dump(dict(reversed(list(BASIC.items()))), sort_keys=False), encoding="utf-8")
    with_default = tmp_path / "default.yaml"
    with_default.write_text(yaml.safe_dump(_with(vote_rule={"kind": "majority"})), encoding="utf-8")
    assert contract_hash(load_contract(as_json)) == base
    assert contract_hash(load_contract(reordered)) == base
    assert contract_hash(load_contract(with_default)) == base
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(_with(criteria__1__weight=2)), encoding="utf-8")
    assert contract_hash(load_contract(changed)) != base


def test_schema_command_prints_schemas() -> None:
    for extra in ([], ["--record"]):
        run = subprocess.run([sys.executable, "-m", "shared_contract.cli", "schema", *extra], capture_output=True, text=True, check=True)
        schema = json.loads(run.stdout)
        assert schema["type"] == "object"
        assert "criteria" in schema["properties"]


def test_core_imports_without_frameworks() -> None:
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('inspect_ai', 'harbor'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import shared_contract, shared_contract.grading, shared_contract.cli, shared_contract.jury, shared_contract.aggregation\n"
        "import shared_contract.analysis.stats\n"
        "assert 'inspect_ai' not in sys.modules and 'harbor' not in sys.modules\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
