# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token bucket per account and region, and statistics of the rate a client achieved against it.

:class:`TokenBucket` takes an injectable clock so that it can be tested without sleeping.  :func:`stats` works on
call-log entries (``emulator.calllog``), so a benchmark can compute the same figures from ``GET /_emulator/calls``.
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

RATE_LIMIT_FAULT = "rate_limit"


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` tokens per second; it starts full. Not thread-safe by itself."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, got rate={rate!r} burst={burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)

    def take(self) -> bool:
        """Take one token: True (accepted) or False (over the limit: nothing taken)."""
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def available(self) -> float:
        self._refill()
        return self.tokens


def stats(calls: Iterable[dict[str, Any]], calls_per_second: float | None = None) -> dict[str, Any]:
    """Per account and region: how many WorkSpaces / tagging calls were attempted, accepted by the bucket and refused
    (``fault == "rate_limit"``), the accepted rate achieved, and the bursts over the limit.

    * ``accepted_per_second``: accepted calls / seconds from the first to the last attempted call (a single call: 0).
    * ``windows``: per whole epoch second, ``{"second", "attempted", "accepted", "rate_limited"}``.
    * ``max_attempted_in_a_second``, ``max_rate_limited_in_a_second``, ``max_over_limit_in_a_second`` (attempted above
      ``calls_per_second`` in one window, when it is given), ``longest_rate_limited_run`` (consecutive refused calls).
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        if call.get("service") in ("workspaces", "tagging"):
            groups[(str(call.get("account_id")), str(call.get("region")))].append(call)
    out = []
    for (account_id, region), group in sorted(groups.items()):
        group.sort(key=lambda c: c["seq"])
        windows: dict[int, dict[str, int]] = {}
        run = longest = 0
        for call in group:
            second = int(math.floor(call["time"]))
            window = windows.setdefault(second, {"second": second, "attempted": 0, "accepted": 0, "rate_limited": 0})
            window["attempted"] += 1
            if call.get("fault") == RATE_LIMIT_FAULT:
                window["rate_limited"] += 1
                run += 1
                longest = max(longest, run)
            else:
                window["accepted"] += 1
                run = 0
        attempted = len(group)
        accepted = sum(w["accepted"] for w in windows.values())
        span = group[-1]["time"] - group[0]["time"]
        entry = {
            "account_id": account_id,
            "region": region,
            "attempted": attempted,
            "accepted": accepted,
            "rate_limited": attempted - accepted,
            "throttled": sum(1 for c in group if c.get("outcome") == "ThrottlingException"),
            "first": group[0]["time"],
            "last": group[-1]["time"],
            "seconds": round(span, 3),
            "accepted_per_second": round(accepted / span, 3) if span > 0 else 0.0,
            "max_attempted_in_a_second": max(w["attempted"] for w in windows.values()),
            "max_rate_limited_in_a_second": max(w["rate_limited"] for w in windows.values()),
            "longest_rate_limited_run": longest,
            "windows": [windows[s] for s in sorted(windows)],
        }
        if calls_per_second:
            entry["max_over_limit_in_a_second"] = max(0, max(w["attempted"] for w in windows.values()) - math.floor(calls_per_second))
        out.append(entry)
    return {"regions": out}
