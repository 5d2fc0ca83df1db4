# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thread-safe log of the AWS API calls the emulator received (control calls are not logged)."""
from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallLog:
    """Append-only list of call records with per-operation counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []
        self._seq = 0

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Store one call; ``entry`` gets a ``seq`` number (1, 2, ...; restarts after clear())."""
        with self._lock:
            self._seq += 1
            entry = dict(entry, seq=self._seq)
            self._calls.append(entry)
            return entry

    def clear(self) -> int:
        with self._lock:
            count = len(self._calls)
            self._calls = []
            self._seq = 0
            return count

    def report(self, operation: str | None = None, service: str | None = None, since: int = 0) -> dict[str, Any]:
        """``{"calls": [...], "counts": {op: n}, "counts_ok": {op: n}}`` for the calls matching the filters."""
        with self._lock:
            calls = [
                c for c in self._calls
                if c["seq"] > since and (operation is None or c["operation"] == operation) and (service is None or c["service"] == service)
            ]
        counts = Counter(c["operation"] for c in calls)
        counts_ok = Counter(c["operation"] for c in calls if c["outcome"] == "ok")
        return {"calls": calls, "counts": dict(counts), "counts_ok": dict(counts_ok)}
