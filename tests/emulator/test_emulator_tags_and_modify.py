# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreateTags / DescribeTags / DeleteTags, ModifyWorkspaceProperties, ModifyWorkspaceState."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.emulator.emulator_helpers import REGION, seed_desktops


def _code(info):
    return info.value.response["Error"]["Code"]


def test_tags_roundtrip(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"tags": {"Team": "a"}})
    assert ws.describe_tags(ResourceId=workspace_id)["TagList"] == [{"Key": "Team", "Value": "a"}]
    ws.create_tags(ResourceId=workspace_id, Tags=[{"Key": "Team", "Value": "b"}, {"Key": "Schedule", "Value": "office-hours"}])
    assert ws.describe_tags(ResourceId=workspace_id)["TagList"] == [{"Key": "Team", "Value": "b"}, {"Key": "Schedule", "Value": "office-hours"}]
    ws.delete_tags(ResourceId=workspace_id, TagKeys=["Team", "Absent"])
    assert ws.describe_tags(ResourceId=workspace_id)["TagList"] == [{"Key": "Schedule", "Value": "office-hours"}]
    assert emulator.workspace(workspace_id, REGION)["tags"] == {"Schedule": "office-hours"}


def test_directory_tags(emulator, ws):
    seed_desktops(emulator, {})
    ws.create_tags(ResourceId="d-1111111111", Tags=[{"Key": "Owner", "Value": "it"}])
    assert ws.describe_tags(ResourceId="d-1111111111")["TagList"] == [{"Key": "Owner", "Value": "it"}]


@pytest.mark.parametrize("call", [
    lambda ws: ws.describe_tags(ResourceId="ws-notthere1"),
    lambda ws: ws.create_tags(ResourceId="ws-notthere1", Tags=[{"Key": "a", "Value": "b"}]),
    lambda ws: ws.delete_tags(ResourceId="ws-notthere1", TagKeys=["a"]),
])
def test_tags_of_unknown_resource(ws, call):
    with pytest.raises(ClientError) as info:
        call(ws)
    assert _code(info) == "ResourceNotFoundException"


def test_too_many_tags(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {})
    with pytest.raises(ClientError) as info:
        ws.create_tags(ResourceId=workspace_id, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert _code(info) == "ResourceLimitExceededException"


def test_modify_running_mode(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"running_mode": "AUTO_STOP"})
    ws.modify_workspace_properties(WorkspaceId=workspace_id, WorkspaceProperties={"RunningMode": "ALWAYS_ON"})
    props = ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["WorkspaceProperties"]
    assert props["RunningMode"] == "ALWAYS_ON" and "RunningModeAutoStopTimeoutInMinutes" not in props
    (failed,) = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])["FailedRequests"]
    assert "running mode ALWAYS_ON" in failed["ErrorMessage"]
    ws.modify_workspace_properties(WorkspaceId=workspace_id, WorkspaceProperties={"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 120})
    props = ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["WorkspaceProperties"]
    assert props["RunningMode"] == "AUTO_STOP" and props["RunningModeAutoStopTimeoutInMinutes"] == 120
    assert emulator.workspace(workspace_id, REGION)["running_mode"] == "AUTO_STOP"


def test_modify_properties_errors(emulator, ws):
    available, stopping = seed_desktops(emulator, {"running_mode": "AUTO_STOP"}, {"state": "STOPPING"})
    cases = [
        ({"WorkspaceId": "ws-notthere1", "WorkspaceProperties": {"RunningMode": "MANUAL"}}, "ResourceNotFoundException"),
        ({"WorkspaceId": stopping, "WorkspaceProperties": {"RunningMode": "MANUAL"}}, "InvalidResourceStateException"),
        ({"WorkspaceId": available, "WorkspaceProperties": {"RunningMode": "SOMETIMES"}}, "ValidationException"),
        ({"WorkspaceId": available, "WorkspaceProperties": {"RunningMode": "ALWAYS_ON", "RunningModeAutoStopTimeoutInMinutes": 60}},
         "InvalidParameterValuesException"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as info:
            ws.modify_workspace_properties(**params)
        assert _code(info) == code, params


def test_modify_workspace_state_admin_maintenance(emulator, ws):
    available, stopped = seed_desktops(emulator, {}, {"state": "STOPPED"})
    ws.modify_workspace_state(WorkspaceId=available, WorkspaceState="ADMIN_MAINTENANCE")
    assert ws.describe_workspaces(WorkspaceIds=[available])["Workspaces"][0]["State"] == "ADMIN_MAINTENANCE"
    (failed,) = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": available}])["FailedRequests"]
    assert failed["ErrorMessage"] == f"The WorkSpace {available} is in state ADMIN_MAINTENANCE and cannot be stopped."
    ws.modify_workspace_state(WorkspaceId=available, WorkspaceState="AVAILABLE")
    assert emulator.workspace(available, REGION)["state"] == "AVAILABLE"
    with pytest.raises(ClientError) as info:
        ws.modify_workspace_state(WorkspaceId=stopped, WorkspaceState="ADMIN_MAINTENANCE")
    assert _code(info) == "InvalidResourceStateException"
    with pytest.raises(ClientError) as info:
        ws.modify_workspace_state(WorkspaceId="ws-notthere1", WorkspaceState="AVAILABLE")
    assert _code(info) == "ResourceNotFoundException"
