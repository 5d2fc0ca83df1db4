# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control endpoint: seeding, ground truth, set_workspace, reset, call log, health."""
from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from emulator.client import EmulatorError
from tests.emulator.emulator_helpers import REGION, make_client, seed_desktops, shape_errors

SPEC = {
    "seed": 42,
    "regions": {
        REGION: {
            "directories": [{
                "directory_id": "d-1111111111", "count": 500, "bundle_id": "wsb-aaaaaaaaa", "user_prefix": "alice",
                "running_modes": {"AUTO_STOP": 0.8, "ALWAYS_ON": 0.1, "MANUAL": 0.1},
                "states": {"AVAILABLE": 0.85, "STOPPED": 0.15},
                "connection_states": {"CONNECTED": 0.1, "DISCONNECTED": 0.8, "NONE": 0.1},
                "tags": {"Schedule": "office-hours"}, "tag_fraction": 0.5,
            }],
            "workspaces": [{
                "workspace_id": "ws-0123456789", "directory_id": "d-1111111111", "user_name": "bob", "state": "AVAILABLE",
                "running_mode": "AUTO_STOP", "connection_state": "CONNECTED", "tags": {"Team": "a"},
            }],
        },
        "eu-west-1": {"directories": [{"count": 5, "running_modes": "MANUAL", "states": "STOPPED"}]},
    },
}


def test_seed_spec_proportions_and_result(emulator):
    result = emulator.seed(SPEC)
    assert result["count"] == 506
    east = [w for w in result["workspaces"] if w["region"] == REGION]
    fleet = [w for w in east if w["user_name"] != "bob"]
    assert Counter(w["running_mode"] for w in fleet) == {"AUTO_STOP": 400, "ALWAYS_ON": 50, "MANUAL": 50}
    assert Counter(w["state"] for w in fleet) == {"AVAILABLE": 425, "STOPPED": 75}
    assert Counter(w["connection_state"] for w in fleet) == {"CONNECTED": 50, "DISCONNECTED": 400, None: 50}
    assert sum(1 for w in fleet if w["tags"] == {"Schedule": "office-hours"}) == 250
    assert fleet[0]["user_name"] == "alice0001" and fleet[-1]["user_name"] == "alice0500"
    assert {w["bundle_id"] for w in fleet} == {"wsb-aaaaaaaaa"}
    assert all(re.match(r"^ws-[0-9a-z]{9}$", w["workspace_id"]) for w in fleet)
    bob = next(w for w in east if w["user_name"] == "bob")
    assert bob["workspace_id"] == "ws-0123456789" and bob["tags"] == {"Team": "a"} and bob["connection_state"] == "CONNECTED"
    west = [w for w in result["workspaces"] if w["region"] == "eu-west-1"]
    assert {(w["state"], w["running_mode"]) for w in west} == {("STOPPED", "MANUAL")}
    assert {d["directory_id"] for d in result["directories"]} >= {"d-1111111111"}
    assert emulator.workspaces(REGION) == [dict(w, pending=None) for w in east]


def test_seed_is_deterministic(emulator):
    first = emulator.seed(SPEC)["workspaces"]
    emulator.reset()
    second = emulator.seed(SPEC)["workspaces"]
    # Everything but the subnet ids, which moto's EC2 backend generates at random, and times (relative to the seeding).

    def stable(dump):
        return dict(dump, subnet_id=None, last_known_user_connection_timestamp=None, connection_state_check_timestamp=None)

    def idle(dumps):
        return [None if w["last_known_user_connection_timestamp"] is None
                else w["connection_state_check_timestamp"] - w["last_known_user_connection_timestamp"] for w in dumps]

    assert [stable(w) for w in first] == [stable(w) for w in second]
    assert idle(first) == pytest.approx(idle(second), abs=0.01)


@pytest.mark.parametrize("spec,fragment", [
    ({"regions": {REGION: {"directories": [{"count": 1, "colour": "red"}]}}}, "colour"),
    ({"regions": {REGION: {"directories": [{"count": 1, "states": {"ASLEEP": 1}}]}}}, "ASLEEP"),
    ({"regions": {REGION: {"directories": [{"count": 1, "directory_id": "d-nothex"}]}}}, "directory_id"),
    ({"regions": {REGION: {"workspaces": [{"workspace_id": "ws-BAD"}]}}}, "workspace_id"),
    ({"regions": {REGION: {"directories": [{"count": 1, "tag_fraction": 2}]}}}, "tag_fraction"),
    ({"regions": {}}, "regions"),
    ({"seed": 1, "region": {}}, "region"),
])
def test_seed_spec_errors(emulator, spec, fragment):
    with pytest.raises(EmulatorError) as info:
        emulator.seed(spec)
    assert info.value.status == 400 and fragment in info.value.message


def test_invalid_seed_spec_adds_nothing(emulator, ws):
    spec = {"regions": {REGION: {"directories": [{"directory_id": "d-1111111111", "count": 3}], "workspaces": [{"state": "NAPPING"}]}}}
    with pytest.raises(EmulatorError):
        emulator.seed(spec)
    assert emulator.workspaces() == []
    assert ws.describe_workspace_directories()["Directories"] == []


def test_duplicate_workspace_id_is_rejected(emulator):
    seed_desktops(emulator, {"workspace_id": "ws-0123456789"})
    with pytest.raises(EmulatorError) as info:
        seed_desktops(emulator, {"workspace_id": "ws-0123456789"})
    assert "already exists" in info.value.message


