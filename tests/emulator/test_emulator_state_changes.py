# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StopWorkspaces / StartWorkspaces / RebootWorkspaces and the lazy state machine."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.emulator.emulator_helpers import REGION, seed_desktops


def _state(emulator, workspace_id):
    return emulator.workspace(workspace_id, REGION)


def _describe_state(ws, workspace_id):
    return ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["State"]


WAIT_GUARD = 120.0  # turns a hang into a failure; not a speed requirement


def _wait_for_state(ws, workspace_id, state):
    """Poll DescribeWorkspaces until the desktop is in ``state`` (the emulator moves it there after its delay)."""
    deadline = time.monotonic() + WAIT_GUARD
    while (current := _describe_state(ws, workspace_id)) != state:
        assert time.monotonic() < deadline, f"{workspace_id} still {current}, never {state}"
        time.sleep(0.05)


# The transitional state is observed with an hour-long delay (certain to be seen, whatever the machine's load); the
# transition itself with a short delay, polled until it happened, so no assertion races the emulator's clock.
LONG_DELAY = 3600


def test_stop_accepted_goes_stopping_then_stopped(emulator, ws):
    auto, manual, short = seed_desktops(emulator, {"running_mode": "AUTO_STOP"}, {"running_mode": "MANUAL"}, {"running_mode": "AUTO_STOP"})
    emulator.set_faults(stop_delay=LONG_DELAY)
    response = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": auto}, {"WorkspaceId": manual}])
    assert response["FailedRequests"] == []
    assert _describe_state(ws, auto) == "STOPPING"
    assert _state(emulator, manual)["pending"]["to"] == "STOPPED"
    assert _state(emulator, auto)["pending"]["in_seconds"] > LONG_DELAY / 2

    emulator.set_faults(stop_delay=0.8)
    started = time.monotonic()
    assert ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": short}])["FailedRequests"] == []
    _wait_for_state(ws, short, "STOPPED")
    # A lower bound only (the emulator's own deadline, not the machine's speed): never STOPPED before stop_delay.
    assert time.monotonic() - started >= 0.8


@pytest.mark.parametrize("state", ["AVAILABLE", "IMPAIRED", "UNHEALTHY", "ERROR"])
def test_stop_accepted_from_every_running_state(emulator, ws, state):
    emulator.set_faults(stop_delay=0)
    (workspace_id,) = seed_desktops(emulator, {"state": state})
    assert ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])["FailedRequests"] == []
    assert _describe_state(ws, workspace_id) == "STOPPED"


@pytest.mark.parametrize("state", [
    "PENDING", "REBOOTING", "STARTING", "REBUILDING", "RESTORING", "MAINTENANCE", "ADMIN_MAINTENANCE",
    "TERMINATING", "TERMINATED", "SUSPENDED", "UPDATING", "STOPPING", "STOPPED",
])
def test_stop_refused_in_other_states(emulator, ws, state):
    (workspace_id,) = seed_desktops(emulator, {"state": state})
    failed = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])["FailedRequests"]
    assert failed == [{
        "WorkspaceId": workspace_id,
        "ErrorCode": "ResourceInvalidState.Workspace",
        "ErrorMessage": f"The WorkSpace {workspace_id} is in state {state} and cannot be stopped.",
    }]
    assert _state(emulator, workspace_id)["state"] == state


def test_stop_refused_for_always_on(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"running_mode": "ALWAYS_ON"})
    (failed,) = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])["FailedRequests"]
    assert failed["ErrorCode"] == "ResourceInvalidState.Workspace"
    assert "running mode ALWAYS_ON" in failed["ErrorMessage"]
    assert _state(emulator, workspace_id)["state"] == "AVAILABLE"


def test_stop_unknown_id_and_mixed_batch(emulator, ws):
    emulator.set_faults(stop_delay=LONG_DELAY)  # STOPPING is asserted below
    good, stopped = seed_desktops(emulator, {}, {"state": "STOPPED"})
    response = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": i} for i in (good, "ws-doesnotexist", stopped)])
    assert [f["WorkspaceId"] for f in response["FailedRequests"]] == ["ws-doesnotexist", stopped]
    assert response["FailedRequests"][0] == {
        "WorkspaceId": "ws-doesnotexist",
        "ErrorCode": "ResourceNotFound.Workspace",
        "ErrorMessage": "The WorkSpace ws-doesnotexist could not be found.",
    }
    assert _state(emulator, good)["state"] == "STOPPING"


