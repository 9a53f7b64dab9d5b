"""ChrootEnvironment with extra read-only binds taken from the host environment.

``harbor job regrade`` accepts ``--env`` but no ``--ek`` environment kwargs in harbor
0.25.0, so binds that a regrade needs (the editable checkout, the replay scripts) are
read from ``ASYMMETRYZERO_TEST_RO_BINDS``, a JSON list of host paths, in Harbor's process.
Use ``--env tests.harbor_support.bound_chroot:BoundChrootEnvironment``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tests.harbor_support.chroot_environment import ChrootEnvironment

RO_BINDS_ENV_VAR = "ASYMMETRYZERO_TEST_RO_BINDS"


class BoundChrootEnvironment(ChrootEnvironment):
    """ChrootEnvironment that adds the binds listed in ``ASYMMETRYZERO_TEST_RO_BINDS``."""

    def __init__(self, *args: Any, ro_binds: list[str] | None = None, **kwargs: Any) -> None:
        """Combine ``ro_binds`` with the paths from the environment variable.

        Raises:
            ValueError: The variable is set but is not a JSON list of strings.
        """
        raw = os.environ.get(RO_BINDS_ENV_VAR, "[]")
        extra = json.loads(raw)
        if not isinstance(extra, list) or not all(isinstance(path, str) for path in extra):
            raise ValueError(f"{RO_BINDS_ENV_VAR} must be a JSON list of paths, got {raw!r}")
        super().__init__(*args, ro_binds=[*(ro_binds or []), *extra], **kwargs)
