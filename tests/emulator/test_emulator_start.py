# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StartWorkspaces: the STARTING delay, per-operation faults, start_fails_to_error (issue 16)."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.client import EmulatorError
from tests.emulator.emulator_helpers import REGION, make_client, seed_desktops


def _describe_state(ws, workspace_id):
    return ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["State"]


def _start(client, *ids):
    return client.start_workspaces(StartWorkspaceRequests=[{"WorkspaceId": i} for i in ids])["FailedRequests"]


def test_starting_lasts_the_configured_delay(emulator, ws):
    emulator.set_faults(start_delay=3600)
    (workspace_id,) = seed_desktops(emulator, {"state": "STOPPED"})
    assert _start(ws, workspace_id) == []
    assert _describe_state(ws, workspace_id) == "STARTING"
    pending = emulator.workspace(workspace_id, REGION)["pending"]
    assert pending["from"] == "STARTING" and pending["to"] == "AVAILABLE" and 3500 < pending["in_seconds"] <= 3600
    # STARTING cannot be started (or stopped) again.
    (failed,) = _start(ws, workspace_id)
    assert failed["ErrorMessage"] == f"The WorkSpace {workspace_id} is in state STARTING and cannot be started."
    emulator.set_faults(start_delay=0)
    (other,) = seed_desktops(emulator, {"state": "STOPPED"})
    assert _start(ws, other) == []
    assert _describe_state(ws, other) == "AVAILABLE"


@pytest.mark.parametrize("fault,code,status", [
    ({"throttle": {"StartWorkspaces": 1.0}}, "ThrottlingException", 400),
    ({"errors": {"StartWorkspaces": 1.0}, "error_statuses": [503]}, "ServiceUnavailable", 503),
    ({"errors": {"StartWorkspaces": 1.0}, "error_statuses": [500]}, "InternalFailure", 500),
])
def test_per_operation_faults_apply_to_start(emulator, fault, code, status):
    (workspace_id,) = seed_desktops(emulator, {"state": "STOPPED"})
    emulator.set_faults(**fault)
    client = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError) as info:
        _start(client, workspace_id)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert emulator.workspace(workspace_id, REGION)["state"] == "STOPPED"  # a faulted call changes nothing
    # Only StartWorkspaces is faulted.
    assert client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
    assert [c["outcome"] for c in emulator.calls(operation="StartWorkspaces")] == [code]


def test_latency_applies_to_start(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"state": "STOPPED"})
    emulator.set_faults(latency_ms={"StartWorkspaces": 200})
    assert _start(ws, workspace_id) == []
    (start,) = emulator.calls()
    assert start["operation"] == "StartWorkspaces" and start["outcome"] == "ok" and start["duration_ms"] >= 200


def test_start_fails_to_error_by_id(emulator, ws):
    emulator.set_faults(start_delay=0)
    doomed, fine = seed_desktops(emulator, {"state": "STOPPED"}, {"state": "STOPPED"})
    emulator.set_faults(start_fails_to_error={"workspace_ids": [doomed]})
    assert _start(ws, doomed, fine) == []
    assert _describe_state(ws, doomed) == "ERROR"
    assert _describe_state(ws, fine) == "AVAILABLE"
    # Stopping is not affected by the start setting.
    emulator.set_faults(stop_delay=0)
    assert ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": fine}])["FailedRequests"] == []
    assert _describe_state(ws, fine) == "STOPPED"


def test_start_fails_to_error_by_probability_is_reproducible(emulator, ws):
    emulator.seed({"seed": 3, "regions": {REGION: {"directories": [{"directory_id": "d-3333333333", "count": 20, "states": "STOPPED"}]}}})
    ids = sorted(w["workspace_id"] for w in emulator.workspaces(REGION))
    outcomes = []
    for dummy in range(2):
        emulator.set_faults(start_delay=0, start_fails_to_error=0.5, fault_seed=11)
        for workspace_id in ids:
            emulator.set_workspace(workspace_id, REGION, state="STOPPED")
        assert _start(ws, *ids) == []
        outcomes.append([w["state"] for w in sorted(emulator.workspaces(REGION), key=lambda w: w["workspace_id"])])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {"ERROR", "AVAILABLE"}


def test_start_fails_to_error_settings(emulator):
    faults = emulator.set_faults(start_fails_to_error=["ws-aaaaaaaaa"])
    assert faults["start_fails_to_error"] == {"probability": 0.0, "workspace_ids": ["ws-aaaaaaaaa"]}
    assert faults["stop_fails_to_error"] == {"probability": 0.0, "workspace_ids": []}
    assert emulator.set_faults(start_fails_to_error=0.25)["start_fails_to_error"] == {"probability": 0.25, "workspace_ids": ["ws-aaaaaaaaa"]}
    with pytest.raises(EmulatorError) as info:
        emulator.set_faults(start_fails_to_error={"chance": 1})
    assert info.value.status == 400 and "start_fails_to_error" in info.value.message
    emulator.reset()
    assert emulator.get_faults()["start_fails_to_error"] == {"probability": 0.0, "workspace_ids": []}
