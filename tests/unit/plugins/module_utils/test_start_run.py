# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the start run (the one run sequence with the start row) on a fake client and a fake clock: the calls
stay at the minimum, used_within_days is decided in the batch's connection check, the deadline and expired credentials
end it as they end a stop run. Nothing here sleeps or depends on timing."""
from __future__ import annotations

import datetime

import pytest

botocore = pytest.importorskip('botocore')

# pylint: disable=wrong-import-position
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.fleetops.workspaces.plugins.module_utils import client
from ansible_collections.fleetops.workspaces.plugins.module_utils import results
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import START_ACTION
from ansible_collections.fleetops.workspaces.plugins.module_utils.stop import StartRun

from ansible_collections.fleetops.workspaces.tests.unit.plugins.module_utils.test_stop_run import IDS
from ansible_collections.fleetops.workspaces.tests.unit.plugins.module_utils.test_stop_run import FakeClock
from ansible_collections.fleetops.workspaces.tests.unit.plugins.module_utils.test_stop_run import FakeWorkSpaces
from ansible_collections.fleetops.workspaces.tests.unit.plugins.module_utils.test_stop_run import error

NOW = datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.timezone.utc)


class FakeStoppedWorkSpaces(FakeWorkSpaces):
    """STOPPED AUTO_STOP desktops that become AVAILABLE once started; the even ones last connected a day ago, the odd
    ones 90 days ago."""

    def __init__(self, clock, fail=None, call_cost=0.5):
        super().__init__(clock, fail, call_cost)
        self.started = set()

    def describe_workspaces(self, **params):
        self._call('DescribeWorkspaces', params['WorkspaceIds'])
        return {'Workspaces': [{'WorkspaceId': w, 'State': 'AVAILABLE' if w in self.started else 'STOPPED',
                                'WorkspaceProperties': {'RunningMode': 'AUTO_STOP'}} for w in params['WorkspaceIds']]}

    def describe_workspaces_connection_status(self, **params):
        self._call('DescribeWorkspacesConnectionStatus', params['WorkspaceIds'])
        return {'WorkspacesConnectionStatus': [
            {'WorkspaceId': w, 'ConnectionState': 'DISCONNECTED',
             'LastKnownUserConnectionTimestamp': NOW - datetime.timedelta(days=1 if int(w[3:]) % 2 == 0 else 90)}
            for w in params['WorkspaceIds']]}

    def start_workspaces(self, **params):
        ids = [r['WorkspaceId'] for r in params['StartWorkspaceRequests']]
        self._call('StartWorkspaces', ids)
        self.started.update(ids)
        return {'FailedRequests': []}


def make_run(fake, clock, timeout=1800, **kwargs):
    deadline = client.Deadline(timeout, clock=clock.clock)
    wrapped = RetryingBotoClientWrapper(fake, client.retry_decorator(deadline=deadline, sleep=clock.sleep))
    return StartRun(wrapped, sleep=clock.sleep, clock=clock.clock, run_deadline=deadline, now=lambda: NOW, **kwargs)


def test_start_run_makes_the_minimum_of_calls_and_waits_until_available():
    clock = FakeClock()
    fake = FakeStoppedWorkSpaces(clock)
    result = make_run(fake, clock).run(IDS)
    assert result['started'] == IDS and result['already_running'] == [] and result['failed_workspaces'] == []
    # ⌈100/25⌉ reads, ⌈100/25⌉ starts, no connection check without used_within_days, then one poll round of 4
    assert fake.counts == {'DescribeWorkspaces': 8, 'StartWorkspaces': 4}
    assert 'stopped' not in result and result['summary']['started'] == 100


def test_used_within_days_is_decided_in_the_connection_check_of_each_batch():
    clock = FakeClock()
    fake = FakeStoppedWorkSpaces(clock)
    result = make_run(fake, clock, used_within_days=30, wait=False).run(IDS)
    assert result['started'] == IDS[0::2] and fake.sent('StartWorkspaces') == IDS[0::2]
    assert [s['workspace_id'] for s in result['skipped_workspaces']] == IDS[1::2]
    assert result['skipped_workspaces'][0]['reason'].startswith('not used within used_within_days=30: idle 90 days')
    # 100 candidates: 4 checks; 50 to start: 2 StartWorkspaces calls of 25
    assert fake.counts == {'DescribeWorkspaces': 4, 'DescribeWorkspacesConnectionStatus': 4, 'StartWorkspaces': 2}


def test_check_mode_makes_only_reads():
    clock = FakeClock()
    fake = FakeStoppedWorkSpaces(clock)
    result = make_run(fake, clock, check_mode=True, diff=True, used_within_days=7).run(IDS[:30])
    assert result['started'] == IDS[:30:2] and result['changed'] is True
    assert fake.counts == {'DescribeWorkspaces': 2, 'DescribeWorkspacesConnectionStatus': 2}
    assert result['diff']['after'][IDS[0]]['state'] == START_ACTION.done_state


def test_expired_credentials_end_the_start_run_at_once():
    clock = FakeClock()
    fake = FakeStoppedWorkSpaces(clock, fail=lambda op, n: error('ExpiredTokenException', op, 403) if op == 'StartWorkspaces' and n >= 2 else None)
    run = make_run(fake, clock)
    result = run.run(IDS)
    assert run.aborted[0] == 'credentials'
    assert result['started'] == IDS[:25] and result['not_attempted'] == IDS[50:]
    assert [f['workspace_id'] for f in result['failed_workspaces']] == IDS[25:50]
    message = results.aborted_message(result, *run.aborted, action=START_ACTION)
    assert 'AWS accepted the start of 25 WorkSpaces (started: ' in message and 'to start the rest' in message
