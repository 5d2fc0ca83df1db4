# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DescribeWorkspaces: validation, filters, pagination; DescribeWorkspacesConnectionStatus."""
from __future__ import annotations

import math

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.emulator.emulator_helpers import REGION, fleet_spec, make_client, seed_desktops


def _error(info):
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_ten_thousand_desktops_seed_and_page_in_ceil_n_over_25_calls(emulator, ws):
    # How fast seeding is belongs to the benchmarks (make bench), not to a pass/fail test on a shared machine.
    result = emulator.seed(fleet_spec(10000, states={"AVAILABLE": 0.9, "STOPPED": 0.1}))
    assert result["count"] == 10000
    emulator.reset_calls()

    seen = [w["WorkspaceId"] for page in ws.get_paginator("describe_workspaces").paginate() for w in page["Workspaces"]]

    assert len(seen) == len(set(seen)) == 10000
    assert seen == [w["workspace_id"] for w in emulator.workspaces(REGION)]  # stable (insertion) order
    counts = emulator.counts()
    assert counts == {"DescribeWorkspaces": math.ceil(10000 / 25)}
    limits = {c["params"].get("Limit") for c in emulator.calls(operation="DescribeWorkspaces")}
    assert limits == {None}


def test_limit_and_next_token(emulator, ws):
    emulator.seed(fleet_spec(30))
    first = ws.describe_workspaces(Limit=10)
    assert len(first["Workspaces"]) == 10 and first["NextToken"]
    second = ws.describe_workspaces(Limit=25, NextToken=first["NextToken"])  # Limit may change between pages
    assert len(second["Workspaces"]) == 20 and "NextToken" not in second
    ids = [w["WorkspaceId"] for w in first["Workspaces"] + second["Workspaces"]]
    assert ids == [w["workspace_id"] for w in emulator.workspaces(REGION)]
    assert len(ws.describe_workspaces()["Workspaces"]) == 25


@pytest.mark.parametrize("limit", [26, 1000])
def test_limit_above_25_is_a_validation_error(ws, limit):
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces(Limit=limit)
    assert _error(info) == ("ValidationException", 400)


def test_limit_below_1_is_rejected_by_botocore(ws):
    with pytest.raises(ParamValidationError):
        ws.describe_workspaces(Limit=0)


def test_invalid_next_token(emulator, ws):
    emulator.seed(fleet_spec(30))
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces(NextToken="not-a-token")
    assert _error(info) == ("InvalidParameterValuesException", 400)
    token = ws.describe_workspaces(Limit=5)["NextToken"]
    with pytest.raises(ClientError) as info:  # a token only continues the query it came from
        ws.describe_workspaces(DirectoryId="d-2222222222", NextToken=token)
    assert _error(info) == ("InvalidParameterValuesException", 400)


@pytest.mark.parametrize("params", [
    {"WorkspaceIds": ["ws-abcdefghi"], "DirectoryId": "d-2222222222"},
    {"DirectoryId": "d-2222222222", "BundleId": "wsb-abcdefghi"},
    {"WorkspaceIds": ["ws-abcdefghi"], "BundleId": "wsb-abcdefghi"},
])
def test_only_one_of_ids_directory_bundle(ws, params):
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces(**params)
    assert _error(info) == ("InvalidParameterValuesException", 400)


def test_user_name_requires_directory_id(emulator, ws):
    seed_desktops(emulator, {"user_name": "bob"}, {"user_name": "eve"})
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces(UserName="bob")
    assert _error(info) == ("InvalidParameterValuesException", 400)
    (bob,) = ws.describe_workspaces(DirectoryId="d-1111111111", UserName="bob")["Workspaces"]
    assert bob["UserName"] == "bob"


def test_workspace_ids(emulator, ws):
    a, b = seed_desktops(emulator, {}, {})
    found = ws.describe_workspaces(WorkspaceIds=[b, "ws-notthere1", a])["Workspaces"]
    assert [w["WorkspaceId"] for w in found] == [b, a]  # unknown ids are simply absent
    assert ws.describe_workspaces(WorkspaceIds=["ws-notthere1"])["Workspaces"] == []
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces(WorkspaceIds=[f"ws-{i:09d}" for i in range(26)])
    assert _error(info) == ("ValidationException", 400)
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces(WorkspaceIds=["bogus"])
    assert _error(info) == ("ValidationException", 400)