def test_stop_same_id_twice_in_one_request(emulator, ws):
    emulator.set_faults(stop_delay=LONG_DELAY)  # still STOPPING when the second entry is handled, however slow the machine
    (workspace_id,) = seed_desktops(emulator, {})
    failed = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}] * 2)["FailedRequests"]
    assert [f["ErrorMessage"] for f in failed] == [f"The WorkSpace {workspace_id} is in state STOPPING and cannot be stopped."]


@pytest.mark.parametrize("operation,member", [
    ("stop_workspaces", "StopWorkspaceRequests"),
    ("start_workspaces", "StartWorkspaceRequests"),
    ("reboot_workspaces", "RebootWorkspaceRequests"),
])
def test_more_than_25_requests_is_a_validation_error(ws, operation, member):
    requests = [{"WorkspaceId": f"ws-{i:09d}"} for i in range(26)]
    with pytest.raises(ClientError) as info:
        getattr(ws, operation)(**{member: requests})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "less than or equal to 25" in info.value.response["Error"]["Message"]
    assert len(getattr(ws, operation)(**{member: requests[:25]})["FailedRequests"]) == 25
    with pytest.raises(ParamValidationError):  # client-side: the list needs at least one item
        getattr(ws, operation)(**{member: []})


def test_malformed_workspace_id_is_a_validation_error(ws):
    with pytest.raises(ClientError) as info:
        ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": "i-12345678"}])
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "stopWorkspaceRequests.1.member.workspaceId" in info.value.response["Error"]["Message"]


def test_stopping_disconnects_the_user(emulator, ws):
    connected, no_entry = seed_desktops(emulator, {"connection_state": "CONNECTED"}, {"connection_state": None})
    before = ws.describe_workspaces_connection_status(WorkspaceIds=[connected])["WorkspacesConnectionStatus"][0]
    assert before["ConnectionState"] == "CONNECTED"
    ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": connected}, {"WorkspaceId": no_entry}])
    (after,) = ws.describe_workspaces_connection_status(WorkspaceIds=[connected, no_entry])["WorkspacesConnectionStatus"]
    assert after["WorkspaceId"] == connected
    assert after["ConnectionState"] == "DISCONNECTED"
    assert after["LastKnownUserConnectionTimestamp"] >= before["LastKnownUserConnectionTimestamp"]
    assert _state(emulator, no_entry)["connection_state"] is None


def test_start_from_stopped_only(emulator, ws):
    emulator.set_faults(start_delay=LONG_DELAY)
    stopped, available, always_on, short = seed_desktops(
        emulator, {"state": "STOPPED"}, {"state": "AVAILABLE"}, {"state": "STOPPED", "running_mode": "ALWAYS_ON"}, {"state": "STOPPED"},
    )
    failed = ws.start_workspaces(StartWorkspaceRequests=[{"WorkspaceId": i} for i in (stopped, available, always_on, "ws-unknown00")])["FailedRequests"]
    assert {f["WorkspaceId"]: f["ErrorCode"] for f in failed} == {
        available: "ResourceInvalidState.Workspace", always_on: "ResourceInvalidState.Workspace", "ws-unknown00": "ResourceNotFound.Workspace",
    }
    assert failed[0]["ErrorMessage"] == f"The WorkSpace {available} is in state AVAILABLE and cannot be started."
    assert _describe_state(ws, stopped) == "STARTING"
    emulator.set_faults(start_delay=0.6)
    assert ws.start_workspaces(StartWorkspaceRequests=[{"WorkspaceId": short}])["FailedRequests"] == []
    _wait_for_state(ws, short, "AVAILABLE")


