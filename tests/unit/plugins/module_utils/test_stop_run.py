# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the run's deadline and of credentials expiring mid-run, on a fake client and a fake clock.

The clock is injected everywhere (retry sleeps, the wait, the deadline): nothing here sleeps or depends on timing.
"""
from __future__ import annotations

import datetime

import pytest

botocore = pytest.importorskip('botocore')

# pylint: disable=wrong-import-position
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.fleetops.workspaces.plugins.module_utils import client
from ansible_collections.fleetops.workspaces.plugins.module_utils import results
from ansible_collections.fleetops.workspaces.plugins.module_utils.stop import StopRun


class FakeClock:
    """Monotonic time that moves only when slept on, or by ``call_cost`` for each API call."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def error(code, operation, status=400):
    return botocore.exceptions.ClientError({'Error': {'Code': code, 'Message': '%s happened' % code},
                                            'ResponseMetadata': {'HTTPStatusCode': status}}, operation)


class FakeWorkSpaces:
    """AVAILABLE AUTO_STOP desktops, DISCONNECTED long ago; ``fail(operation, n)`` returns the error of the n-th call or None."""

    def __init__(self, clock, fail=None, call_cost=0.5):
        self.clock = clock
        self.fail = fail or (lambda operation, n: None)
        self.call_cost = call_cost
        self.calls = []   # (operation, time sent, ids)
        self.counts = {}

    def _call(self, operation, ids):
        self.counts[operation] = self.counts.get(operation, 0) + 1
        self.calls.append((operation, self.clock.now, list(ids)))
        self.clock.now += self.call_cost
        failure = self.fail(operation, self.counts[operation])
        if failure is not None:
            raise failure

    def describe_workspaces(self, **params):
        self._call('DescribeWorkspaces', params['WorkspaceIds'])
        return {'Workspaces': [{'WorkspaceId': w, 'State': 'AVAILABLE', 'WorkspaceProperties': {'RunningMode': 'AUTO_STOP'}}
                               for w in params['WorkspaceIds']]}

    def describe_workspaces_connection_status(self, **params):
        self._call('DescribeWorkspacesConnectionStatus', params['WorkspaceIds'])
        long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        return {'WorkspacesConnectionStatus': [{'WorkspaceId': w, 'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': long_ago}
                                               for w in params['WorkspaceIds']]}

    def stop_workspaces(self, **params):
        ids = [r['WorkspaceId'] for r in params['StopWorkspaceRequests']]
        self._call('StopWorkspaces', ids)
        return {'FailedRequests': []}

    def sent(self, operation):
        return [i for op, dummy, ids in self.calls if op == operation for i in ids]


IDS = ['ws-%09d' % i for i in range(100)]


def make_run(fake, clock, timeout, **kwargs):
    deadline = client.Deadline(timeout, clock=clock.clock)
    wrapped = RetryingBotoClientWrapper(fake, client.retry_decorator(deadline=deadline, sleep=clock.sleep))
    return StopRun(wrapped, sleep=clock.sleep, clock=clock.clock, run_deadline=deadline, **kwargs), deadline


# --- the retry decorator with a deadline --------------------------------------------------------------------------
def test_retries_never_sleep_past_the_deadline_and_say_what_failed():
    clock = FakeClock()
    deadline = client.Deadline(20, clock=clock.clock)
    attempts = []

    def always_503():
        attempts.append(clock.now)
        raise error('ServiceUnavailable', 'StopWorkspaces', 503)

    with pytest.raises(client.DeadlineExceeded) as raised:
        client.retry_decorator(deadline=deadline, sleep=clock.sleep)(always_503)()
    assert clock.now <= deadline.at and all(t < deadline.at for t in attempts)
    assert 1 < len(attempts) <= client.RETRIES
    assert client.error_details(raised.value.last_error)[0] == 'ServiceUnavailable'
    assert 'ServiceUnavailable' in str(raised.value)


def test_nothing_is_sent_once_the_deadline_passed():
    clock = FakeClock()
    deadline = client.Deadline(5, clock=clock.clock)
    clock.now = 5
    sent = []
    with pytest.raises(client.DeadlineExceeded) as raised:
        client.retry_decorator(deadline=deadline, sleep=clock.sleep)(lambda: sent.append(1))()
    assert sent == [] and raised.value.last_error is None


def test_deadline_retry_keeps_the_retry_policy():
    clock = FakeClock()
    retry = client.retry_decorator(deadline=client.Deadline(600, clock=clock.clock), sleep=clock.sleep)
    answers = [error('ThrottlingException', 'X'), error('InternalFailure', 'X', 500), 'ok']

    def flaky():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry(flaky)() == 'ok' and len(clock.sleeps) == 2

    def invalid():
        raise error('ValidationException', 'X')

    with pytest.raises(botocore.exceptions.ClientError):  # not retryable: raised at once, no sleep
        retry(invalid)()
    assert len(clock.sleeps) == 2


# --- the run's deadline --------------------------------------------------------------------------------------------
@pytest.fixture
def full_backoff(monkeypatch):
    """Backoff without jitter (each delay at its upper bound), so that where the deadline falls is known."""
    monkeypatch.setattr(cloud.random, 'uniform', lambda low, high: high)


