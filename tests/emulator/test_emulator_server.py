# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CLI (serve + client commands), the in-process helpers, and how clients reach the server."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys

import boto3
import pytest

from emulator.client import EmulatorClient
from tests.emulator.emulator_helpers import REGION

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URL_LINE = re.compile(r"^EMULATOR_URL=(http://127\.0\.0\.1:\d+)$")


def _emulator_cli(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, "-m", "emulator", *args], cwd=ROOT, env=env, **kwargs)  # pylint: disable=consider-using-with


def _run_cli(*args):
    proc = _emulator_cli(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return json.loads(out)


def _serve(*args):
    """Start ``serve``; return (process, url) once it printed its URL line."""
    proc = _emulator_cli("serve", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode().rstrip("\n")
    match = URL_LINE.match(line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(1)


def _stop(proc, signum=signal.SIGTERM):
    proc.send_signal(signum)
    out = proc.communicate(timeout=10)[0]
    return proc.returncode, out


def test_serve_prints_its_url_serves_and_stops_on_sigint():
    # Start-up time is a benchmark figure (make bench), not a pass/fail bound on a shared machine.
    proc, url = _serve()
    try:
        assert EmulatorClient(url).health()["status"] == "ok"
        client = boto3.client("workspaces", region_name=REGION, endpoint_url=url, aws_access_key_id="a", aws_secret_access_key="b")
        assert client.describe_workspaces()["Workspaces"] == []
    finally:
        returncode, rest = _stop(proc, signal.SIGINT)
    assert returncode == 0 and rest == b""  # exactly one line on stdout


def test_serve_with_flags_files_and_client_commands(tmp_path):
    seed_file = tmp_path / "fleet.yml"
    seed_file.write_text("seed: 4\nregions:\n  us-east-1:\n    directories:\n      - directory_id: d-1111111111\n        count: 7\n")
    json_file = tmp_path / "more.json"
    json_file.write_text(json.dumps({"regions": {"eu-west-1": {"workspaces": [{"user_name": "bob"}]}}}))
    url_file, pid_file = tmp_path / "url", tmp_path / "pid"
    proc, url = _serve(
        "--seed-file", str(seed_file), "--url-file", str(url_file), "--pid-file", str(pid_file), "--latency-ms", "1",
        "--throttle", "StopWorkspaces=0.25", "--error-rate", "0.01", "--fault-seed", "3", "--stop-delay", "0.2", "--start-delay", "0.3",
        "--stop-fails-to-error", "0.1",
    )
    try:
        assert url_file.read_text().strip() == url
        assert int(pid_file.read_text()) == proc.pid
        client = EmulatorClient(url)
        faults = client.get_faults()
        assert faults["latency_ms"] == {"*": 1.0} and faults["throttle"] == {"StopWorkspaces": 0.25}
        assert faults["errors"] == {"*": 0.01} and faults["seed"] == 3
        assert (faults["stop_delay"], faults["start_delay"], faults["stop_fails_to_error"]["probability"]) == (0.2, 0.3, 0.1)
        assert len(client.workspaces(REGION)) == 7

        assert _run_cli("seed", "--url", url, str(json_file))["count"] == 1
        assert [w["user_name"] for w in _run_cli("workspaces", "--url", url, "--region", "eu-west-1")] == ["bob"]
        boto3.client("workspaces", region_name=REGION, endpoint_url=url, aws_access_key_id="a", aws_secret_access_key="b").describe_workspaces()
        assert _run_cli("calls", "--url", url, "--reset")["counts"] == {"DescribeWorkspaces": 1}
        assert _run_cli("calls", "--url", url)["counts"] == {}
        assert _run_cli("faults", "--url", url, "--throttle-rate", "0.5")["throttle"] == {"*": 0.5, "StopWorkspaces": 0.25}
        assert _run_cli("faults", "--url", url, "--clear")["throttle"] == {}
        new = _run_cli(
            "faults", "--url", url, "--rate-limit", "5", "--rate-burst", "7", "--expired-token-from-call", "9", "--access-denied",
            "eu-west-1,us-west-2", "--start-fails-ids", "ws-aaaaaaaaa", "--connection-status-empty-first-page",
        )
        assert new["rate_limit"] == {"calls_per_second": 5.0, "burst": 7} and new["expired_token_from_call"] == 9
        assert new["access_denied"] == {"eu-west-1": ["*"], "us-west-2": ["*"]}
        assert new["start_fails_to_error"]["workspace_ids"] == ["ws-aaaaaaaaa"] and new["connection_status_empty_first_page"] is True
        rate = _run_cli("rate", "--url", url)
        assert rate["rate_limit"] == {"calls_per_second": 5.0, "burst": 7} and rate["regions"] == []
        assert _run_cli("reset", "--url", url)["status"] == "reset"
        assert client.get_faults()["throttle"] == {"StopWorkspaces": 0.25}  # reset restores the start-up faults
        assert client.workspaces() == []
        assert _run_cli("health", "--url", url)["workspaces"] == 0
    finally:
        returncode, rest = _stop(proc)
    assert returncode == 0 and rest == b""
    assert not url_file.exists() and not pid_file.exists()


def test_serve_reports_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = _emulator_cli("serve", "--port", str(busy.getsockname()[1]), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and out == b""
    assert b"could not listen" in err


def test_in_process_helpers():
    from emulator.server import configure, running, start_in_thread  # pylint: disable=import-outside-toplevel

    try:
        with running(latency_ms=20) as url:
            client = EmulatorClient(url)
            assert client.health()["status"] == "ok"
            assert client.get_faults()["latency_ms"] == {"*": 20.0}
        url, stop = start_in_thread()
        try:
            assert EmulatorClient(url).health()["status"] == "ok"
        finally:
            stop()
    finally:
        configure({"clear": True})  # leave no start-up faults behind in this process


def test_endpoint_from_environment_and_any_credentials(emulator, monkeypatch):
    emulator.seed({"regions": {"ap-southeast-2": {"workspaces": [{"user_name": "kim"}]}}})
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)
    session = boto3.session.Session(aws_access_key_id="ASIAANYTHINGATALL123", aws_secret_access_key="x" * 40, aws_session_token="token")
    client = session.client("workspaces", region_name="ap-southeast-2")
    assert [w["UserName"] for w in client.describe_workspaces()["Workspaces"]] == ["kim"]
    assert emulator.calls()[0]["region"] == "ap-southeast-2"


def test_client_helper_builds_boto3_clients(emulator):
    client = emulator.boto3_client("workspaces", region_name="eu-central-1")
    assert client.describe_workspaces()["Workspaces"] == []
    assert client.meta.endpoint_url == emulator.url


@pytest.mark.parametrize("spec_name", ["fleet.yml", "fleet.json"])
def test_load_spec(tmp_path, spec_name):
    from emulator.client import load_spec  # pylint: disable=import-outside-toplevel

    path = tmp_path / spec_name
    path.write_text(json.dumps({"seed": 1, "regions": {REGION: {}}}))
    assert load_spec(str(path)) == {"seed": 1, "regions": {REGION: {}}}