def test_reboot(emulator, ws):
    emulator.set_faults(reboot_delay=LONG_DELAY)
    available, impaired, always_on, stopped, short = seed_desktops(
        emulator, {"connection_state": "CONNECTED"}, {"state": "IMPAIRED"}, {"running_mode": "ALWAYS_ON"}, {"state": "STOPPED"}, {"state": "IMPAIRED"},
    )
    failed = ws.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": i} for i in (available, impaired, always_on, stopped)])["FailedRequests"]
    assert failed == [{
        "WorkspaceId": stopped, "ErrorCode": "ResourceInvalidState.Workspace",
        "ErrorMessage": f"The WorkSpace {stopped} is in state STOPPED and cannot be rebooted.",
    }]
    assert {_describe_state(ws, i) for i in (available, impaired, always_on)} == {"REBOOTING"}
    assert _state(emulator, available)["connection_state"] == "DISCONNECTED"
    emulator.set_faults(reboot_delay=0.6)
    assert ws.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": short}])["FailedRequests"] == []
    _wait_for_state(ws, short, "AVAILABLE")


def test_full_cycle_stop_start(emulator, ws):
    emulator.set_faults(stop_delay=0, start_delay=0)
    (workspace_id,) = seed_desktops(emulator, {})
    request = [{"WorkspaceId": workspace_id}]
    assert ws.stop_workspaces(StopWorkspaceRequests=request)["FailedRequests"] == []
    assert _describe_state(ws, workspace_id) == "STOPPED"
    assert ws.start_workspaces(StartWorkspaceRequests=request)["FailedRequests"] == []
    assert _describe_state(ws, workspace_id) == "AVAILABLE"


def test_stop_fails_to_error_by_id(emulator, ws):
    emulator.set_faults(stop_delay=0)
    doomed, fine = seed_desktops(emulator, {}, {})
    emulator.set_faults(stop_fails_to_error={"workspace_ids": [doomed]})
    assert ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": doomed}, {"WorkspaceId": fine}])["FailedRequests"] == []
    assert _describe_state(ws, doomed) == "ERROR"
    assert _describe_state(ws, fine) == "STOPPED"
    # ERROR desktops may be stopped again (and this time they are allowed to fail again).
    assert ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": doomed}])["FailedRequests"] == []


def test_stop_fails_to_error_by_probability_is_reproducible(emulator, ws):
    emulator.seed({"seed": 3, "regions": {REGION: {"directories": [{"directory_id": "d-3333333333", "count": 20}]}}})
    ids = sorted(w["workspace_id"] for w in emulator.workspaces(REGION))
    outcomes = []
    for dummy in range(2):
        emulator.set_faults(stop_delay=0, stop_fails_to_error=0.5, fault_seed=11)
        for workspace_id in ids:
            emulator.set_workspace(workspace_id, REGION, state="AVAILABLE")
        ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": i} for i in ids])
        outcomes.append([w["state"] for w in sorted(emulator.workspaces(REGION), key=lambda w: w["workspace_id"])])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {"ERROR", "STOPPED"}


def test_set_workspace_state_cancels_pending_transition(emulator, ws):
    emulator.set_faults(stop_delay=LONG_DELAY)
    (workspace_id,) = seed_desktops(emulator, {})
    ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert _state(emulator, workspace_id)["pending"]["to"] == "STOPPED"
    emulator.set_workspace(workspace_id, REGION, state="IMPAIRED")
    assert _state(emulator, workspace_id)["pending"] is None
    assert _describe_state(ws, workspace_id) == "IMPAIRED"


def test_workspaces_from_create_workspaces_join_the_state_machine(emulator, ws):
    emulator.set_faults(stop_delay=0)
    (existing,) = seed_desktops(emulator, {})  # registers directory d-1111111111
    created = ws.create_workspaces(Workspaces=[{
        "DirectoryId": "d-1111111111", "UserName": "carol", "BundleId": "wsb-123456789",
        "WorkspaceProperties": {"RunningMode": "AUTO_STOP"},
    }])["PendingRequests"]
    new_id = created[0]["WorkspaceId"]
    assert ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": new_id}, {"WorkspaceId": existing}])["FailedRequests"] == []
    assert _describe_state(ws, new_id) == "STOPPED"
    assert ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": new_id}])["FailedRequests"] == []
    assert ws.describe_workspaces(WorkspaceIds=[new_id])["Workspaces"] == []
