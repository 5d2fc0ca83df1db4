# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection settings: throttling, 5xx errors, latency, stop-to-ERROR and transition delays.

One :class:`FaultConfig` lives in :mod:`emulator.runtime`.  Every public method is thread-safe.
Per-operation tables (``throttle``, ``errors``, ``latency_ms``) are keyed by operation name
(``DescribeWorkspaces``) or ``*``; an operation's own entry wins over ``*``.
"""
from __future__ import annotations

import copy
import random
import threading
from typing import Any

# Service names (as signed in the request's credential scope) that faults apply to.
FAULT_SERVICES = frozenset({"workspaces", "tagging"})

# (error code, HTTP status, message) of the injected server-side errors.
THROTTLE_FAULT = ("ThrottlingException", 400, "Rate exceeded")
SERVER_FAULTS = {
    500: ("InternalFailure", 500, "The request processing has failed because of an unknown error, exception or failure."),
    502: ("BadGateway", 502, "Bad Gateway"),
    503: ("ServiceUnavailable", 503, "The request has failed due to a temporary failure of the server."),
    504: ("GatewayTimeout", 504, "Gateway Timeout"),
}

DEFAULTS: dict[str, Any] = {
    "seed": None,
    "throttle": {},
    "errors": {},
    "error_statuses": [500, 503],
    "latency_ms": {},
    "stop_fails_to_error": {"probability": 0.0, "workspace_ids": []},
    "stop_delay": 0.5,
    "start_delay": 0.5,
    "reboot_delay": 0.5,
    # DescribeWorkspacesConnectionStatus without NextToken answers an empty page that carries a NextToken.
    "connection_status_empty_first_page": False,
}

# Short spellings accepted by update(): alias -> key (a scalar for a table key means {"*": value}).
ALIASES = {
    "throttle_rate": "throttle",
    "error_rate": "errors",
    "fault_seed": "seed",
}


class FaultConfigError(ValueError):
    """An invalid fault setting."""


def _probability(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise FaultConfigError(f"{name} must be a number between 0 and 1, got {value!r}") from exc
    if not 0.0 <= number <= 1.0:
        raise FaultConfigError(f"{name} must be between 0 and 1, got {value!r}")
    return number


def _non_negative(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise FaultConfigError(f"{name} must be a number >= 0, got {value!r}") from exc
    if number < 0:
        raise FaultConfigError(f"{name} must be >= 0, got {value!r}")
    return number


def _table(name: str, value: Any, check) -> dict[str, float]:
    """A per-operation table from a scalar (meaning ``*``) or a mapping."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        value = {"*": value}
    return {str(op): check(f"{name}[{op}]", v) for op, v in value.items()}


