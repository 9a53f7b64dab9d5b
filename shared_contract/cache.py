"""On-disk vote cache (SQLite), so a re-run or a resumed run pays for no vote twice."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from shared_contract.audit import Vote


def vote_key(*parts: object) -> str:
    """Hash the parts that determine a vote into a cache key."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VoteCache:
    """Votes stored by key in a SQLite file; safe to share between threads and processes."""

    def __init__(self, path: str | Path, refresh: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.refresh = refresh
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("CREATE TABLE IF NOT EXISTS votes (key TEXT PRIMARY KEY, vote TEXT NOT NULL)")
        self._connection.commit()

    def get(self, key: str) -> Vote | None:
        """Return the stored vote, or None when absent or when refreshing."""
        if self.refresh:
            return None
        with self._lock:
            row = self._connection.execute("SELECT vote FROM votes WHERE key = ?", (key,)).fetchone()
        return Vote.model_validate_json(row[0]) if row else None

    def put(self, key: str, vote: Vote) -> None:
        """Store a vote, replacing any earlier one under the key."""
        with self._lock:
            self._connection.execute("INSERT OR REPLACE INTO votes (key, vote) VALUES (?, ?)", (key, vote.model_dump_json()))
            self._connection.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM votes").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._connection.close()
