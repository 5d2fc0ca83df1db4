# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of polling (fake clock), result shapes and the client layer's pure helpers."""
from __future__ import annotations

import threading

import pytest

from ansible_collections.fleetops.workspaces.plugins.module_utils import client
from ansible_collections.fleetops.workspaces.plugins.module_utils import query
from ansible_collections.fleetops.workspaces.plugins.module_utils import results
from ansible_collections.fleetops.workspaces.plugins.module_utils import search
from ansible_collections.fleetops.workspaces.plugins.module_utils.wait import poll


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize('n, batches', [(0, []), (1, [1]), (25, [25]), (26, [25, 1]), (51, [25, 25, 1])])
def test_chunks_boundaries(n, batches):
    assert [len(c) for c in client.chunks(range(n))] == batches
    assert [x for c in client.chunks(range(n)) for x in c] == list(range(n))


def test_lazy_client_is_created_on_first_use_and_only_once():
    made = []

    def factory():
        made.append(object())
        return type('FakeClient', (), {'get_resources': lambda self, **kw: kw})()

    lazy = client.LazyClient(factory)
    assert made == []  # nothing created until a call needs it
    assert lazy.get_resources(ResourcesPerPage=100) == {'ResourcesPerPage': 100}
    assert lazy.get_resources() == {}
    assert len(made) == 1


def test_a_query_that_needs_no_tags_creates_no_tagging_client():
    """find_workspaces over a region without desktops, tags wanted: no GetResources, so no tagging client."""
    class EmptyRegion:
        def describe_workspaces(self, aws_retry=False, **params):
            return {'Workspaces': []}

    filters, errors = query.normalize_filters({'include_tags': True})
    assert errors == [] and query.needs_tags(filters)
    made = []
    tagging = client.LazyClient(lambda: made.append('tagging'))
    assert search.find_workspaces(EmptyRegion(), tagging, 'us-east-1', filters) == []
    assert made == []


def test_workspace_id_from_arn():
    assert client.workspace_id_from_arn('arn:aws:workspaces:us-east-1:123456789012:workspace/ws-abcdefgh1') == 'ws-abcdefgh1'
    assert client.workspace_id_from_arn('arn:aws:workspaces:us-east-1:123456789012:directory/d-1234567890') is None
    assert client.workspace_id_from_arn('nonsense') is None


def test_poll_fetches_only_pending_ids_and_backs_off():
    fake = FakeClock()
    states = {'a': ['STOPPING', 'STOPPED'], 'b': ['STOPPING', 'STOPPING', 'STOPPED'], 'c': ['ERROR']}
    asked = []

    def fetch(ids):
        asked.append(list(ids))
        return {i: {'state': states[i].pop(0)} for i in ids}

    def progress(i, d):
        return {'STOPPED': 'done', 'STOPPING': 'pending'}.get(d['state'], 'failed')

    done, failed, pending, rounds = poll(fetch, ['a', 'b', 'c'], progress, deadline=100, sleep=fake.sleep, clock=fake.clock, delay=1, backoff=2, max_delay=3)
    assert asked == [['a', 'b', 'c'], ['a', 'b'], ['b']]
    assert set(done) == {'a', 'b'} and set(failed) == {'c'} and pending == {} and rounds == 3
    assert fake.sleeps == [1, 2, 3]


def test_poll_stops_at_deadline_without_oversleeping():
    fake = FakeClock()
    done, failed, pending, rounds = poll(lambda ids: {i: {'state': 'STOPPING'} for i in ids}, ['a'], lambda i, d: 'pending',
                                         deadline=10, sleep=fake.sleep, clock=fake.clock, delay=4, backoff=1, max_delay=4)
    assert pending == {'a': {'state': 'STOPPING'}} and not done and not failed
    assert sum(fake.sleeps) == 10 and fake.sleeps[-1] == 2 and rounds == 3


def test_poll_gives_up_when_fetch_fails_and_keeps_earlier_outcomes():
    fake = FakeClock()
    answers = [{'a': {'state': 'STOPPED'}, 'b': {'state': 'STOPPING'}}, None]
    done, failed, pending, rounds = poll(lambda ids: answers.pop(0), ['a', 'b'], lambda i, d: 'done' if d['state'] == 'STOPPED' else 'pending',
                                         deadline=100, sleep=fake.sleep, clock=fake.clock)
    assert list(done) == ['a'] and list(pending) == ['b'] and rounds == 2


