# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection: throttling, 5xx, latency, reproducibility; control calls are never faulted."""
from __future__ import annotations

import threading
import types

import pytest
from botocore.exceptions import ClientError

from emulator.client import EmulatorClient, EmulatorError
from tests.emulator.emulator_helpers import REGION, fleet_spec, make_client, seed_desktops


@pytest.mark.waits
def test_throttled_describe_of_1000_desktops_completes_with_standard_retries(emulator):
    emulator.seed(fleet_spec(1000))
    emulator.set_faults(throttle_rate=0.3, fault_seed=2024)
    emulator.reset_calls()
    client = make_client(emulator.url, retries={"mode": "standard", "max_attempts": 20})

    ids = [w["WorkspaceId"] for page in client.get_paginator("describe_workspaces").paginate() for w in page["Workspaces"]]

    assert len(set(ids)) == 1000
    report = emulator.call_report()
    assert report["counts_ok"] == {"DescribeWorkspaces": 40}
    throttled = [c for c in report["calls"] if c["outcome"] == "ThrottlingException"]
    assert throttled and report["counts"]["DescribeWorkspaces"] == 40 + len(throttled)
    assert all(c["status"] == 400 and c["injected"] for c in throttled)


def test_throttling_error_shape(emulator):
    emulator.set_faults(throttle={"DescribeWorkspaces": 1.0})
    client = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError) as info:
        client.describe_workspaces()
    response = info.value.response
    assert response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Other operations are not throttled by a per-operation setting.
    assert client.describe_workspaces_connection_status()["WorkspacesConnectionStatus"] == []


def test_server_errors(emulator):
    (workspace_id,) = seed_desktops(emulator, {})
    emulator.set_faults(errors={"StopWorkspaces": 1.0}, error_statuses=[503])
    client = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError) as info:
        client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert info.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert emulator.workspace(workspace_id, REGION)["state"] == "AVAILABLE"  # a faulted call changes nothing
    emulator.set_faults(error_statuses=[500])
    with pytest.raises(ClientError) as info:
        client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert (info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("InternalFailure", 500)
    retried = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 3})
    with pytest.raises(ClientError):
        retried.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert [c["outcome"] for c in emulator.calls(operation="StopWorkspaces")] == ["ServiceUnavailable"] + ["InternalFailure"] * 4


def test_latency_is_per_call_and_concurrent_calls_overlap(monkeypatch):
    """Four calls at once on an in-process server whose latency "sleep" is a barrier for four: it only returns once
    all four calls are sleeping at the same time, which proves that latency is slept outside the backend lock (calls
    overlap) without measuring any time. A serialised server would break the barrier (its guard), failing the test."""
    from emulator import server as server_module  # pylint: disable=import-outside-toplevel
    from emulator.server import configure, running  # pylint: disable=import-outside-toplevel

    barrier = threading.Barrier(4, timeout=60)
    slept = []

    def barrier_sleep(seconds):
        slept.append(seconds)
        barrier.wait()

    monkeypatch.setattr(server_module, "time", types.SimpleNamespace(sleep=barrier_sleep))
    errors = []
    try:
        with running(latency_ms=300) as url:
            clients = [make_client(url) for dummy in range(4)]  # boto3 sessions are not thread-safe: create first

            def call(client):
                try:
                    client.describe_workspaces()
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    errors.append(exc)

            threads = [threading.Thread(target=call, args=(client,)) for client in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            calls = EmulatorClient(url).calls()
    finally:
        configure({"clear": True})  # leave no start-up faults behind in this process
    assert errors == [] and not barrier.broken
    assert slept == [0.3] * 4  # each call got the configured latency
    assert len(calls) == 4 and all(c["outcome"] == "ok" for c in calls)


def test_faults_are_reproducible_with_a_seed(emulator):
    client = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 1})
    runs = []
    for dummy in range(2):
        emulator.set_faults(throttle_rate=0.5, fault_seed=99)
        emulator.reset_calls()
        for dummy in range(12):
            try:
                client.describe_workspaces()
            except ClientError:
                pass
        runs.append([c["outcome"] for c in emulator.calls()])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"ok", "ThrottlingException"}


def test_control_endpoint_is_never_faulted(emulator):
    # Ten minutes of latency per AWS call: a control call that paid it would hit the client's 30 s timeout and fail.
    emulator.set_faults(throttle_rate=1.0, error_rate=1.0, latency_ms=600_000)
    control = EmulatorClient(emulator.url, timeout=30)
    control.seed(fleet_spec(3))
    assert control.health()["status"] == "ok"
    assert len(control.workspaces()) == 3
    assert control.calls() == []


def test_invalid_fault_settings_are_rejected(emulator):
    for settings in ({"throttle_rate": 2}, {"latency_ms": -1}, {"bogus": 1}, {"error_statuses": [418]}):
        with pytest.raises(EmulatorError) as info:
            emulator.set_faults(**settings)
        assert info.value.status == 400


def test_faults_merge_clear_and_reset(emulator):
    emulator.set_faults(throttle_rate=0.1)
    merged = emulator.set_faults(throttle={"StopWorkspaces": 0.9}, stop_delay=2)
    assert merged["throttle"] == {"*": 0.1, "StopWorkspaces": 0.9} and merged["stop_delay"] == 2
    cleared = emulator.set_faults(clear=True, latency_ms=5)
    assert cleared["throttle"] == {} and cleared["latency_ms"] == {"*": 5} and cleared["stop_delay"] == 0.5
    emulator.reset()
    assert emulator.get_faults()["latency_ms"] == {}
