# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``python -m emulator serve|seed|calls|rate|faults|reset|workspaces|set-workspace|health``."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from emulator.client import EmulatorClient, EmulatorError, load_spec


def _op_value(text: str) -> tuple[str, float]:
    operation, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected OPERATION=VALUE, got {text!r}")
    return operation, float(value)


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("faults (AWS API calls only, never /_emulator/)")
    group.add_argument("--latency-ms", type=float, help="added latency per API call, milliseconds")
    group.add_argument("--throttle-rate", type=float, help="probability of ThrottlingException for every operation")
    group.add_argument("--error-rate", type=float, help="probability of an HTTP 5xx (500 InternalFailure / 503 ServiceUnavailable)")
    group.add_argument("--throttle", type=_op_value, action="append", metavar="OP=P", help="throttling probability for one operation")
    group.add_argument("--error", type=_op_value, action="append", metavar="OP=P", help="5xx probability for one operation")
    group.add_argument("--latency", type=_op_value, action="append", metavar="OP=MS", help="latency for one operation")
    group.add_argument("--fault-seed", type=int, help="seed of the fault RNG (reproducible faults)")
    group.add_argument("--stop-fails-to-error", type=float, metavar="P", help="probability that an accepted stop ends in ERROR")
    group.add_argument("--stop-fails-ids", metavar="ID,ID", help="desktops whose accepted stop ends in ERROR")
    group.add_argument("--start-fails-to-error", type=float, metavar="P", help="probability that an accepted start ends in ERROR")
    group.add_argument("--start-fails-ids", metavar="ID,ID", help="desktops whose accepted start ends in ERROR")
    group.add_argument("--stop-delay", type=float, help="seconds STOPPING lasts (default 0.5)")
    group.add_argument("--start-delay", type=float, help="seconds STARTING lasts (default 0.5)")
    group.add_argument("--reboot-delay", type=float, help="seconds REBOOTING lasts (default 0.5)")
    group.add_argument("--rate-limit", type=float, metavar="R", help="token bucket: R WorkSpaces+tagging calls/s per account and region")
    group.add_argument("--rate-burst", type=int, metavar="B", help="token bucket size (default: R rounded down, at least 1)")
    group.add_argument("--expired-token-from-call", type=int, metavar="N", help="ExpiredTokenException from the Nth call on")
    group.add_argument("--access-denied", metavar="REGION,REGION", help="regions whose WorkSpaces/tagging calls answer AccessDeniedException")
    group.add_argument("--connection-status-empty-first-page", action="store_true", default=None,
                       help="DescribeWorkspacesConnectionStatus without NextToken answers an empty page with a NextToken")


def fault_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for flag, key in (("latency_ms", "latency_ms"), ("throttle_rate", "throttle_rate"), ("error_rate", "error_rate"),
                      ("fault_seed", "fault_seed"), ("stop_delay", "stop_delay"), ("start_delay", "start_delay"),
                      ("reboot_delay", "reboot_delay"), ("connection_status_empty_first_page", "connection_status_empty_first_page")):
        if getattr(args, flag) is not None:
            settings[key] = getattr(args, flag)
    for flag, key in (("throttle", "throttle"), ("error", "errors"), ("latency", "latency_ms")):
        if getattr(args, flag):
            table = settings[key] if isinstance(settings.get(key), dict) else ({"*": settings[key]} if key in settings else {})
            table.update(dict(getattr(args, flag)))
            settings[key] = table
    if args.rate_limit is not None:
        settings["rate_limit"] = {"calls_per_second": args.rate_limit, **({"burst": args.rate_burst} if args.rate_burst else {})}
    if args.expired_token_from_call is not None:
        settings["expired_token_from_call"] = args.expired_token_from_call
    if args.access_denied:
        settings["access_denied"] = [r.strip() for r in args.access_denied.split(",") if r.strip()]
    for kind in ("stop", "start"):
        fails: dict[str, Any] = {}
        if getattr(args, f"{kind}_fails_to_error") is not None:
            fails["probability"] = getattr(args, f"{kind}_fails_to_error")
        if getattr(args, f"{kind}_fails_ids"):
            fails["workspace_ids"] = [i.strip() for i in getattr(args, f"{kind}_fails_ids").split(",") if i.strip()]
        if fails:
            settings[f"{kind}_fails_to_error"] = fails
    return settings


