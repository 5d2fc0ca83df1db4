# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control endpoint under ``/_emulator/`` (JSON in, JSON out; never faulted, never logged)."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import moto
from moto.core import DEFAULT_ACCOUNT_ID
from moto.workspaces.models import workspaces_backends
from werkzeug.wrappers import Request, Response

from emulator import __version__, ratelimit
from emulator.extension import reset_backends
from emulator.faults import FaultConfigError
from emulator.runtime import CALLS, FAULTS, LOCK, wall
from emulator.seed import DEFAULT, NO_CONNECTION, SeedError, last_connection, seed
from emulator.workspaces import CONNECTION_STATES, RUNNING_MODES, WORKSPACE_STATES, EmulatedWorkspace

PREFIX = "/_emulator"
SET_WORKSPACE_FIELDS = {
    "region", "account_id", "state", "running_mode", "connection_state", "user_name", "tags", "workspace_name",
    "last_connected_minutes_ago", "last_known_user_connection_timestamp",
}


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _json_body(request: Request) -> dict[str, Any]:
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    if "yaml" in (request.content_type or ""):
        import yaml  # pylint: disable=import-outside-toplevel

        body = yaml.safe_load(raw)
    else:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ControlError(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "request body must be a JSON object")
    return body


def iter_workspaces(region: str | None = None, account_id: str | None = None) -> Iterable[tuple[str, str, EmulatedWorkspace]]:
    """(account, region, desktop) for every desktop, without creating backends as a side effect."""
    for account, account_backend in list(dict.items(workspaces_backends)):
        if account_id and account != account_id:
            continue
        for backend_region, backend in list(dict.items(account_backend)):
            if region and backend_region != region:
                continue
            for ws in list(backend.workspaces.values()):
                yield account, backend_region, ws


def health(_request: Request) -> dict[str, Any]:
    with LOCK:
        count = sum(1 for dummy in iter_workspaces())
    return {"status": "ok", "emulator_version": __version__, "moto_version": moto.__version__, "pid": os.getpid(), "workspaces": count}


def seed_fleet(request: Request) -> dict[str, Any]:
    return seed(_json_body(request))


def reset(_request: Request) -> dict[str, Any]:
    with LOCK:
        reset_backends()
        faults = FAULTS.reset()
        cleared = CALLS.clear()
    return {"status": "reset", "calls_cleared": cleared, "faults": faults}


def calls(request: Request) -> dict[str, Any]:
    args = request.args
    return CALLS.report(operation=args.get("operation"), service=args.get("service"), since=int(args.get("since", 0)))


def rate(request: Request) -> dict[str, Any]:
    """Rate-limit statistics computed from the call log (see emulator.ratelimit.stats)."""
    limit = FAULTS.get("rate_limit")
    report = CALLS.report(since=int(request.args.get("since", 0)))
    result = ratelimit.stats(report["calls"], limit["calls_per_second"] if limit else None)
    return dict(result, rate_limit=limit)


def clear_calls(_request: Request) -> dict[str, Any]:
    return {"cleared": CALLS.clear()}


def get_faults(_request: Request) -> dict[str, Any]:
    return FAULTS.snapshot()


def set_faults(request: Request) -> dict[str, Any]:
    return FAULTS.update(_json_body(request))


def list_workspaces(request: Request) -> dict[str, Any]:
    region, account_id = request.args.get("region"), request.args.get("account_id")
    with LOCK:
        return {"workspaces": [ws.dump(account, ws_region) for account, ws_region, ws in iter_workspaces(region, account_id)]}


def set_workspace(request: Request, workspace_id: str) -> dict[str, Any]:
    body = _json_body(request)
    unknown = set(body) - SET_WORKSPACE_FIELDS
    if unknown:
        raise ControlError(400, f"unknown field(s) {sorted(unknown)}; allowed: {sorted(SET_WORKSPACE_FIELDS)}")
    if not body.get("region"):
        raise ControlError(400, "region is required")
    account_id = str(body.get("account_id") or DEFAULT_ACCOUNT_ID)
    _check(body, "state", WORKSPACE_STATES)
    _check(body, "running_mode", RUNNING_MODES)
    if "connection_state" in body and body["connection_state"] is not None:
        _check(body, "connection_state", CONNECTION_STATES + (NO_CONNECTION,))
    last = last_connection("request", body, wall())
    with LOCK:
        found = [ws for dummy, dummy, ws in iter_workspaces(body["region"], account_id) if ws.workspace_id == workspace_id]
        if not found:
            raise ControlError(404, f"workspace {workspace_id} not found in {account_id}/{body['region']}")
        ws = found[0]
        if last is not DEFAULT and body.get("connection_state", ws.connection_state) == "CONNECTED":
            raise ControlError(400, "a CONNECTED desktop's last connection is now; set connection_state to DISCONNECTED or UNKNOWN as well")
        if "state" in body:
            ws.state = body["state"]
        if "running_mode" in body:
            ws.set_running_mode(body["running_mode"])
        if "connection_state" in body:
            conn = body["connection_state"]
            ws.set_connection(None if conn in (None, NO_CONNECTION) else conn)
        if last is not DEFAULT:
            ws.last_connection = last
            ws.connection_checked = wall()
        if "user_name" in body:
            ws.user_name = str(body["user_name"])
        if "workspace_name" in body:
            ws.workspace_name = body["workspace_name"] or ""
        if "tags" in body:
            ws.tags = [{"Key": str(k), "Value": str(v)} for k, v in (body["tags"] or {}).items()]
        return ws.dump(account_id, body["region"])


def _check(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    if key in body and body[key] not in allowed:
        raise ControlError(400, f"{key} must be one of {', '.join(allowed)}, got {body[key]!r}")


ROUTES: dict[tuple[str, str], Callable[[Request], dict[str, Any]]] = {
    ("GET", "/health"): health,
    ("POST", "/seed"): seed_fleet,
    ("POST", "/reset"): reset,
    ("GET", "/calls"): calls,
    ("DELETE", "/calls"): clear_calls,
    ("GET", "/rate"): rate,
    ("GET", "/faults"): get_faults,
    ("POST", "/faults"): set_faults,
    ("GET", "/workspaces"): list_workspaces,
}


def _dispatch(request: Request) -> tuple[int, Any]:
    path = request.path[len(PREFIX):].rstrip("/") or "/"
    handler = ROUTES.get((request.method, path))
    if handler is not None:
        return 200, handler(request)
    if path.startswith("/workspaces/") and request.method == "POST":
        return 200, set_workspace(request, path[len("/workspaces/"):])
    if path == "/":
        return 200, {"endpoints": [f"{method} {PREFIX}{route}" for method, route in ROUTES] + [f"POST {PREFIX}/workspaces/<id>"]}
    known = {route for dummy, route in ROUTES}
    if path in known:
        raise ControlError(405, f"{request.method} is not allowed on {PREFIX}{path}")
    raise ControlError(404, f"no control endpoint {request.method} {request.path}")


def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """WSGI entry point for ``/_emulator/...``."""
    request = Request(environ)
    try:
        status, payload = _dispatch(request)
    except ControlError as exc:
        status, payload = exc.status, {"error": str(exc)}
    except (SeedError, FaultConfigError, ValueError, TypeError, KeyError) as exc:
        status, payload = 400, {"error": f"{type(exc).__name__}: {exc}"}
    response = Response(json.dumps(payload, default=str), status=status, mimetype="application/json")
    return response(environ, start_response)