def test_directory_bundle_and_name_filters(emulator, ws):
    spec = fleet_spec(5, bundle_id="wsb-bundle0001")
    spec["regions"][REGION]["directories"].append({"directory_id": "d-4444444444", "count": 3, "bundle_id": "wsb-bundle0002"})
    spec["regions"][REGION]["workspaces"] = [{"directory_id": "d-4444444444", "workspace_name": "build-box", "bundle_id": "wsb-bundle0002"}]
    emulator.seed(spec)
    assert len(ws.describe_workspaces(DirectoryId="d-2222222222")["Workspaces"]) == 5
    assert len(ws.describe_workspaces(DirectoryId="d-4444444444")["Workspaces"]) == 4
    assert len(ws.describe_workspaces(BundleId="wsb-bundle0002")["Workspaces"]) == 4
    (named,) = ws.describe_workspaces(WorkspaceName="build-box")["Workspaces"]
    assert named["WorkspaceName"] == "build-box"
    assert ws.describe_workspaces(DirectoryId="d-5555555555")["Workspaces"] == []


def test_output_fields_of_seeded_desktops(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"running_mode": "AUTO_STOP", "user_name": "bob", "computer_name": "WSAMZN-BOB00001"})
    (desk,) = ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
    truth = emulator.workspace(workspace_id, REGION)
    assert desk["WorkspaceId"] == workspace_id
    assert desk["DirectoryId"] == "d-1111111111"
    assert desk["UserName"] == "bob"
    assert desk["ComputerName"] == "WSAMZN-BOB00001"
    assert desk["IpAddress"] == truth["ip_address"] and desk["IpAddress"].count(".") == 3
    assert desk["SubnetId"].startswith("subnet-")
    assert desk["BundleId"].startswith("wsb-")
    assert desk["State"] == "AVAILABLE"
    assert desk["WorkspaceProperties"]["RunningMode"] == "AUTO_STOP"
    assert desk["WorkspaceProperties"]["RunningModeAutoStopTimeoutInMinutes"] == 60


def test_directories_are_registered(emulator, ws):
    seed_desktops(emulator, {})
    (directory,) = ws.describe_workspace_directories()["Directories"]
    assert directory["DirectoryId"] == "d-1111111111"
    assert directory["State"] == "REGISTERED"
    ds = make_client(emulator.url, "ds")
    assert [d["DirectoryId"] for d in ds.describe_directories()["DirectoryDescriptions"]] == ["d-1111111111"]


def test_state_is_per_region_and_any_region_works(emulator, ws):
    seed_desktops(emulator, {}, region="us-west-1")  # WorkSpaces is not offered there; the emulator does not care
    west = make_client(emulator.url, region="us-west-1")
    assert len(west.describe_workspaces()["Workspaces"]) == 1
    assert ws.describe_workspaces()["Workspaces"] == []
    assert [w["region"] for w in emulator.workspaces()] == ["us-west-1"]


def test_connection_status_entries_and_pagination(emulator, ws):
    emulator.seed(fleet_spec(60, connection_states={"CONNECTED": 0.25, "DISCONNECTED": 0.25, "UNKNOWN": 0.25, "NONE": 0.25}))
    truth = {w["workspace_id"]: w["connection_state"] for w in emulator.workspaces(REGION)}
    pages = list(ws.get_paginator("describe_workspaces_connection_status").paginate())
    entries = [e for page in pages for e in page["WorkspacesConnectionStatus"]]
    assert len(entries) == 45 and len(pages) == 2
    assert {e["WorkspaceId"]: e["ConnectionState"] for e in entries} == {k: v for k, v in truth.items() if v is not None}
    for entry in entries:
        assert entry["ConnectionStateCheckTimestamp"]
        assert ("LastKnownUserConnectionTimestamp" in entry) == (entry["ConnectionState"] != "UNKNOWN")
    missing = [k for k, v in truth.items() if v is None][:3]
    assert ws.describe_workspaces_connection_status(WorkspaceIds=missing + ["ws-notthere1"])["WorkspacesConnectionStatus"] == []


def test_connection_status_validation(ws):
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces_connection_status(WorkspaceIds=[f"ws-{i:09d}" for i in range(26)])
    assert _error(info) == ("ValidationException", 400)
    with pytest.raises(ClientError) as info:
        ws.describe_workspaces_connection_status(NextToken="garbage")
    assert _error(info) == ("InvalidParameterValuesException", 400)


def test_set_workspace_connection_state(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"connection_state": "DISCONNECTED"})
    emulator.set_workspace(workspace_id, REGION, connection_state="CONNECTED")
    (entry,) = ws.describe_workspaces_connection_status(WorkspaceIds=[workspace_id])["WorkspacesConnectionStatus"]
    assert entry["ConnectionState"] == "CONNECTED"
    emulator.set_workspace(workspace_id, REGION, connection_state=None)
    assert ws.describe_workspaces_connection_status(WorkspaceIds=[workspace_id])["WorkspacesConnectionStatus"] == []