def test_poll_with_nothing_to_do_makes_no_call():
    def fetch(ids):
        raise AssertionError('no call expected')
    assert poll(fetch, [], lambda i, d: 'done', deadline=10) == ({}, {}, {}, 0)


def _desktop(workspace_id, state, mode='AUTO_STOP'):
    return {'workspace_id': workspace_id, 'state': state, 'workspace_properties': {'running_mode': mode}}


def test_build_result_shapes_counts_and_reserved_keys():
    before = {'ws-aaaaaaaa1': _desktop('ws-aaaaaaaa1', 'AVAILABLE'), 'ws-bbbbbbbb1': _desktop('ws-bbbbbbbb1', 'STOPPED')}
    now = {'ws-aaaaaaaa1': _desktop('ws-aaaaaaaa1', 'STOPPED'), 'ws-bbbbbbbb1': _desktop('ws-bbbbbbbb1', 'STOPPED')}
    result = results.build_result(['ws-aaaaaaaa1', 'ws-bbbbbbbb1', 'ws-cccccccc1'], now, before, ['ws-aaaaaaaa1'], ['ws-bbbbbbbb1'], [],
                                  ['ws-cccccccc1'], [], accepted=['ws-aaaaaaaa1'], diff=True)
    assert result['changed'] is True
    assert result['summary'] == {'requested': 3, 'stopped': 1, 'already_stopped': 1, 'skipped': 0, 'missing': 1, 'failed': 0, 'not_attempted': 0}
    assert result['not_attempted'] == []
    assert result['diff'] == {'before': {'ws-aaaaaaaa1': {'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'}},
                              'after': {'ws-aaaaaaaa1': {'state': 'STOPPED', 'running_mode': 'AUTO_STOP'}}}
    assert [w['workspace_id'] for w in result['workspaces']] == ['ws-aaaaaaaa1', 'ws-bbbbbbbb1']
    assert not {'failed', 'skipped', 'msg', 'rc', 'results', 'invocation'} & set(result)


def test_build_result_check_mode_predicts_and_no_wait_says_stopping():
    before = {'ws-aaaaaaaa1': _desktop('ws-aaaaaaaa1', 'AVAILABLE')}
    check = results.build_result(['ws-aaaaaaaa1'], before, before, ['ws-aaaaaaaa1'], [], [], [], [], check_mode=True, diff=True)
    assert check['changed'] is True and check['diff']['after']['ws-aaaaaaaa1']['state'] == 'STOPPED'
    nowait = results.build_result(['ws-aaaaaaaa1'], before, before, ['ws-aaaaaaaa1'], [], [], [], [], accepted=['ws-aaaaaaaa1'], wait=False, diff=True)
    assert nowait['diff']['after']['ws-aaaaaaaa1']['state'] == 'STOPPING'
    unchanged = results.build_result(['ws-aaaaaaaa1'], before, before, [], ['ws-aaaaaaaa1'], [], [], [], diff=True)
    assert unchanged['changed'] is False and unchanged['diff'] == {'before': {}, 'after': {}}


def test_diff_is_only_built_when_asked_for():
    before = {'ws-aaaaaaaa1': _desktop('ws-aaaaaaaa1', 'AVAILABLE')}
    assert 'diff' not in results.build_result(['ws-aaaaaaaa1'], before, before, ['ws-aaaaaaaa1'], [], [], [], [], check_mode=True)


def test_a_failure_after_an_accepted_stop_is_still_a_change():
    before = {'ws-aaaaaaaa1': _desktop('ws-aaaaaaaa1', 'AVAILABLE')}
    failed = [results.failure('ws-aaaaaaaa1', 'StopFailed', 'in ERROR', 'ERROR')]
    result = results.build_result(['ws-aaaaaaaa1'], before, before, [], [], [], [], failed, accepted=['ws-aaaaaaaa1'])
    assert result['changed'] is True and result['summary']['failed'] == 1


def test_messages_name_ids_and_what_to_do():
    failed = [results.failure('ws-%08d1' % i, 'Code%d' % i, 'message %d' % i) for i in range(12)]
    msg = results.failure_message({'failed_workspaces': failed, 'summary': {'requested': 40}})
    assert msg.startswith('12 of 40 WorkSpaces failed to stop: ws-000000001 (Code0: message 0)')
    assert 'and 2 more, see failed_workspaces' in msg
    missing = results.missing_message(['ws-missing01'], 'eu-west-1')
    assert 'ws-missing01' in missing and 'eu-west-1' in missing and 'ignore_missing=true' in missing