def test_sustained_5xx_after_the_first_batch_ends_the_run_within_the_deadline(full_backoff):
    # delays 1, 2, 4, 8, 16, 30...: batch 2 is still being retried when the 120 s pass
    clock = FakeClock()
    fake = FakeWorkSpaces(clock, fail=lambda op, n: error('ServiceUnavailable', op, 503) if op == 'StopWorkspaces' and n > 1 else None)
    run, deadline = make_run(fake, clock, timeout=120)
    result = run.run(IDS)
    assert run.aborted[0] == 'deadline'
    assert result['stopped'] == IDS[:25]                                   # accepted, claimed; not waited for
    assert [f['workspace_id'] for f in result['failed_workspaces']] == IDS[25:50]
    assert {f['error_code'] for f in result['failed_workspaces']} == {'ServiceUnavailable'}
    assert result['not_attempted'] == IDS[50:]
    assert result['summary']['not_attempted'] == 50
    assert all(t < deadline.at for dummy, t, dummy_ids in fake.calls)     # nothing sent after the deadline
    assert clock.now <= deadline.at + fake.call_cost                       # the run ended within the bound
    assert set(fake.sent('StopWorkspaces')) == set(IDS[:50])               # batches 3 and 4 never sent
    last_stop = max(i for i, call in enumerate(fake.calls) if call[0] == 'StopWorkspaces')
    assert [call[0] for call in fake.calls[last_stop + 1:]] == []          # no wait (polling) after the abort
    message = results.aborted_message(result, *run.aborted, timeout=120)
    assert 'run timeout of 120 seconds passed' in message and 'AWS accepted the stop of 25' in message
    assert '50 were not attempted (not_attempted)' in message and '25 failed' in message


def test_the_deadline_bounds_the_wait_too():
    clock = FakeClock()
    fake = FakeWorkSpaces(clock)  # desktops never leave AVAILABLE: the wait would last wait_timeout=600
    run, deadline = make_run(fake, clock, timeout=60, wait_timeout=600)
    result = run.run(IDS[:3])
    assert clock.now <= deadline.at + fake.call_cost
    assert [f['error_code'] for f in result['failed_workspaces']] == ['WaitTimeout'] * 3
    assert 'did not reach STOPPED within the run timeout=60 seconds' in result['failed_workspaces'][0]['error_message']
    assert result['stopped'] == [] and result['not_attempted'] == []


def test_without_faults_the_deadline_changes_nothing():
    clock = FakeClock()
    fake = FakeWorkSpaces(clock)
    run, dummy = make_run(fake, clock, timeout=1800, wait=False)
    result = run.run(IDS)
    assert run.aborted is None and result['stopped'] == IDS and result['not_attempted'] == []
    assert fake.counts == {'DescribeWorkspaces': 4, 'DescribeWorkspacesConnectionStatus': 4, 'StopWorkspaces': 4}


# --- credentials expiring mid-run ----------------------------------------------------------------------------------
@pytest.mark.parametrize('skip_connected', [True, False])
def test_expired_credentials_stop_the_run_at_once(skip_connected):
    clock = FakeClock()
    fake = FakeWorkSpaces(clock, fail=lambda op, n: error('ExpiredTokenException', op, 403) if op == 'StopWorkspaces' and n >= 3 else None)
    run, dummy = make_run(fake, clock, timeout=1800, skip_connected=skip_connected)
    result = run.run(IDS)
    assert run.aborted[0] == 'credentials'
    assert result['stopped'] == IDS[:50]
    assert [(f['workspace_id'], f['error_code']) for f in result['failed_workspaces']] == [(w, 'ExpiredTokenException') for w in IDS[50:75]]
    assert result['not_attempted'] == IDS[75:]
    assert fake.counts['StopWorkspaces'] == 3 and fake.calls[-1][0] == 'StopWorkspaces'  # nothing after the rejected call
    assert clock.sleeps == []  # not retried
    message = results.aborted_message(result, *run.aborted)
    assert 'no longer accepts the credentials (ExpiredTokenException' in message and 'expired' in message
    assert 'fresh credentials' in message


def test_credentials_expiring_during_a_connection_check_stop_the_run():
    clock = FakeClock()
    fake = FakeWorkSpaces(clock, fail=lambda op, n: error('ExpiredToken', op, 403)
                          if op == 'DescribeWorkspacesConnectionStatus' and n >= 2 else None)
    run, dummy = make_run(fake, clock, timeout=1800, wait=False)
    result = run.run(IDS)
    assert run.aborted[0] == 'credentials'
    assert result['stopped'] == IDS[:25] and result['failed_workspaces'] == [] and result['not_attempted'] == IDS[25:]
    assert fake.counts == {'DescribeWorkspaces': 4, 'DescribeWorkspacesConnectionStatus': 2, 'StopWorkspaces': 1}


def test_a_failed_connection_check_for_another_reason_still_only_fails_its_batch():
    clock = FakeClock()
    fake = FakeWorkSpaces(clock, fail=lambda op, n: error('AccessDeniedException', op) if op == 'DescribeWorkspacesConnectionStatus' and n == 2 else None)
    run, dummy = make_run(fake, clock, timeout=1800, wait=False)
    result = run.run(IDS)
    assert run.aborted is None and result['not_attempted'] == []
    assert [f['workspace_id'] for f in result['failed_workspaces']] == IDS[25:50]
    assert result['stopped'] == IDS[:25] + IDS[50:]
