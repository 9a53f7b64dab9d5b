"""Judge API keys never reach a log, record, cache or report written by a grading run.

Each run gets its own HOME, cache, data and log folders under tmp_path, so every file the run
writes can be searched. The search reads every byte of every file (and every member of zip
archives such as Inspect's .eval logs) plus the run's stdout and stderr.
"""

from __future__ import annotations

import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared_contract.audit import VerdictRecord, VoteVerdict
from tests.inspect_support import inspect_env, only_log, run_inspect
from tests.reliability.support import record_figure, verdict_rule, write_script

CLI = Path(sys.executable).parent / "asymmetryzero"
CONTRACT = """\
id: secret-check
task:
  prompt: What is the capital of France?
criteria:
  - id: exact-city
    requirement: The answer names Paris.
    method: contains
    expected: Paris
  - id: explains
    requirement: Explains why the city is the capital.
"""


def _keys() -> dict[str, str]:
    return {
        "OPENAI_API_KEY": f"sk-test-{secrets.token_hex(20)}",
        "ANTHROPIC_API_KEY": f"sk-ant-test-{secrets.token_hex(20)}",
        "GOOGLE_API_KEY": f"AIza-test-{secrets.token_hex(16)}",
        "MISTRAL_API_KEY": f"mistral-test-{secrets.token_hex(16)}",
    }


def _isolated_env(home: Path, keys: dict[str, str], **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("INSPECT_", "ASYMMETRYZERO_", "OPENAI_", "ANTHROPIC_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        ASYMMETRYZERO_CACHE_DIR=str(home / "votes"),
        INSPECT_LOG_DIR=str(home / "inspect-logs"),
        HARBOR_TELEMETRY="0",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        **keys,
        **extra,
    )
    return env


def _contents(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path}!{member}", archive.read(member)


def find_secrets(folder: Path, streams: dict[str, str], keys: dict[str, str]) -> list[str]:
    """Return 'where: variable' for every place a key value occurs, in files under folder or in the streams."""
    hits = []
    places = [*_contents(folder), *((name, text.encode("utf-8")) for name, text in streams.items())]
    for where, data in places:
        for name, value in keys.items():
            if value.encode("utf-8") in data:
                hits.append(f"{where}: {name}")
    return hits


def _judge_script(folder: Path) -> Path:
    rules = [
        verdict_rule("J1", "explains", '{"verdict": "PASS", "reason": "explains"}'),
        {"judge": "J2", "criterion": "explains", "replies": [{"error": {"status": 429, "retry_after": 0}}, {"completion": '{"verdict": "PASS"}'}]},
        {"judge": "J3", "criterion": "explains", "replies": [{"error": {"status": 400, "message": "scripted bad request"}}]},
    ]
    return write_script(folder / "script.json", {"rules": rules})


def test_search_finds_planted_key(tmp_path: Path) -> None:
    """The search itself works: a key written to a file, a zip member or a stream is found."""
    keys = _keys()
    (tmp_path / "plain.txt").write_text(f"token={keys['OPENAI_API_KEY']}", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "log.eval", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps({"key": keys["ANTHROPIC_API_KEY"]}))

    hits = find_secrets(tmp_path, {"stderr": keys["GOOGLE_API_KEY"]}, keys)

    assert len(hits) == 3


def test_cli_grade_writes_no_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    keys = _keys()
    contract = home / "contract.yaml"
    contract.write_text(CONTRACT, encoding="utf-8")
    response = home / "answer.txt"
    response.write_text("Paris, because the government sits there.", encoding="utf-8")
    out = home / "record.json"
    env = _isolated_env(home, keys, ASYMMETRYZERO_REPLAY_SCRIPT=str(_judge_script(home)))
    command = [str(CLI), "--verbose", "grade", "--contract", str(contract), "--response", str(response), "--out", str(out), "--no-progress"]
    for judge in ("J1", "J2", "J3"):
        command += ["--judge", f"replay/{judge}"]

    run = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=180, check=False)

    assert run.returncode == 0, run.stderr
    record = VerdictRecord.model_validate_json(out.read_text(encoding="utf-8"))
    votes = {vote.seat: vote for vote in next(r for r in record.criteria if r.id == "explains").votes}
    assert votes["J3"].verdict is VoteVerdict.INVALID
    assert [attempt.status for attempt in votes["J2"].attempts] == ["rate_limited", "ok"]
    assert "judge call failed" in run.stderr
    hits = find_secrets(home, {"stdout": run.stdout, "stderr": run.stderr}, keys)
    assert hits == []
    record_figure("secrets.cli_files_searched", sum(1 for _ in _contents(home)))