def test_skip_warnings_group_by_reason():
    skipped = [{'workspace_id': 'ws-%08d1' % i, 'reason': 'r1' if i % 2 else 'r2'} for i in range(4)]
    assert results.skip_warnings(skipped) == ['2 WorkSpaces skipped, r2: ws-000000001, ws-000000021', '2 WorkSpaces skipped, r1: ws-000000011, ws-000000031']


def test_skip_warnings_group_idle_skips_whatever_their_details():
    skipped = [{'workspace_id': 'ws-%08d1' % i, 'reason': 'idle for less than min_idle_minutes=60: idle %d minutes, the user last connected at x' % i}
               for i in range(3)]
    assert results.skip_warnings(skipped) == ['3 WorkSpaces skipped, idle for less than min_idle_minutes=60: ws-000000001, ws-000000011, ws-000000021']


def test_error_details_of_client_error():
    botocore = pytest.importorskip('botocore')
    error = botocore.exceptions.ClientError({'Error': {'Code': 'ThrottlingException', 'Message': 'Rate exceeded'}}, 'StopWorkspaces')
    assert client.error_details(error) == ('ThrottlingException', 'Rate exceeded')
    assert client.error_details(ValueError('boom')) == ('ValueError', 'boom')


class FakeWorkSpaces:
    """A stand-in for the AWS client: every desktop stays STARTING; describes fail after ``fail_after`` calls."""

    def __init__(self, fail_after=None):
        self.calls = 0
        self.fail_after = fail_after

    def describe_workspaces(self, aws_retry=False, **params):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            botocore = pytest.importorskip('botocore')
            raise botocore.exceptions.ClientError({'Error': {'Code': 'InternalFailure', 'Message': 'boom'}}, 'DescribeWorkspaces')
        return {'Workspaces': [{'WorkspaceId': w, 'State': 'STARTING', 'WorkspaceProperties': {'RunningMode': 'AUTO_STOP'}}
                               for w in params['WorkspaceIds']]}


@pytest.mark.parametrize('fail_after, code, fragment', [
    (None, 'WaitTimeout', 'still in transitional state STARTING after wait_timeout=30 seconds'),
    (1, 'InternalFailure', 'could not see it settle, so it was not stopped: boom'),
])
def test_settle_failures_say_why(fail_after, code, fragment):
    stop = pytest.importorskip('ansible_collections.fleetops.workspaces.plugins.module_utils.stop')
    fake = FakeClock()
    run = stop.StopRun(FakeWorkSpaces(fail_after), wait_timeout=30, sleep=fake.sleep, clock=fake.clock)
    result = run.run(['ws-aaaaaaaa1'])
    assert [(f['error_code'], fragment in f['error_message']) for f in result['failed_workspaces']] == [(code, True)]
    assert result['stopped'] == [] and result['changed'] is False


# --- bounded concurrency of reads (client.map_batches) ------------------------------------------------------------
# No sleeps and no timing: the reads hold each other with a condition variable, so "N calls were in flight together"
# is proven by the calls themselves, whatever the machine's load. WAIT_GUARD only turns a deadlock into a failure.
WAIT_GUARD = 60.0


class Recorder:
    """A read that records how many calls run at once.

    The first ``hold`` calls wait for each other: none returns before ``hold`` calls are in flight together (a barrier
    that proves the overlap); ``gate`` (an Event), when given, additionally blocks every call except those in
    ``fail_on``, which raise at once.
    """

    def __init__(self, hold=1, fail_on=(), gate=None):
        self.cond = threading.Condition()
        self.running = 0
        self.peak = 0
        self.calls = []
        self.hold = hold
        self.held = False
        self.barrier_timed_out = False
        self.fail_on = set(fail_on)
        self.gate = gate

    def __call__(self, batch):
        with self.cond:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls.append(batch)
            if self.running >= self.hold:
                self.held = True
                self.cond.notify_all()
            elif not self.held and not self.cond.wait_for(lambda: self.held, timeout=WAIT_GUARD):
                self.barrier_timed_out = True
        try:
            if batch in self.fail_on:
                raise ValueError('read of %s failed' % batch)
            if self.gate is not None:
                assert self.gate.wait(WAIT_GUARD), 'the gate was never opened'
            return 'result-%s' % batch
        finally:
            with self.cond:
                self.running -= 1


