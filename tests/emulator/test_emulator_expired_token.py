# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expired credentials (issue 14): from the Nth WorkSpaces / tagging call on, ExpiredTokenException."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.client import EmulatorError
from tests.emulator.emulator_helpers import make_client, seed_desktops

NO_RETRY = {"retries": {"mode": "standard", "total_max_attempts": 1}}


def _outcome(call):
    try:
        call()
    except ClientError as exc:
        error = exc.response["Error"]
        return error["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"], error["Message"]
    return "ok"


def test_expires_from_the_nth_call_on(emulator):
    (workspace_id,) = seed_desktops(emulator, {"tags": {"a": "1"}})
    ws = make_client(emulator.url, **NO_RETRY)
    tagging = make_client(emulator.url, "resourcegroupstaggingapi", **NO_RETRY)
    ws.describe_workspaces()  # before the setting: not counted
    emulator.set_faults(expired_token_from_call=3)
    expired = ("ExpiredTokenException", 400, "The security token included in the request is expired")
    outcomes = [
        _outcome(ws.describe_workspaces),
        _outcome(lambda: tagging.get_resources(ResourceTypeFilters=["workspaces:workspace"])),
        _outcome(lambda: ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])),
        _outcome(ws.describe_workspaces),
        _outcome(lambda: make_client(emulator.url, region="eu-west-1", **NO_RETRY).describe_workspaces()),
    ]
    assert outcomes == ["ok", "ok", expired, expired, expired]
    assert emulator.workspace(workspace_id)["state"] == "AVAILABLE"  # the refused stop changed nothing
    assert [c["fault"] for c in emulator.calls()][-3:] == ["expired_token"] * 3
    # Other services (sts, ec2...) are not affected.
    assert emulator.boto3_client("ec2").describe_regions()["Regions"]


def test_expired_token_is_not_retried_by_botocore(emulator):
    emulator.set_faults(expired_token_from_call=1)
    client = make_client(emulator.url, retries={"mode": "standard", "max_attempts": 5})
    with pytest.raises(ClientError) as info:
        client.describe_workspaces()
    assert info.value.response["Error"]["Code"] == "ExpiredTokenException"
    assert len(emulator.calls()) == 1


def test_setting_again_restarts_the_count_and_reset_clears_it(emulator):
    client = make_client(emulator.url, **NO_RETRY)
    emulator.set_faults(expired_token_from_call=2)
    assert [_outcome(client.describe_workspaces) for dummy in range(2)][0] == "ok"
    emulator.set_faults(expired_token_from_call=2)
    assert _outcome(client.describe_workspaces) == "ok"
    assert _outcome(client.describe_workspaces)[0] == "ExpiredTokenException"
    emulator.set_faults(expired_token_from_call=None)
    assert _outcome(client.describe_workspaces) == "ok"
    emulator.set_faults(expired_token_from_call=1)
    emulator.reset()
    assert emulator.get_faults()["expired_token_from_call"] is None
    assert _outcome(client.describe_workspaces) == "ok"
    for bad in (0, -1, "soon", True):
        with pytest.raises(EmulatorError) as info:
            emulator.set_faults(expired_token_from_call=bad)
        assert info.value.status == 400