def test_inspect_eval_writes_no_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "contracts").mkdir(parents=True)
    keys = _keys()
    (home / "contracts" / "secret-check.yaml").write_text(CONTRACT, encoding="utf-8")
    responses = home / "responses.jsonl"
    responses.write_text(json.dumps({"id": "secret-check", "response": "Paris, because the government sits there."}) + "\n", encoding="utf-8")
    records = home / "records.jsonl"
    script = _judge_script(home)
    env = {**inspect_env(home / "inspect-logs", script), **_isolated_env(home, keys, ASYMMETRYZERO_REPLAY_SCRIPT=str(script))}

    run = run_inspect(
        [
            "eval", "asymmetryzero_inspect/contract_eval",
            "-T", f"contracts={home / 'contracts'}",
            "-T", f"responses={responses}",
            "-T", f"records={records}",
            "--model", "none",
            "--model-role", "jury=replay/J1,replay/J2,replay/J3",
            "--ctl-server", "false",
            "--log-level", "info",
        ],
        env,
        home,
    )

    assert only_log(home / "inspect-logs").exists()
    assert records.read_text(encoding="utf-8").strip()
    hits = find_secrets(home, {"stdout": run.stdout, "stderr": run.stderr}, keys)
    assert hits == []
    record_figure("secrets.inspect_files_searched", sum(1 for _ in _contents(home)))


class _EchoingProvider(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint on 127.0.0.1 that rejects every request and echoes its credentials."""

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        # The first request gets a 500, which the engine retries, and later ones a 401, which ends the vote.
        status = 500 if self.server.calls == 0 else 401  # type: ignore[attr-defined]
        self.server.calls += 1  # type: ignore[attr-defined]
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {self.headers.get('authorization')}", "type": "invalid_request_error", "code": "invalid_api_key"}})
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode("utf-8"))

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def echoing_provider() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProvider)
    server.calls = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _grade_with_openai_judge(home: Path, keys: dict[str, str], server: http.server.ThreadingHTTPServer) -> tuple[subprocess.CompletedProcess[str], VerdictRecord]:
    contract = home / "contract.yaml"
    contract.write_text(CONTRACT, encoding="utf-8")
    response = home / "answer.txt"
    response.write_text("Paris, because the government sits there.", encoding="utf-8")
    out = home / "record.json"
    env = _isolated_env(home, keys, OPENAI_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}/v1")
    command = [str(CLI), "--verbose", "grade", "--contract", str(contract), "--response", str(response), "--out", str(out), "--no-progress", "--judge", "openai/gpt-4o-mini"]
    run = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=180, check=False)
    assert run.returncode == 0, run.stderr
    return run, VerdictRecord.model_validate_json(out.read_text(encoding="utf-8"))


def test_provider_error_echoing_key(tmp_path: Path, echoing_provider: http.server.ThreadingHTTPServer) -> None:
    """A provider whose error message repeats the request's key must not carry it into the record."""
    home = tmp_path / "home"
    home.mkdir()
    keys = _keys()

    run, record = _grade_with_openai_judge(home, keys, echoing_provider)

    vote = next(r for r in record.criteria if r.id == "explains").votes[0]
    assert vote.verdict is VoteVerdict.INVALID
    assert vote.reason is not None and "[REDACTED]" in vote.reason
    hits = find_secrets(home, {"stdout": run.stdout, "stderr": run.stderr}, keys)
    assert hits == []


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the OpenAI SDK retries 5xx responses itself (max_retries=2 by default), "
    "so the jury engine records one attempt for three requests",
)
def test_every_provider_request_recorded(tmp_path: Path, echoing_provider: http.server.ThreadingHTTPServer) -> None:
    home = tmp_path / "home"
    home.mkdir()

    _, record = _grade_with_openai_judge(home, _keys(), echoing_provider)

    vote = next(r for r in record.criteria if r.id == "explains").votes[0]
    assert len(vote.attempts) == echoing_provider.calls  # type: ignore[attr-defined]
