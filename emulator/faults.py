# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection settings: throttling, 5xx errors, latency, stop/start-to-ERROR, transition delays, and the
deterministic gates: expired credentials, access denied per region, a token-bucket rate limit.

One :class:`FaultConfig` lives in :mod:`emulator.runtime`.  Every public method is thread-safe.
Per-operation tables (``throttle``, ``errors``, ``latency_ms``) are keyed by operation name
(``DescribeWorkspaces``) or ``*``; an operation's own entry wins over ``*``.
"""
from __future__ import annotations

import copy
import random
import threading
from typing import Any

from emulator.ratelimit import RATE_LIMIT_FAULT, TokenBucket

# Service names (as signed in the request's credential scope) that faults apply to.
FAULT_SERVICES = frozenset({"workspaces", "tagging"})

# (error code, HTTP status, message) of the injected server-side errors.
THROTTLE_FAULT = ("ThrottlingException", 400, "Rate exceeded")
EXPIRED_TOKEN_FAULT = ("ExpiredTokenException", 400, "The security token included in the request is expired")
# IAM action prefix per signing name.
IAM_PREFIX = {"workspaces": "workspaces", "tagging": "tag"}
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
    "start_fails_to_error": {"probability": 0.0, "workspace_ids": []},
    "stop_delay": 0.5,
    "start_delay": 0.5,
    "reboot_delay": 0.5,
    # DescribeWorkspacesConnectionStatus without NextToken answers an empty page that carries a NextToken.
    "connection_status_empty_first_page": False,
    # {region: ["*"] or [operation, ...]}: AccessDeniedException for those WorkSpaces / tagging calls.
    "access_denied": {},
    # ec2 DescribeRegions answers UnauthorizedOperation (HTTP 403).
    "describe_regions_denied": False,
    # From the Nth WorkSpaces / tagging call after the setting on (1 = the next call): ExpiredTokenException.
    "expired_token_from_call": None,
    # {"calls_per_second": R, "burst": B}: a token bucket per account and region shared by WorkSpaces + tagging calls.
    "rate_limit": None,
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
        elif key in ("stop_fails_to_error", "start_fails_to_error"):
            result[key] = _fails_to_error(key, value, result[key])
        elif key in ("stop_delay", "start_delay", "reboot_delay"):
            result[key] = _non_negative(key, value)
        elif key == "access_denied":
            result[key] = _access_denied(value)
        elif key == "expired_token_from_call":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise FaultConfigError(f"{key} must be an integer >= 1 (1: the next call) or null, got {value!r}")
            result[key] = value
        elif key == "rate_limit":
            result[key] = _rate_limit(value)
        elif key in ("connection_status_empty_first_page", "describe_regions_denied"):
            if not isinstance(value, bool):
                raise FaultConfigError(f"{key} must be true or false, got {value!r}")
            result[key] = value
        else:
            allowed = sorted(set(DEFAULTS) | set(ALIASES) | {"clear"})
            raise FaultConfigError(f"unknown fault setting {raw_key!r}; allowed: {', '.join(allowed)}")
    return result


def _access_denied(value: Any) -> dict[str, list[str]]:
    """{region: ["*"] | [operation, ...]} from a list of regions (all operations) or a mapping."""
    if value is None or value is False:
        return {}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):
        value = {region: "*" for region in value}
    if not isinstance(value, dict):
        raise FaultConfigError(f"access_denied must be a list of regions or a mapping of region to operations, got {value!r}")
    result = {}
    for region, operations in value.items():
        if operations in (None, "*", True):
            operations = ["*"]
        elif isinstance(operations, str):
            operations = [operations]
        if not isinstance(operations, (list, tuple)) or not operations or not all(isinstance(o, str) and o for o in operations):
            raise FaultConfigError(f"access_denied[{region}] must be '*' or a non-empty list of operation names, got {operations!r}")
        result[str(region)] = list(operations)
    return result


def _rate_limit(value: Any) -> dict[str, Any] | None:
    if value is None or value is False:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"calls_per_second": value}
    if not isinstance(value, dict) or set(value) - {"calls_per_second", "burst"} or "calls_per_second" not in value:
        raise FaultConfigError(f"rate_limit must be null or {{calls_per_second: R, burst: B}}, got {value!r}")
    rate = _non_negative("rate_limit.calls_per_second", value["calls_per_second"])
    burst = value.get("burst")
    if burst is None:
        burst = max(1, int(rate))
    if not isinstance(burst, int) or isinstance(burst, bool) or burst < 1 or rate <= 0:
        raise FaultConfigError(f"rate_limit needs calls_per_second > 0 and an integer burst >= 1, got {value!r}")
    return {"calls_per_second": rate, "burst": burst}


def _denied_message(service: str, operation: str, region: str, account_id: str) -> str:
    action = f"{IAM_PREFIX.get(service, service)}:{operation}"
    resource = f"arn:aws:workspaces:{region}:{account_id}:workspace/*" if service == "workspaces" else "*"
    return (f"User: arn:aws:iam::{account_id}:user/emulator is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


def _fails_to_error(name: str, value: Any, current: dict[str, Any]) -> dict[str, Any]:
    """stop_fails_to_error / start_fails_to_error from a probability, a list of workspace ids, or a mapping of both."""
    if value is None or value is False:
        return {"probability": 0.0, "workspace_ids": []}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"probability": _probability(name, value), "workspace_ids": list(current["workspace_ids"])}
    if isinstance(value, (list, tuple)):
        return {"probability": current["probability"], "workspace_ids": [str(v) for v in value]}
    if isinstance(value, dict):
        unknown = set(value) - {"probability", "workspace_ids"}
        if unknown:
            raise FaultConfigError(f"{name} accepts probability and workspace_ids, not {sorted(unknown)}")
        return {
            "probability": _probability(f"{name}.probability", value.get("probability", current["probability"])),
            "workspace_ids": [str(v) for v in value.get("workspace_ids", current["workspace_ids"])],
        }
    raise FaultConfigError(f"{name} must be a probability, a list of ids or a mapping, got {value!r}")


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
        # Run-time state of the gates, restarted whenever their setting is given and on reset().
        self._expiry_calls = 0
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

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
            if "expired_token_from_call" in settings or clear:
                self._expiry_calls = 0
            if "rate_limit" in settings or clear:
                self._buckets = {}
            return copy.deepcopy(new)

    def reset(self) -> dict[str, Any]:
        """Back to the start-up configuration; the RNG is re-seeded from it."""
        with self._lock:
            self._current = copy.deepcopy(self._baseline)
            self._rng.seed(self._current["seed"])
            self._expiry_calls = 0
            self._buckets = {}
            return copy.deepcopy(self._current)

    def latency_seconds(self, service: str, operation: str) -> float:
        if service not in FAULT_SERVICES:
            return 0.0
        with self._lock:
            return _lookup(self._current["latency_ms"], operation) / 1000.0

    def gate(self, service: str, operation: str, region: str, account_id: str) -> tuple[str, tuple[str, int, str]] | None:
        """The deterministic refusals, in AWS's order (authentication, authorization, rate): ``(kind, (code, status,
        message))`` with kind ``expired_token``, ``access_denied`` or ``rate_limit``, or None when the call may pass."""
        if service not in FAULT_SERVICES:
            return None
        with self._lock:
            cfg = self._current
            if cfg["expired_token_from_call"] is not None:
                self._expiry_calls += 1
                if self._expiry_calls >= cfg["expired_token_from_call"]:
                    return "expired_token", EXPIRED_TOKEN_FAULT
            denied = cfg["access_denied"].get(region)
            if denied and ("*" in denied or operation in denied):
                return "access_denied", ("AccessDeniedException", 400, _denied_message(service, operation, region, account_id))
            limit = cfg["rate_limit"]
            if limit is not None:
                bucket = self._buckets.get((account_id, region))
                if bucket is None:
                    bucket = self._buckets[(account_id, region)] = TokenBucket(limit["calls_per_second"], limit["burst"])
                if not bucket.take():
                    return RATE_LIMIT_FAULT, THROTTLE_FAULT
        return None

    def ec2_denied(self, operation: str) -> bool:
        """Whether this ec2 call answers UnauthorizedOperation (only DescribeRegions can be denied)."""
        with self._lock:
            return operation == "DescribeRegions" and bool(self._current["describe_regions_denied"])

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
        return self.fails("stop", workspace_id)

    def fails(self, transition: str, workspace_id: str) -> bool:
        """Whether an accepted ``stop`` / ``start`` of this desktop ends in ERROR instead of STOPPED / AVAILABLE."""
        key = f"{transition}_fails_to_error"
        if key not in DEFAULTS:
            return False
        with self._lock:
            rule = self._current[key]
            if workspace_id in rule["workspace_ids"]:
                return True
            return bool(rule["probability"]) and self._rng.random() < rule["probability"]
