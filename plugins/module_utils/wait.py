# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Polling with a deadline and backoff (no botocore waiter exists for WorkSpaces).

Pure apart from the injected ``fetch``, ``sleep`` and ``clock``; unit-tested with a fake clock.
"""
from __future__ import annotations

import time

DEFAULT_DELAY = 1.0
DEFAULT_BACKOFF = 1.5
DEFAULT_MAX_DELAY = 20.0


def poll(fetch, ids, progress, deadline, sleep=time.sleep, clock=time.monotonic,
         delay=DEFAULT_DELAY, backoff=DEFAULT_BACKOFF, max_delay=DEFAULT_MAX_DELAY):
    """Poll ``ids`` until each is done or failed, or ``deadline`` (a ``clock()`` value) passes.

    ``fetch(ids)`` returns ``{id: description}`` (absent ids are missing) or None when it could not
    describe them (polling stops, the ids stay pending); ``progress(id, description)``
    returns ``'done'``, ``'pending'`` or ``'failed'``. Each round sleeps first (the desktops were just
    asked to change), fetches only the ids still pending and then grows the delay by ``backoff`` up to
    ``max_delay``, never sleeping past the deadline. Returns ``(done, failed, pending, rounds)``: the first
    three map id -> last description (None when absent).
    """
    pending = list(ids)
    done, failed, last = {}, {}, {}
    rounds = 0
    while pending:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(delay, remaining))
        delay = min(delay * backoff, max_delay)
        described = fetch(pending)
        rounds += 1
        if described is None:  # the fetch failed for good: the caller reports what is still pending
            break
        still = []
        for workspace_id in pending:
            desktop = described.get(workspace_id)
            last[workspace_id] = desktop
            outcome = progress(workspace_id, desktop)
            if outcome == 'done':
                done[workspace_id] = desktop
            elif outcome == 'failed':
                failed[workspace_id] = desktop
            else:
                still.append(workspace_id)
        pending = still
    return done, failed, {w: last.get(w) for w in pending}, rounds
