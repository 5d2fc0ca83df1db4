# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process-wide emulator state shared by the server, the control endpoint and the moto extensions.

moto keeps its backends in module globals, so there is one emulator state per process: two servers
started in the same process share desktops, faults and the call log.
"""
from __future__ import annotations

import threading
import time

from emulator.calllog import CallLog
from emulator.faults import FaultConfig

# Serialises every access to moto's backends (AWS calls, seeding, control reads/writes) so that
# lazy state transitions and 10,000-item iterations never race with writers.  Injected latency
# is slept outside this lock, so concurrent clients still overlap.
LOCK = threading.RLock()

FAULTS = FaultConfig()
CALLS = CallLog()


def monotonic() -> float:
    """Clock of the state machine (transition deadlines)."""
    return time.monotonic()


def wall() -> float:
    """Clock of the timestamps returned to clients (epoch seconds)."""
    return time.time()
