# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access denied per region (issue 17): AccessDeniedException for WorkSpaces and tagging calls, UnauthorizedOperation
for ec2 DescribeRegions."""
from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.client import EmulatorError
from tests.emulator.emulator_helpers import REGION, make_client, seed_desktops

NO_RETRY = {"retries": {"mode": "standard", "total_max_attempts": 1}}


def _error(info):
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"], info.value.response["Error"]["Message"]


def test_denied_region_refuses_every_workspaces_and_tagging_call(emulator):
    (east,) = seed_desktops(emulator, {}, region=REGION)
    (west,) = seed_desktops(emulator, {"tags": {"a": "1"}}, region="eu-west-1")
    emulator.set_faults(access_denied=["eu-west-1"])
    west_ws = make_client(emulator.url, region="eu-west-1", **NO_RETRY)
    west_tagging = make_client(emulator.url, "resourcegroupstaggingapi", region="eu-west-1", **NO_RETRY)
    with pytest.raises(ClientError) as info:
        west_ws.describe_workspaces()
    code, status, message = _error(info)
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (
        "User: arn:aws:iam::123456789012:user/emulator is not authorized to perform: workspaces:DescribeWorkspaces on resource: "
        "arn:aws:workspaces:eu-west-1:123456789012:workspace/* because no identity-based policy allows the workspaces:DescribeWorkspaces action"
    )
    with pytest.raises(ClientError) as info:
        west_ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": west}])
    assert _error(info)[0] == "AccessDeniedException"
    assert emulator.workspace(west, "eu-west-1")["state"] == "AVAILABLE"  # refused: nothing changed
    with pytest.raises(ClientError) as info:
        west_tagging.get_resources(ResourceTypeFilters=["workspaces:workspace"])
    code, status, message = _error(info)
    assert (code, status) == ("AccessDeniedException", 400) and "tag:GetResources on resource: *" in message
    # Other regions are served.
    east_ws = make_client(emulator.url, **NO_RETRY)
    assert [w["WorkspaceId"] for w in east_ws.describe_workspaces()["Workspaces"]] == [east]
    calls = emulator.calls()
    assert [(c["region"], c["outcome"], c["fault"]) for c in calls] == [
        ("eu-west-1", "AccessDeniedException", "access_denied"),
        ("eu-west-1", "AccessDeniedException", "access_denied"),
        ("eu-west-1", "AccessDeniedException", "access_denied"),
        (REGION, "ok", None),
    ]
    assert all(c["injected"] for c in calls[:3])


def test_denied_operations_only(emulator):
    (workspace_id,) = seed_desktops(emulator, {})
    emulator.set_faults(access_denied={REGION: ["StopWorkspaces"]})
    client = make_client(emulator.url, **NO_RETRY)
    assert client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
    with pytest.raises(ClientError) as info:
        client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    code, dummy, message = _error(info)
    assert code == "AccessDeniedException" and "workspaces:StopWorkspaces" in message
    # AccessDeniedException is not retried by botocore (standard mode).
    retrying = make_client(emulator.url, retries={"mode": "standard", "max_attempts": 5})
    with pytest.raises(ClientError):
        retrying.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert len(emulator.calls(operation="StopWorkspaces")) == 2


def test_access_denied_settings_and_reset(emulator):
    assert emulator.set_faults(access_denied=["eu-west-1"])["access_denied"] == {"eu-west-1": ["*"]}
    assert emulator.set_faults(access_denied={"us-west-2": "StopWorkspaces", "eu-west-1": None})["access_denied"] == {
        "us-west-2": ["StopWorkspaces"], "eu-west-1": ["*"],
    }
    for bad in ({"eu-west-1": []}, 5, {"eu-west-1": [3]}):
        with pytest.raises(EmulatorError) as info:
            emulator.set_faults(access_denied=bad)
        assert info.value.status == 400
    emulator.reset()
    assert emulator.get_faults()["access_denied"] == {}
    assert make_client(emulator.url, region="eu-west-1").describe_workspaces()["Workspaces"] == []


def test_ec2_describe_regions_unauthorized(emulator):
    ec2 = emulator.boto3_client("ec2", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    assert ec2.describe_regions()["Regions"]
    emulator.set_faults(describe_regions_denied=True)
    with pytest.raises(ClientError) as info:
        ec2.describe_regions()
    code, status, message = _error(info)
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert message.startswith("You are not authorized to perform this operation.") and "ec2:DescribeRegions" in message
    assert ec2.describe_availability_zones()["AvailabilityZones"]  # other ec2 calls are served
    emulator.reset()
    assert emulator.get_faults()["describe_regions_denied"] is False
    assert ec2.describe_regions()["Regions"]
