# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idle data: last-connection times in DescribeWorkspacesConnectionStatus, seeded, changed at run time, paged oddly."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from emulator.client import EmulatorError
from tests.emulator.emulator_helpers import REGION, fleet_spec, seed_desktops

MINUTE = 60.0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _entries(ws, ids=None):
    """Every connection-status entry (all pages), keyed by workspace id."""
    kwargs = {"WorkspaceIds": ids} if ids else {}
    pages = ws.get_paginator("describe_workspaces_connection_status").paginate(**kwargs)
    return {e["WorkspaceId"]: e for page in pages for e in page["WorkspacesConnectionStatus"]}


def _idle_minutes(entry, now):
    last = entry.get("LastKnownUserConnectionTimestamp")
    return None if last is None else (now - last.timestamp()) / MINUTE


def test_explicit_desktops_last_connection(emulator, ws):
    ids = seed_desktops(
        emulator,
        {"last_connected_minutes_ago": 90},
        {"last_connected_minutes_ago": None},
        {"last_connected_minutes_ago": "never"},
        {"last_known_user_connection_timestamp": "2024-05-01T08:30:00Z"},
        {"last_known_user_connection_timestamp": "2024-05-01T10:30:00+02:00", "connection_state": "UNKNOWN"},
        {"connection_state": "NONE", "last_connected_minutes_ago": 5},
    )
    seeded_at = time.time()
    entries = _entries(ws, ids)
    assert set(entries) == set(ids[:5])  # NONE: no entry, idle time or not
    assert 89.9 < _idle_minutes(entries[ids[0]], seeded_at) < 90.1
    assert "LastKnownUserConnectionTimestamp" not in entries[ids[1]]
    assert "LastKnownUserConnectionTimestamp" not in entries[ids[2]]
    assert entries[ids[3]]["LastKnownUserConnectionTimestamp"].timestamp() == 1714552200.0
    assert entries[ids[4]]["LastKnownUserConnectionTimestamp"].timestamp() == 1714552200.0
    assert entries[ids[4]]["ConnectionState"] == "UNKNOWN"
    assert all(e["ConnectionStateCheckTimestamp"] for e in entries.values())
    truth = {w["workspace_id"]: w for w in emulator.workspaces(REGION)}
    assert truth[ids[1]]["last_known_user_connection_timestamp"] is None
    assert truth[ids[3]]["last_known_user_connection_timestamp"] == 1714552200.0


@pytest.mark.parametrize("desktop,fragment", [
    ({"last_connected_minutes_ago": -1}, "last_connected_minutes_ago"),
    ({"last_connected_minutes_ago": "soon"}, "last_connected_minutes_ago"),
    ({"last_known_user_connection_timestamp": "yesterday"}, "ISO 8601"),
    ({"last_connected_minutes_ago": 5, "last_known_user_connection_timestamp": 1}, "not both"),
    ({"connection_state": "CONNECTED", "last_connected_minutes_ago": 5}, "CONNECTED"),
])
def test_explicit_idle_errors(emulator, desktop, fragment):
    with pytest.raises(EmulatorError) as info:
        seed_desktops(emulator, desktop)
    assert info.value.status == 400 and fragment in info.value.message
    assert emulator.workspaces() == []


def test_connected_desktop_reports_a_recent_last_connection(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"connection_state": "CONNECTED"})
    before = time.time()
    (entry,) = _entries(ws, [workspace_id]).values()
    assert entry["ConnectionState"] == "CONNECTED"
    # The user is connected now: the last known connection is the time of the read (never earlier than just before it).
    assert entry["LastKnownUserConnectionTimestamp"].timestamp() >= before - 1


def test_directory_group_list_of_minutes_is_deterministic(emulator, ws):
    minutes = [10, 90, "never", 600]
    emulator.seed(fleet_spec(8, last_connected_minutes_ago=minutes))
    seeded_at = time.time()
    order = [w["workspace_id"] for w in emulator.workspaces(REGION)]
    entries = _entries(ws)
    idle = [_idle_minutes(entries[i], seeded_at) for i in order]
    expected = [10, 90, None, 600] * 2
    assert [None if x is None else round(x) for x in idle] == expected


def test_directory_group_distribution_and_range(emulator, ws):
    spec = fleet_spec(100, last_connected_minutes_ago={"30": 0.5, "240": 0.3, "never": 0.2})
    emulator.seed(spec)
    seeded_at = time.time()
    idle = [_idle_minutes(e, seeded_at) for e in _entries(ws).values()]
    assert Counter(None if x is None else round(x) for x in idle) == {30: 50, 240: 30, None: 20}
    first = [w["last_known_user_connection_timestamp"] for w in emulator.workspaces(REGION)]

    emulator.reset()
    emulator.seed(spec)
    second = [w["last_known_user_connection_timestamp"] for w in emulator.workspaces(REGION)]
    # Same spec, same order of never-connected desktops (times differ only by when each seed ran).
    assert [x is None for x in first] == [x is None for x in second]

    emulator.reset()
    emulator.seed(fleet_spec(50, last_connected_minutes_ago={"min": 60, "max": 120}))
    seeded_at = time.time()
    idle = [_idle_minutes(e, seeded_at) for e in _entries(ws).values()]
    assert len(idle) == 50 and all(59.9 < x < 120.1 for x in idle)