def normalize(settings: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated with ``settings`` (validated, aliases resolved); ``base`` is not modified."""
    result = copy.deepcopy(base)
    for raw_key, value in settings.items():
        key = ALIASES.get(raw_key, raw_key)
        if key == "seed":
            result["seed"] = None if value is None else int(value)
        elif key in ("throttle", "errors", "latency_ms"):
            # Merged: a scalar sets the "*" entry, a mapping sets its operations; others are kept.
            result[key].update(_table(key, value, _non_negative if key == "latency_ms" else _probability))
        elif key == "error_statuses":
            statuses = [int(s) for s in (value if isinstance(value, list) else [value])]
            unknown = [s for s in statuses if s not in SERVER_FAULTS]
            if not statuses or unknown:
                raise FaultConfigError(f"error_statuses must be a non-empty list drawn from {sorted(SERVER_FAULTS)}, got {value!r}")
            result[key] = statuses
        elif key == "stop_fails_to_error":
            result[key] = _stop_fails(value, result[key])
        elif key in ("stop_delay", "start_delay", "reboot_delay"):
            result[key] = _non_negative(key, value)
        elif key == "connection_status_empty_first_page":
            if not isinstance(value, bool):
                raise FaultConfigError(f"{key} must be true or false, got {value!r}")
            result[key] = value
        else:
            allowed = sorted(set(DEFAULTS) | set(ALIASES) | {"clear"})
            raise FaultConfigError(f"unknown fault setting {raw_key!r}; allowed: {', '.join(allowed)}")
    return result


def _stop_fails(value: Any, current: dict[str, Any]) -> dict[str, Any]:
    """stop_fails_to_error from a probability, a list of workspace ids, or a mapping of both."""
    if value is None or value is False:
        return {"probability": 0.0, "workspace_ids": []}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"probability": _probability("stop_fails_to_error", value), "workspace_ids": list(current["workspace_ids"])}
    if isinstance(value, (list, tuple)):
        return {"probability": current["probability"], "workspace_ids": [str(v) for v in value]}
    if isinstance(value, dict):
        unknown = set(value) - {"probability", "workspace_ids"}
        if unknown:
            raise FaultConfigError(f"stop_fails_to_error accepts probability and workspace_ids, not {sorted(unknown)}")
        return {
            "probability": _probability("stop_fails_to_error.probability", value.get("probability", current["probability"])),
            "workspace_ids": [str(v) for v in value.get("workspace_ids", current["workspace_ids"])],
        }
    raise FaultConfigError(f"stop_fails_to_error must be a probability, a list of ids or a mapping, got {value!r}")


def _lookup(table: dict[str, float], operation: str) -> float:
    if operation in table:
        return table[operation]
    return table.get("*", 0.0)


class FaultConfig:
    """The current fault settings, the start-up baseline that reset() returns to, and the seeded RNG."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._baseline = copy.deepcopy(DEFAULTS)
        self._current = copy.deepcopy(DEFAULTS)
        self._rng = random.Random()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._current)

    def update(self, settings: dict[str, Any], baseline: bool = False) -> dict[str, Any]:
        """Merge ``settings`` into the current config (``clear: true`` starts from the defaults).

        With ``baseline=True`` the result also becomes what :meth:`reset` returns to (start-up flags).
        """
        settings = dict(settings)
        clear = bool(settings.pop("clear", False))
        with self._lock:
            new = normalize(settings, DEFAULTS if clear else self._current)
            self._current = new
            if baseline:
                self._baseline = copy.deepcopy(new)
            if "seed" in settings or "fault_seed" in settings or clear:
                self._rng.seed(new["seed"])
            return copy.deepcopy(new)

    def reset(self) -> dict[str, Any]:
        """Back to the start-up configuration; the RNG is re-seeded from it."""
        with self._lock:
            self._current = copy.deepcopy(self._baseline)
            self._rng.seed(self._current["seed"])
            return copy.deepcopy(self._current)

    def latency_seconds(self, service: str, operation: str) -> float:
        if service not in FAULT_SERVICES:
            return 0.0
        with self._lock:
            return _lookup(self._current["latency_ms"], operation) / 1000.0

    def pick_fault(self, service: str, operation: str) -> tuple[str, int, str] | None:
        """Decide whether this call is throttled or fails with a 5xx: (code, status, message) or None."""
        if service not in FAULT_SERVICES:
            return None
        with self._lock:
            cfg = self._current
            throttle = _lookup(cfg["throttle"], operation)
            if throttle and self._rng.random() < throttle:
                return THROTTLE_FAULT
            error = _lookup(cfg["errors"], operation)
            if error and self._rng.random() < error:
                return SERVER_FAULTS[self._rng.choice(cfg["error_statuses"])]
        return None

    def get(self, key: str) -> Any:
        """One current setting (a copy)."""
        with self._lock:
            return copy.deepcopy(self._current[key])

    def delay(self, transition: str) -> float:
        """Seconds for the ``stop``, ``start`` or ``reboot`` transition."""
        with self._lock:
            return float(self._current[f"{transition}_delay"])

    def stop_fails(self, workspace_id: str) -> bool:
        """Whether an accepted stop of this desktop ends in ERROR instead of STOPPED."""
        with self._lock:
            rule = self._current["stop_fails_to_error"]
            if workspace_id in rule["workspace_ids"]:
                return True
            return bool(rule["probability"]) and self._rng.random() < rule["probability"]
