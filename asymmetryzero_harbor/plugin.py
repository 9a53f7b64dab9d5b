"""Harbor job plugin that gathers every trial's verdict record when a job ends.

Harbor 0.25.0 runs an installed plugin only when it is named on the command line:
``harbor run ... --plugin asymmetryzero`` (or ``--plugin
asymmetryzero_harbor.plugin:VerdictRecordPlugin``). ``harbor job regrade`` takes no
plugins, so run ``asymmetryzero-harbor collect JOB_DIR`` on a regrade job instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from asymmetryzero_harbor.records import DEFAULT_RECORDS_FILE, DEFAULT_SUMMARY_FILE, collect_records, trial_dir_of

if TYPE_CHECKING:
    from harbor.job import Job
    from harbor.models.job.result import JobResult

logger = logging.getLogger(__name__)


class VerdictRecordPlugin:
    """Writes ``<job_dir>/asymmetryzero-records.jsonl`` and ``<job_dir>/asymmetryzero-summary.json``.

    Args:
        records_file: JSONL file name inside the job folder (``--pk records_file=NAME``).
        summary_file: Summary file name inside the job folder (``--pk summary_file=NAME``).
    """

    def __init__(self, records_file: str = DEFAULT_RECORDS_FILE, summary_file: str = DEFAULT_SUMMARY_FILE) -> None:
        self.records_file = records_file
        self.summary_file = summary_file
        self.job_dir: Path | None = None

    async def on_job_start(self, job: Job) -> None:
        """Remember the job folder, made absolute because ``-o`` may be relative to the working directory."""
        self.job_dir = Path(job.job_dir).resolve()

    async def on_job_end(self, job_result: JobResult) -> None:
        """Write the records file and the summary for the job's trials."""
        if self.job_dir is None:
            logger.error("on_job_end ran before on_job_start, so the job folder is unknown: no records written for job %s", job_result.id)
            return
        trials = [(result, trial_dir_of(result)) for result in job_result.trial_results]
        collect_records(trials, self.job_dir, records_file=self.records_file, summary_file=self.summary_file)
