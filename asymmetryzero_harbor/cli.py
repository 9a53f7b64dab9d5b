"""The ``asymmetryzero-harbor`` command: the in-sandbox verifier and job record collection.

``verify`` runs inside the task sandbox from ``tests/test.sh``. Exit codes:

- 0: the verdict is scored and reward.json was written.
- 1: no reward was written (UNSCORED verdict, judge outage, missing trajectory, a value
  outside the reward range, or an error while grading). Harbor then finds no reward file
  and marks the trial as errored, so it is not scored 0.
- 2: invalid arguments, an invalid contract, or an unknown jury. No reward is written.

The verdict record goes to ``<out>/reward-details.json`` and to stdout, because
inspect-harbor deletes the verifier folder after reading the reward.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from asymmetryzero_harbor.evidence import gather_evidence
from asymmetryzero_harbor.grading import grade
from asymmetryzero_harbor.needs import contract_needs
from asymmetryzero_harbor.outputs import remove_reward_files, write_details, write_rewards
from asymmetryzero_harbor.rewards import NoRewardError, rewards_from_record
from shared_contract.loading import ContractError, load_contract

logger = logging.getLogger("asymmetryzero_harbor")

EXIT_REWARD = 0
EXIT_NO_REWARD = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asymmetryzero-harbor", description="AsymmetryZero verifier and tools for Harbor.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log at INFO level instead of WARNING.")
    commands = parser.add_subparsers(dest="command", required=True)

    verify = commands.add_parser(
        "verify",
        help="Grade a trial against a contract and write reward.json and reward-details.json.",
        description="Grade the agent's work against an evaluation contract inside a Harbor sandbox.",
    )
    verify.add_argument("--contract", type=Path, required=True, help="Contract file (YAML or JSON), e.g. /tests/contract.yaml.")
    verify.add_argument("--workspace", type=Path, required=True, help="The agent's working folder, e.g. /app.")
    verify.add_argument("--out", type=Path, required=True, help="Harbor's verifier folder, e.g. /logs/verifier.")
    verify.add_argument("--response-file", type=Path, help="File holding the agent's final answer, e.g. /app/answer.txt.")
    verify.add_argument("--trajectory-dir", type=Path, help="The agent's log folder, e.g. /logs/agent.")
    verify.add_argument("--jury", help="Jury of the contract to use; the default is the contract's default_jury.")
    verify.add_argument(
        "--judge",
        dest="judges",
        action="extend",
        nargs="+",
        metavar="MODEL",
        help="Inspect model name of a judge, replacing the contract's juries; repeat or list several.",
    )
    verify.set_defaults(handler=_verify)

    collect = commands.add_parser(
        "collect",
        help="Gather a job's verdict records into one JSONL file and write a job summary.",
        description="Gather the verdict records of every trial of a Harbor job folder, e.g. one made by `harbor job regrade`.",
    )
    collect.add_argument("job_dir", type=Path, help="Harbor job folder, e.g. jobs/2025-01-01__12-00-00.")
    collect.add_argument("--records-file", help="JSONL file name inside the job folder; default asymmetryzero-records.jsonl.")
    collect.add_argument("--summary-file", help="Summary JSON file name inside the job folder; default asymmetryzero-summary.json.")
    collect.set_defaults(handler=_collect)
    return parser


def _verify(args: argparse.Namespace) -> int:
    out_dir: Path = args.out
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_reward_files(out_dir)
    except OSError as error:
        print(f"error: cannot clear old reward files in {out_dir}: {error}. Check the folder's permissions.", file=sys.stderr)
        return EXIT_NO_REWARD

    code = EXIT_NO_REWARD
    try:
        code = _grade_and_write(args, out_dir)
    finally:
        if code != EXIT_REWARD:
            # A contract command runs agent-written code, which may have written a reward file.
            # NOTE: a background process it started can still write one after this process exits.
            remove_reward_files(out_dir)
    return code


def _grade_and_write(args: argparse.Namespace, out_dir: Path) -> int:
    try:
        contract = load_contract(args.contract)
    except ContractError as error:
        print(f"error: invalid contract, no reward written:\n{error}", file=sys.stderr)
        return EXIT_USAGE

    needs = contract_needs(contract)
    if needs.final_answer and args.response_file is None:
        logger.warning("contract %s grades the final answer but --response-file is not given: the response is empty", contract.id)
    evidence = gather_evidence(args.workspace, args.response_file, args.trajectory_dir)
    if needs.trajectory and evidence.trajectory is None:
        print(
            f"error: contract {contract.id!r} grades the agent trajectory, but no trajectory file was found in "
            f"{args.trajectory_dir or '(no --trajectory-dir given)'}; no reward written. In Harbor's separate verifier mode "
            "the agent logs do not reach tests/test.sh: grade with --verifier asymmetryzero_harbor.verifier:ContractVerifier.",
            file=sys.stderr,
        )
        return EXIT_NO_REWARD

    try:
        record = asyncio.run(
            grade(contract, evidence, base_dir=args.contract.resolve().parent, jury=args.jury, judge_models=args.judges)
        )
    except KeyError as error:
        print(f"error: {error.args[0]}; pass one of them with --jury. No reward written.", file=sys.stderr)
        return EXIT_USAGE

    write_details(record, out_dir)
    print(record.to_json())
    try:
        rewards = rewards_from_record(record, contract.reward_keys)
    except NoRewardError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_NO_REWARD
    # Contract commands ran agent-written code after the first clean-up.
    remove_reward_files(out_dir)
    write_rewards(rewards, out_dir)
    logger.info("wrote rewards %s to %s", rewards, out_dir)
    return EXIT_REWARD


def _collect(args: argparse.Namespace) -> int:
    # Imported here so that `verify`, which runs in every sandbox, does not load Harbor.
    from asymmetryzero_harbor.records import collect_job_dir

    if not args.job_dir.is_dir():
        print(f"error: job folder {args.job_dir} not found. Pass the folder that `harbor run` or `harbor job regrade` created.", file=sys.stderr)
        return EXIT_USAGE
    names = {"records_file": args.records_file, "summary_file": args.summary_file}
    summary = collect_job_dir(args.job_dir, **{key: value for key, value in names.items() if value is not None})
    print(json.dumps(summary.model_dump(mode="json"), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; None reads ``sys.argv``.

    Returns:
        The process exit code, which the console script passes to ``sys.exit``.
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
