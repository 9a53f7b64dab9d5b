"""Files the verifier writes in Harbor's verifier folder (``/logs/verifier`` in the sandbox).

``reward-details.json`` is the verdict record, which Harbor's viewer shows. ``reward.json``
is the reward Harbor reads, and it is written last, so it never exists without the record.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

from shared_contract.audit import VerdictRecord, write_atomic, write_record

logger = logging.getLogger(__name__)

REWARD_JSON = "reward.json"
REWARD_TXT = "reward.txt"
DETAILS_JSON = "reward-details.json"


def remove_reward_files(out_dir: Path) -> list[Path]:
    """Delete reward.json and reward.txt from the folder, whatever their type.

    An agent with write access to the verifier folder may plant a reward there, and a
    reward left behind would be read as this verifier's.

    Returns:
        The paths removed.

    Raises:
        OSError: A reward file exists and cannot be removed.
    """
    removed = []
    for name in (REWARD_JSON, REWARD_TXT):
        path = out_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_symlink() or path.exists():
            path.unlink()
        else:
            continue
        removed.append(path)
        logger.warning("removed %s, a reward file this verifier did not write (planted by agent code or left by an earlier run)", path)
    return removed


def write_details(record: VerdictRecord, out_dir: Path) -> Path:
    """Write the verdict record as reward-details.json, atomically."""
    return write_record(record, out_dir / DETAILS_JSON)


def write_rewards(rewards: dict[str, float], out_dir: Path) -> Path:
    """Write reward.json, atomically.

    Raises:
        ValueError: A value is not a finite number, which Harbor would reject.
    """
    for key, value in rewards.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"reward {key!r} is {value!r}, not a finite number")
    return write_atomic(out_dir / REWARD_JSON, json.dumps(rewards, allow_nan=False) + "\n")