@pytest.mark.parametrize('concurrency, batches, together', [(1, 8, 1), (3, 8, 3), (10, 8, 8), (4, 2, 2)])
def test_map_batches_bounds_the_calls_in_flight_and_keeps_order(concurrency, batches, together):
    """With concurrency C over B batches: min(C, B) calls were in flight together (the first ones wait for each other,
    which only ends once that many run at once), and never more (peak)."""
    read = Recorder(hold=together)
    assert client.map_batches(read, list(range(batches)), concurrency) == ['result-%d' % i for i in range(batches)]
    assert sorted(read.calls) == list(range(batches))
    assert not read.barrier_timed_out, 'fewer than %d calls were ever in flight together' % together
    assert read.peak == together  # >= by the barrier above, <= by the bound under test


def test_map_batches_with_nothing_to_read_makes_no_call():
    read = Recorder()
    assert client.map_batches(read, [], 4) == []
    assert not read.calls


def test_map_batches_raises_the_first_failure_and_starts_nothing_more(monkeypatch):
    """Batch 0 blocks until map_batches has cancelled what was not started; batch 1 fails at once. The failure is
    raised, every started read finished first, and no batch beyond those already taken by a worker was started."""
    gate = threading.Event()
    real_wait = client.wait_futures

    def wait_then_open(futures, *args, **kwargs):
        if kwargs.get('return_when') is None and not args:
            gate.set()  # the second wait: after the cancellation, release the blocked reads
        return real_wait(futures, *args, **kwargs)

    monkeypatch.setattr(client, 'wait_futures', wait_then_open)
    read = Recorder(fail_on={1}, gate=gate)
    with pytest.raises(ValueError, match='read of 1 failed'):
        client.map_batches(read, list(range(40)), 2)
    assert read.running == 0  # every started read finished before the error was raised
    # Two workers: one holds batch 0, the other fails batch 1 and may have taken batch 2 before the cancellation.
    assert {0, 1} <= set(read.calls) <= {0, 1, 2}, read.calls


@pytest.mark.parametrize('value', [0, -1, 11, True, '4', 2.5, None])
def test_concurrent_reads_out_of_range_is_refused_naming_the_value(value):
    errors = client.validate_concurrent_reads(value)
    assert len(errors) == 1 and repr(value) in errors[0] and 'from 1' in errors[0]


@pytest.mark.parametrize('value', [1, 4, 10])
def test_concurrent_reads_in_range(value):
    assert client.validate_concurrent_reads(value) == []


class PagedConnectionStatus:
    """DescribeWorkspacesConnectionStatus that answers an empty first page carrying a NextToken (as AWS may)."""

    def __init__(self, entries):
        self.entries = entries
        self.requests = []

    def describe_workspaces_connection_status(self, aws_retry=False, **params):
        assert aws_retry is True  # every page goes through the retry wrapper
        self.requests.append(dict(params))
        if 'NextToken' not in params:
            return {'WorkspacesConnectionStatus': [], 'NextToken': 'page-2'}
        wanted = [e for e in self.entries if e['WorkspaceId'] in params['WorkspaceIds']]
        return {'WorkspacesConnectionStatus': wanted}


def test_connection_status_follows_a_token_on_an_empty_first_page():
    ids = ['ws-%08d1' % i for i in range(30)]
    fake = PagedConnectionStatus([{'WorkspaceId': w, 'ConnectionState': 'DISCONNECTED'} for w in ids[:-1]])
    status = client.describe_connection_status(fake, ids)
    assert sorted(status) == sorted(ids[:-1])          # every entry found; the last id truly has none
    assert len(fake.requests) == 4                     # 2 batches of 25, 2 pages each
    assert [r.get('NextToken') for r in fake.requests] == [None, 'page-2', None, 'page-2']


def test_workspace_id_from_arn_other_services_and_partitions():
    assert client.workspace_id_from_arn('arn:aws-us-gov:workspaces:us-gov-west-1:123456789012:workspace/ws-abcdefgh1') == 'ws-abcdefgh1'
    assert client.workspace_id_from_arn('arn:aws:ec2:us-east-1:123456789012:workspace/ws-abcdefgh1') is None
    assert client.workspace_id_from_arn('') is None