def test_set_workspace(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"user_name": "bob"})
    updated = emulator.set_workspace(workspace_id, REGION, state="UNHEALTHY", running_mode="MANUAL", user_name="robert", tags={"a": "1"})
    assert (updated["state"], updated["running_mode"], updated["user_name"], updated["tags"]) == ("UNHEALTHY", "MANUAL", "robert", {"a": "1"})
    (desk,) = ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
    assert (desk["State"], desk["UserName"], desk["WorkspaceProperties"]["RunningMode"]) == ("UNHEALTHY", "robert", "MANUAL")
    with pytest.raises(EmulatorError) as info:
        emulator.set_workspace("ws-notthere1", REGION, state="AVAILABLE")
    assert info.value.status == 404
    with pytest.raises(EmulatorError) as info:
        emulator.set_workspace(workspace_id, "eu-west-1", state="AVAILABLE")  # wrong region
    assert info.value.status == 404
    for bad in ({"state": "NAPPING"}, {"colour": "red"}):
        with pytest.raises(EmulatorError) as info:
            emulator.set_workspace(workspace_id, REGION, **bad)
        assert info.value.status == 400


def test_reset_drops_everything(emulator, ws):
    seed_desktops(emulator, {})
    ws.describe_workspaces()
    emulator.set_faults(latency_ms=1)
    emulator.reset()
    assert emulator.workspaces() == []
    assert emulator.calls() == []
    assert emulator.get_faults()["latency_ms"] == {}
    assert ws.describe_workspace_directories()["Directories"] == []
    assert emulator.health()["workspaces"] == 0


def test_call_log(emulator, ws, tagging):
    (workspace_id,) = seed_desktops(emulator, {})
    ws.describe_workspaces(WorkspaceIds=[workspace_id])
    ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    with pytest.raises(ClientError):
        ws.describe_workspaces(UserName="bob")
    tagging.get_resources(ResourceTypeFilters=["workspaces:workspace"])
    make_client(emulator.url, region="eu-west-1").describe_workspaces()

    report = emulator.call_report()
    calls = report["calls"]
    assert [(c["service"], c["operation"], c["region"], c["outcome"]) for c in calls] == [
        ("workspaces", "DescribeWorkspaces", REGION, "ok"),
        ("workspaces", "StopWorkspaces", REGION, "ok"),
        ("workspaces", "DescribeWorkspaces", REGION, "InvalidParameterValuesException"),
        ("tagging", "GetResources", REGION, "ok"),
        ("workspaces", "DescribeWorkspaces", "eu-west-1", "ok"),
    ]
    assert calls[0]["params"] == {"WorkspaceIds": [workspace_id]}
    assert calls[1]["params"] == {"StopWorkspaceRequests": [{"WorkspaceId": workspace_id}]}
    assert [c["seq"] for c in calls] == [1, 2, 3, 4, 5]
    assert all(isinstance(c["time"], float) and c["injected"] is False for c in calls)
    assert report["counts"] == {"DescribeWorkspaces": 3, "StopWorkspaces": 1, "GetResources": 1}
    assert report["counts_ok"] == {"DescribeWorkspaces": 2, "StopWorkspaces": 1, "GetResources": 1}
    assert emulator.counts(ok_only=True) == report["counts_ok"]
    assert len(emulator.calls(operation="DescribeWorkspaces")) == 3
    assert [c["operation"] for c in emulator.calls(service="tagging")] == ["GetResources"]
    assert [c["seq"] for c in emulator.calls(since=3)] == [4, 5]
    assert emulator.reset_calls() == 5
    assert emulator.calls() == [] and emulator.counts() == {}


def test_unimplemented_operation_fails_fast(emulator, ws):
    with pytest.raises(ClientError) as info:
        ws.rebuild_workspaces(RebuildWorkspaceRequests=[{"WorkspaceId": "ws-abcdefghi"}])
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert [c["outcome"] for c in emulator.calls()] == ["NotImplementedError"]


def test_health_and_unknown_endpoints(emulator):
    health = emulator.health()
    assert health["status"] == "ok" and health["moto_version"]
    for method, path, status in (("GET", "/_emulator/nope", 404), ("PUT", "/_emulator/seed", 405), ("POST", "/_emulator/seed", 400)):
        data = b"[1]" if method == "POST" else None
        request = urllib.request.Request(emulator.url + path, method=method, data=data, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)  # pylint: disable=consider-using-with
        assert info.value.code == status
        assert "error" in json.loads(info.value.read())


def test_shape_checker_catches_mismatches():
    model = make_client("http://127.0.0.1:1").meta.service_model
    describe = model.operation_model("DescribeWorkspaces").output_shape
    good = {"Workspaces": [{"WorkspaceId": "ws-abcdefghi", "State": "AVAILABLE", "WorkspaceProperties": {"RunningMode": "AUTO_STOP"}}]}
    assert not shape_errors(good, describe)
    bad = {"Workspaces": [{"WorkspaceId": "i-123", "State": "ASLEEP", "Extra": 1, "WorkspaceProperties": {"RunningMode": 3}}], "NextToken": 5}
    assert sorted(shape_errors(bad, describe)) == [
        "$.NextToken: expected string, got 5",
        "$.Workspaces[0].State: 'ASLEEP' not in enum " + str(model.shape_for("WorkspaceState").enum),
        "$.Workspaces[0].WorkspaceId: 'i-123' does not match ^ws-[0-9a-z]{8,63}$",
        "$.Workspaces[0].WorkspaceProperties.RunningMode: expected string, got 3",
        "$.Workspaces[0]: unknown key 'Extra'",
    ]
    status = model.operation_model("DescribeWorkspacesConnectionStatus").output_shape
    assert shape_errors({"WorkspacesConnectionStatus": [{"ConnectionStateCheckTimestamp": "yesterday"}]}, status) == [
        "$.WorkspacesConnectionStatus[0].ConnectionStateCheckTimestamp: expected number, got 'yesterday'",
    ]