def _write_file(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def cmd_serve(args: argparse.Namespace) -> int:
    # Imported here so that the client-side commands do not load moto.
    from emulator.seed import seed  # pylint: disable=import-outside-toplevel
    from emulator.server import EmulatorServer, configure  # pylint: disable=import-outside-toplevel

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    configure(fault_settings(args))
    server = EmulatorServer(args.host, args.port, verbose=args.verbose)
    server.start()
    try:
        if args.seed_file:
            result = seed(load_spec(args.seed_file))
            print(f"seeded {result['count']} desktops", file=sys.stderr)
        url = server.url
        if args.url_file:
            _write_file(args.url_file, url + "\n")
        if args.pid_file:
            _write_file(args.pid_file, f"{os.getpid()}\n")
        print(f"EMULATOR_URL={url}", flush=True)
        while not stop.wait(0.1):
            pass
    finally:
        server.stop()
        for path in (args.pid_file, args.url_file):
            if path and os.path.exists(path):
                os.unlink(path)
    return 0


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def cmd_seed(args: argparse.Namespace) -> int:
    result = EmulatorClient(args.url).seed(load_spec(args.file))
    if args.full:
        _print(result)
    else:
        _print({"count": result["count"], "directories": result["directories"]})
    return 0


def cmd_calls(args: argparse.Namespace) -> int:
    client = EmulatorClient(args.url)
    report = client.call_report(operation=args.operation)
    _print(report if args.full else {"counts": report["counts"], "counts_ok": report["counts_ok"]})
    if args.reset:
        client.reset_calls()
    return 0


def cmd_faults(args: argparse.Namespace) -> int:
    client = EmulatorClient(args.url)
    settings = fault_settings(args)
    if args.clear:
        settings["clear"] = True
    _print(client.set_faults(**settings) if settings else client.get_faults())
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    _print(EmulatorClient(args.url).reset())
    return 0


def cmd_workspaces(args: argparse.Namespace) -> int:
    _print(EmulatorClient(args.url).workspaces(region=args.region))
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    report = EmulatorClient(args.url).rate_stats()
    if not args.full:
        for region in report["regions"]:
            region.pop("windows")
    _print(report)
    return 0


def cmd_set_workspace(args: argparse.Namespace) -> int:
    fields: dict[str, Any] = {}
    for name in ("state", "running_mode", "user_name", "account_id", "last_connected_minutes_ago", "last_known_user_connection_timestamp"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.connection_state is not None:
        fields["connection_state"] = None if args.connection_state == "NONE" else args.connection_state
    _print(EmulatorClient(args.url).set_workspace(args.workspace_id, args.region, **fields))
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    _print(EmulatorClient(args.url).health())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Offline Amazon WorkSpaces emulator (a moto extension).")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server until SIGTERM/SIGINT; prints EMULATOR_URL=... when ready")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--seed-file", help="YAML or JSON seed spec loaded before the URL is printed")
    serve.add_argument("--url-file", help="also write the URL to this file")
    serve.add_argument("--pid-file", help="write the process id to this file")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    _add_fault_options(serve)
    serve.set_defaults(func=cmd_serve)

    url_help = "emulator URL (default: $EMULATOR_URL)"
    default_url = os.environ.get("EMULATOR_URL")

    def client_parser(name: str, text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=text)
        child.add_argument("--url", default=default_url, required=default_url is None, help=url_help)
        return child

    seed_cmd = client_parser("seed", "seed a fleet from a YAML/JSON spec")
    seed_cmd.add_argument("file")
    seed_cmd.add_argument("--full", action="store_true", help="print every created desktop")
    seed_cmd.set_defaults(func=cmd_seed)

    calls = client_parser("calls", "print the call counts (or the whole log with --full)")
    calls.add_argument("--operation", help="only this operation")
    calls.add_argument("--full", action="store_true", help="print every logged call")
    calls.add_argument("--reset", action="store_true", help="clear the log after printing")
    calls.set_defaults(func=cmd_calls)

    faults = client_parser("faults", "set fault settings (merged into the current ones); no option prints them")
    faults.add_argument("--clear", action="store_true", help="start from no faults")
    _add_fault_options(faults)
    faults.set_defaults(func=cmd_faults)

    client_parser("reset", "drop all desktops, directories and tags; restore start-up faults; clear the call log").set_defaults(func=cmd_reset)
    workspaces = client_parser("workspaces", "print every desktop (ground truth)")
    workspaces.add_argument("--region")
    workspaces.set_defaults(func=cmd_workspaces)
    rate = client_parser("rate", "rate-limit statistics from the call log (accepted calls/s, bursts over the limit)")
    rate.add_argument("--full", action="store_true", help="include the per-second windows")
    rate.set_defaults(func=cmd_rate)
    one = client_parser("set-workspace", "change one desktop at run time (state, connection, last connection time...)")
    one.add_argument("workspace_id")
    one.add_argument("--region", required=True)
    one.add_argument("--account-id")
    one.add_argument("--state")
    one.add_argument("--running-mode")
    one.add_argument("--user-name")
    one.add_argument("--connection-state", help="CONNECTED, DISCONNECTED, UNKNOWN or NONE (no status entry)")
    one.add_argument("--last-connected-minutes-ago", help="minutes, or 'never'")
    one.add_argument("--last-known-user-connection-timestamp", help="ISO 8601 (UTC unless an offset is given), or 'never'")
    one.set_defaults(func=cmd_set_workspace)
    client_parser("health", "check the server").set_defaults(func=cmd_health)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (EmulatorError, OSError, RuntimeError, ValueError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 1