def test_directory_group_connected_desktops_stay_recent(emulator, ws):
    emulator.seed(fleet_spec(20, connection_states={"CONNECTED": 0.5, "DISCONNECTED": 0.5}, last_connected_minutes_ago=600))
    before = time.time()
    for entry in _entries(ws).values():
        last = entry["LastKnownUserConnectionTimestamp"].timestamp()
        if entry["ConnectionState"] == "CONNECTED":
            assert last >= before - 1
        else:
            assert abs((before - last) / MINUTE - 600) < 1


@pytest.mark.parametrize("value", [[], {"min": 10, "max": 5}, {"-3": 1}, "soon"])
def test_directory_group_idle_errors(emulator, value):
    with pytest.raises(EmulatorError) as info:
        emulator.seed(fleet_spec(4, last_connected_minutes_ago=value))
    assert info.value.status == 400 and "last_connected_minutes_ago" in info.value.message


def test_desktop_without_status_entry_is_absent(emulator, ws):
    with_entry, without = seed_desktops(emulator, {"last_connected_minutes_ago": 30}, {"connection_state": None})
    assert set(_entries(ws, [with_entry, without])) == {with_entry}
    assert emulator.workspace(without, REGION)["connection_state"] is None


def test_empty_first_page_still_carries_a_next_token(emulator, ws):
    ids = seed_desktops(emulator, {"last_connected_minutes_ago": 30}, {"connection_state": "UNKNOWN"})
    emulator.set_faults(connection_status_empty_first_page=True)
    for request in ({"WorkspaceIds": ids[:1]}, {"WorkspaceIds": ids}, {}):
        first = ws.describe_workspaces_connection_status(**request)
        assert first["WorkspacesConnectionStatus"] == [] and first["NextToken"]
        second = ws.describe_workspaces_connection_status(NextToken=first["NextToken"], **request)
        assert [e["WorkspaceId"] for e in second["WorkspacesConnectionStatus"]] == (request.get("WorkspaceIds") or ids)
        assert "NextToken" not in second
    # The paginator follows the token; the entries are all there.
    assert set(_entries(ws, ids)) == set(ids)
    assert emulator.get_faults()["connection_status_empty_first_page"] is True
    emulator.reset()
    assert emulator.get_faults()["connection_status_empty_first_page"] is False


def test_empty_first_page_with_no_entries(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"connection_state": None})
    emulator.set_faults(connection_status_empty_first_page=True)
    first = ws.describe_workspaces_connection_status(WorkspaceIds=[workspace_id])
    assert first["WorkspacesConnectionStatus"] == [] and first["NextToken"]
    second = ws.describe_workspaces_connection_status(WorkspaceIds=[workspace_id], NextToken=first["NextToken"])
    assert second["WorkspacesConnectionStatus"] == [] and "NextToken" not in second


def test_user_connects_between_selection_and_stop(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {"last_connected_minutes_ago": 600})
    before = time.time()
    (entry,) = _entries(ws, [workspace_id]).values()
    assert entry["ConnectionState"] == "DISCONNECTED" and _idle_minutes(entry, before) > 599

    dump = emulator.set_connection(workspace_id, REGION, "CONNECTED")
    assert dump["connection_state"] == "CONNECTED"
    (entry,) = _entries(ws, [workspace_id]).values()
    assert entry["ConnectionState"] == "CONNECTED" and entry["LastKnownUserConnectionTimestamp"].timestamp() >= before - 1

    # The user leaves: the last connection is when the session ended (now), or whatever the test sets.
    emulator.set_connection(workspace_id, REGION, "DISCONNECTED")
    (entry,) = _entries(ws, [workspace_id]).values()
    assert entry["ConnectionState"] == "DISCONNECTED" and entry["LastKnownUserConnectionTimestamp"].timestamp() >= before - 1
    emulator.set_connection(workspace_id, REGION, "DISCONNECTED", last_connected_minutes_ago=45)
    (entry,) = _entries(ws, [workspace_id]).values()
    assert 44.9 < _idle_minutes(entry, time.time()) < 45.1
    emulator.set_workspace(workspace_id, REGION, last_known_user_connection_timestamp="never")
    assert "LastKnownUserConnectionTimestamp" not in _entries(ws, [workspace_id])[workspace_id]
    assert emulator.workspace(workspace_id, REGION)["last_known_user_connection_timestamp"] is None

    with pytest.raises(EmulatorError) as info:  # a connected user's last connection is now, not settable
        emulator.set_connection(workspace_id, REGION, "CONNECTED", last_connected_minutes_ago=5)
    assert info.value.status == 400
    assert emulator.workspace(workspace_id, REGION)["connection_state"] == "DISCONNECTED"  # nothing changed


def test_cli_set_workspace(emulator, ws):
    (workspace_id,) = seed_desktops(emulator, {})
    out = subprocess.run(
        [sys.executable, "-m", "emulator", "set-workspace", workspace_id, "--url", emulator.url, "--region", REGION,
         "--connection-state", "UNKNOWN", "--last-connected-minutes-ago", "120"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    assert '"connection_state": "UNKNOWN"' in out
    (entry,) = _entries(ws, [workspace_id]).values()
    assert entry["ConnectionState"] == "UNKNOWN" and 119.9 < _idle_minutes(entry, time.time()) < 120.1
