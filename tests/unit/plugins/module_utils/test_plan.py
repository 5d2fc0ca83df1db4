# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure stop planning: every state x running mode, ids, connections, re-checks."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.fleetops.workspaces.plugins.module_utils import plan

ALL_STATES = [
    'PENDING', 'AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'REBOOTING', 'STARTING', 'REBUILDING', 'RESTORING', 'MAINTENANCE',
    'ADMIN_MAINTENANCE', 'TERMINATING', 'TERMINATED', 'SUSPENDED', 'UPDATING', 'STOPPING', 'STOPPED', 'ERROR',
]
MODES = ['AUTO_STOP', 'MANUAL', 'ALWAYS_ON']


def desktop(workspace_id='ws-abcdefgh1', state='AVAILABLE', mode='AUTO_STOP'):
    return {'workspace_id': workspace_id, 'state': state, 'workspace_properties': {'running_mode': mode}}


def expected(state, mode, wait):
    """The state table of docs/design, written out independently of plan.classify."""
    if state == 'STOPPED':
        return 'already_stopped'
    if state == 'STOPPING':
        return 'stopping'
    if state in ('ADMIN_MAINTENANCE', 'SUSPENDED', 'TERMINATING', 'TERMINATED'):
        return 'skip'
    if mode == 'ALWAYS_ON':
        return 'skip'
    if state in ('AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'ERROR'):
        return 'stop'
    return 'settle' if wait else 'skip'


@pytest.mark.parametrize('wait', [True, False])
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('state', ALL_STATES)
def test_state_table(state, mode, wait):
    decision, reason = plan.classify(desktop(state=state, mode=mode), wait=wait)
    assert decision == expected(state, mode, wait)
    assert (reason is not None) == (decision == 'skip')


def test_skip_reasons_name_state_or_mode():
    assert 'ALWAYS_ON' in plan.classify(desktop(mode='ALWAYS_ON'))[1]
    assert 'SUSPENDED' in plan.classify(desktop(state='SUSPENDED'))[1]
    assert 'wait=true' in plan.classify(desktop(state='STARTING'), wait=False)[1]


def test_unknown_state_and_mode_are_skipped_not_stopped():
    assert plan.classify(desktop(state='HIBERNATED'))[0] == 'skip'
    assert plan.classify(desktop(mode='SOMETHING_NEW'))[0] == 'skip'
    assert plan.classify({'workspace_id': 'ws-abcdefgh1', 'state': 'AVAILABLE'})[0] == 'skip'


def test_validate_ids_dedupes_in_order_and_names_bad_values():
    ids, errors = plan.validate_workspace_ids(['ws-bbbbbbbb1', 'ws-aaaaaaaa1', 'ws-bbbbbbbb1', 'WS-UPPER123', 'ws-short', 'i-0123456789', 7])
    assert ids == ['ws-bbbbbbbb1', 'ws-aaaaaaaa1']
    assert len(errors) == 4
    assert "'WS-UPPER123'" in errors[0] and "'ws-short'" in errors[1] and "'i-0123456789'" in errors[2] and '7' in errors[3]


def test_validate_ids_bounds():
    assert plan.validate_workspace_ids(['ws-' + 'a' * 8])[1] == []
    assert plan.validate_workspace_ids(['ws-' + 'a' * 63])[1] == []
    assert len(plan.validate_workspace_ids(['ws-' + 'a' * 64])[1]) == 1
    assert plan.validate_workspace_ids([]) == ([], [])
    assert plan.validate_workspace_ids(None) == ([], [])


def test_make_plan_sorts_every_id_into_one_list_in_request_order():
    described = [
        desktop('ws-stop00001'), desktop('ws-stopped01', 'STOPPED'), desktop('ws-stoppin01', 'STOPPING'),
        desktop('ws-starting1', 'STARTING'), desktop('ws-always001', mode='ALWAYS_ON'), desktop('ws-stop00002', 'ERROR', 'MANUAL'),
        desktop('ws-notasked1'),
    ]
    requested = ['ws-stop00002', 'ws-missing01', 'ws-always001', 'ws-stopped01', 'ws-stoppin01', 'ws-starting1', 'ws-stop00001']
    result = plan.make_plan(requested, described)
    assert result['stop'] == ['ws-stop00002', 'ws-stop00001']
    assert result['already_stopped'] == ['ws-stopped01']
    assert result['stopping'] == ['ws-stoppin01']
    assert result['settle'] == ['ws-starting1']
    assert result['missing'] == ['ws-missing01']
    assert [s['workspace_id'] for s in result['skipped']] == ['ws-always001']
    assert result['skipped'][0] == {'workspace_id': 'ws-always001', 'state': 'AVAILABLE', 'running_mode': 'ALWAYS_ON',
                                    'reason': 'running mode ALWAYS_ON cannot be stopped (only AUTO_STOP and MANUAL desktops can)'}
    placed = result['stop'] + result['already_stopped'] + result['stopping'] + result['settle'] + result['missing']
    placed += [s['workspace_id'] for s in result['skipped']]
    assert sorted(placed) == sorted(requested)


def test_split_connected_only_connected_blocks():
    by_id = {w: desktop(w) for w in ['ws-conn00001', 'ws-disc00001', 'ws-unkn00001', 'ws-none00001']}
    status = {
        'ws-conn00001': {'WorkspaceId': 'ws-conn00001', 'ConnectionState': 'CONNECTED'},
        'ws-disc00001': {'WorkspaceId': 'ws-disc00001', 'ConnectionState': 'DISCONNECTED'},
        'ws-unkn00001': {'WorkspaceId': 'ws-unkn00001', 'ConnectionState': 'UNKNOWN'},
    }
    keep, skipped = plan.split_connected(list(by_id), by_id, status)
    assert keep == ['ws-disc00001', 'ws-unkn00001', 'ws-none00001']
    assert [s['workspace_id'] for s in skipped] == ['ws-conn00001']
    assert 'CONNECTED' in skipped[0]['reason']


def test_recheck_failures_never_reads_the_error_code():
    failed = [
        {'WorkspaceId': 'ws-other001', 'ErrorCode': 'AnythingAtAll', 'ErrorMessage': 'x'},
        {'WorkspaceId': 'ws-other002', 'ErrorCode': 'ResourceInvalidState.Workspace', 'ErrorMessage': 'y'},
        {'WorkspaceId': 'ws-broken01', 'ErrorCode': 'ResourceInvalidState.Workspace', 'ErrorMessage': 'In state ERROR'},
        {'WorkspaceId': 'ws-gone0001', 'ErrorCode': 'ResourceNotFound.Workspace', 'ErrorMessage': 'gone'},
    ]
    current = {'ws-other001': desktop('ws-other001', 'STOPPING'), 'ws-other002': desktop('ws-other002', 'STOPPED'),
               'ws-broken01': desktop('ws-broken01', 'SUSPENDED')}
    stopping, stopped, failures = plan.recheck_failures(failed, current)
    assert stopping == ['ws-other001'] and stopped == ['ws-other002']
    assert failures == [
        {'workspace_id': 'ws-broken01', 'error_code': 'ResourceInvalidState.Workspace', 'error_message': 'In state ERROR', 'state': 'SUSPENDED'},
        {'workspace_id': 'ws-gone0001', 'error_code': 'ResourceNotFound.Workspace', 'error_message': 'gone', 'state': None},
    ]


@pytest.mark.parametrize('state, initial, seen, outcome', [
    ('STOPPED', 'AVAILABLE', False, 'done'),
    ('STOPPING', 'AVAILABLE', False, 'pending'),
    ('AVAILABLE', 'AVAILABLE', False, 'pending'),   # AWS has not started the stop yet
    ('AVAILABLE', 'AVAILABLE', True, 'failed'),     # went back to AVAILABLE after STOPPING
    ('ERROR', 'AVAILABLE', False, 'failed'),
    ('ERROR', 'ERROR', False, 'pending'),           # stopping a desktop that was in ERROR
    ('ERROR', 'ERROR', True, 'failed'),
    ('STARTING', 'STOPPING', True, 'failed'),
    (None, 'AVAILABLE', False, 'failed'),           # vanished
])
def test_stop_progress(state, initial, seen, outcome):
    described = None if state is None else desktop(state=state)
    assert plan.stop_progress(described, initial, seen) == outcome


def test_settle_progress():
    assert plan.settle_progress(desktop(state='STARTING')) == 'pending'
    assert plan.settle_progress(desktop(state='AVAILABLE')) == 'done'
    assert plan.settle_progress(None) == 'done'


def test_normalize_descriptions_accepts_info_and_inventory_shapes():
    info_shape = {'workspace_id': 'ws-aaaaaaaa1', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP', 'tags': {'a': 'b'}}
    describe_shape = desktop('ws-bbbbbbbb1', 'STOPPED', 'MANUAL')
    desktops, errors = plan.normalize_descriptions([info_shape, describe_shape, dict(info_shape)])
    assert errors == []
    assert [d['workspace_id'] for d in desktops] == ['ws-aaaaaaaa1', 'ws-bbbbbbbb1']
    assert [plan.classify(d)[0] for d in desktops] == ['stop', 'already_stopped']
    assert info_shape == {'workspace_id': 'ws-aaaaaaaa1', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP', 'tags': {'a': 'b'}}  # not mutated


def test_normalize_descriptions_names_each_bad_entry():
    desktops, errors = plan.normalize_descriptions(['ws-aaaaaaaa1', {'workspace_id': 'ws-bad'}, {'workspace_id': 'ws-cccccccc1', 'state': 'AVAILABLE'}])
    assert desktops == []
    assert errors[0].startswith("workspaces[0] must be a description") and "'ws-aaaaaaaa1'" in errors[0]
    assert errors[1].startswith('workspaces[1] (ws-bad)') and 'no state' in errors[1] and 'no running_mode' in errors[1]
    assert errors[2].startswith('workspaces[2] (ws-cccccccc1): no running_mode') and 'workspaces_info' in errors[2]


# --- idle decision (min_idle_minutes) ---------------------------------------------------------------------------
NOW = datetime.datetime(2026, 12, 2, 6, 0, 0, tzinfo=datetime.timezone.utc)


def ago(minutes, seconds=0):
    return NOW - datetime.timedelta(minutes=minutes, seconds=seconds)


def entry(state='DISCONNECTED', last=None):
    found = {'WorkspaceId': 'ws-abcdefgh1', 'ConnectionState': state}
    if last is not None:
        found['LastKnownUserConnectionTimestamp'] = last
    return found


@pytest.mark.parametrize('last, stop', [
    (ago(60), True),              # exactly N minutes: idle
    (ago(60, 1), True),
    (ago(59, 59), False),         # a second short of N
    (ago(59), False),             # N - 1
    (None, True),                 # never connected: idle
])
def test_idle_boundary(last, stop):
    decision, reason = plan.connection_decision(entry(last=last), NOW, min_idle_minutes=60)
    assert decision is stop
    assert (reason is None) is stop


def test_idle_reason_names_last_connection_and_idle_minutes():
    decision, reason = plan.connection_decision(entry(last=ago(59)), NOW, min_idle_minutes=60)
    assert not decision
    assert 'min_idle_minutes=60' in reason and 'idle 59 minutes' in reason and '2026-12-02T05:01:00+00:00' in reason


def test_no_entry_is_unknown_and_not_stopped_with_min_idle_but_stopped_with_skip_connected_alone():
    assert plan.connection_decision(None, NOW, min_idle_minutes=1) == (False, plan.CONNECTION_UNKNOWN_REASON)
    assert plan.CONNECTION_UNKNOWN_REASON.startswith('connection status unknown')
    assert plan.connection_decision(None, NOW, min_idle_minutes=0) == (True, None)


def test_connected_with_an_old_timestamp_is_never_stopped():
    for minutes in (0, 60):
        assert plan.connection_decision(entry('CONNECTED', ago(600)), NOW, minutes) == (False, plan.CONNECTED_REASON)


def test_unknown_state_with_an_old_timestamp_is_idle():
    assert plan.connection_decision(entry('UNKNOWN', ago(600)), NOW, 60) == (True, None)


def test_used_within_is_the_one_window_check_in_minutes_or_days():
    assert plan.used_within(ago(59), NOW, 60) and not plan.used_within(ago(60), NOW, 60)
    assert plan.used_within(ago(3 * 1440 - 1), NOW, 3 * 1440) and not plan.used_within(ago(3 * 1440), NOW, 3 * 1440)
    assert not plan.used_within(None, NOW, 60)
    # a timestamp ahead of the controller's clock (skew) is recent, and 0 minutes old
    future = NOW + datetime.timedelta(minutes=2)
    assert plan.used_within(future, NOW, 60) and plan.minutes_since(future, NOW) == 0


def test_timestamps_from_strings_naive_and_other_zones():
    assert plan.minutes_since('2026-12-02T05:00:00Z', NOW) == 60
    assert plan.minutes_since('2026-12-02T06:30:00+01:00', NOW) == 30
    assert plan.minutes_since(datetime.datetime(2026, 12, 2, 5, 30), NOW) == 30
    assert plan.iso_utc('2026-12-02T06:30:00+01:00') == '2026-12-02T05:30:00+00:00'
    assert plan.minutes_since(None, NOW) is None


def test_injected_clock_decides():
    last = ago(30)
    assert not plan.connection_decision(entry(last=last), NOW, 45)[0]
    assert plan.connection_decision(entry(last=last), NOW + datetime.timedelta(minutes=15), 45)[0]


def test_split_connected_with_min_idle_reports_facts_on_each_skip():
    ids = ['ws-conn00001', 'ws-idle00001', 'ws-busy00001', 'ws-never0001', 'ws-none00001']
    by_id = {w: desktop(w) for w in ids}
    status = {
        'ws-conn00001': {'WorkspaceId': 'ws-conn00001', 'ConnectionState': 'CONNECTED', 'LastKnownUserConnectionTimestamp': ago(500)},
        'ws-idle00001': {'WorkspaceId': 'ws-idle00001', 'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': ago(90)},
        'ws-busy00001': {'WorkspaceId': 'ws-busy00001', 'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': ago(10)},
        'ws-never0001': {'WorkspaceId': 'ws-never0001', 'ConnectionState': 'DISCONNECTED'},
    }
    keep, skipped = plan.split_connected(ids, by_id, status, min_idle_minutes=60, now=NOW)
    assert keep == ['ws-idle00001', 'ws-never0001']
    by_skip = {s['workspace_id']: s for s in skipped}
    assert set(by_skip) == {'ws-conn00001', 'ws-busy00001', 'ws-none00001'}
    assert by_skip['ws-busy00001']['idle_minutes'] == 10
    assert by_skip['ws-busy00001']['last_known_user_connection_timestamp'] == '2026-12-02T05:50:00+00:00'
    assert by_skip['ws-none00001']['reason'].startswith('connection status unknown')
    assert by_skip['ws-none00001']['idle_minutes'] is None and by_skip['ws-none00001']['connection_state'] is None


# --- the start row of the state table (issue 16) ------------------------------------------------------------------
def expected_start(state, mode, wait):
    """The start table of the README, written out independently of plan.classify."""
    if state in ('AVAILABLE', 'IMPAIRED', 'UNHEALTHY'):
        return 'already_running'
    if state == 'STARTING':
        return 'starting'
    if state in ('ADMIN_MAINTENANCE', 'SUSPENDED', 'TERMINATING', 'TERMINATED', 'ERROR'):
        return 'skip'
    if mode == 'ALWAYS_ON':
        return 'skip'
    if state == 'STOPPED':
        return 'start'
    return 'settle' if wait else 'skip'  # STOPPING and the other transitional states


@pytest.mark.parametrize('wait', [True, False])
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('state', ALL_STATES)
def test_start_state_table(state, mode, wait):
    decision, reason = plan.classify(desktop(state=state, mode=mode), wait=wait, action=plan.START_ACTION)
    assert decision == expected_start(state, mode, wait)
    assert (reason is not None) == (decision == 'skip')
    if reason:
        assert 'stop' not in reason and (state in reason or mode in reason)


def test_start_skips_unknown_states_and_modes_with_a_reason():
    assert plan.classify(desktop(state='HIBERNATED'), action=plan.START_ACTION) == ('skip', 'state HIBERNATED is not known to be startable')
    assert plan.classify(desktop(state='STOPPED', mode='SOMETHING_NEW'), action=plan.START_ACTION)[0] == 'skip'
    assert 'wait=true' in plan.classify(desktop(state='STOPPING'), wait=False, action=plan.START_ACTION)[1]


def test_start_plan_uses_the_start_names():
    described = [desktop('ws-stopped01', 'STOPPED'), desktop('ws-running01', 'AVAILABLE'), desktop('ws-coming001', 'STARTING'),
                 desktop('ws-going0001', 'STOPPING')]
    result = plan.make_plan([d['workspace_id'] for d in described] + ['ws-gone0001'], described, action=plan.START_ACTION)
    assert result == {'start': ['ws-stopped01'], 'already_running': ['ws-running01'], 'starting': ['ws-coming001'],
                      'settle': ['ws-going0001'], 'skipped': [], 'missing': ['ws-gone0001']}


def test_start_recheck_treats_running_and_starting_as_already_running():
    failed = [{'WorkspaceId': w, 'ErrorCode': 'Whatever', 'ErrorMessage': 'm'} for w in ('ws-a0000001', 'ws-b0000001', 'ws-c0000001')]
    current = {'ws-a0000001': desktop('ws-a0000001', 'STARTING'), 'ws-b0000001': desktop('ws-b0000001', 'AVAILABLE'),
               'ws-c0000001': desktop('ws-c0000001', 'STOPPED')}
    starting, running, failures = plan.recheck_failures(failed, current, plan.START_ACTION)
    assert starting == ['ws-a0000001'] and running == ['ws-b0000001'] and [f['workspace_id'] for f in failures] == ['ws-c0000001']


@pytest.mark.parametrize('state, seen, outcome', [
    ('AVAILABLE', False, 'done'), ('STARTING', False, 'pending'), ('STOPPED', False, 'pending'), ('STOPPED', True, 'failed'),
    ('ERROR', False, 'failed'), (None, False, 'failed'),
])
def test_start_progress(state, seen, outcome):
    described = None if state is None else desktop(state=state)
    assert plan.stop_progress(described, 'STOPPED', seen, plan.START_ACTION) == outcome


def test_start_settle_waits_for_stopping_to_end():
    assert plan.settle_progress(desktop(state='STOPPING'), plan.START_ACTION) == 'pending'
    assert plan.settle_progress(desktop(state='STOPPED'), plan.START_ACTION) == 'done'
    assert plan.settle_progress(desktop(state='STARTING'), plan.START_ACTION) == 'done'


USAGE_NOW = datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize('entry, start, reason', [
    ({'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': USAGE_NOW - datetime.timedelta(days=6, hours=23)}, True, None),
    ({'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': USAGE_NOW - datetime.timedelta(days=7)}, False,
     'not used within used_within_days=7: idle 7 days'),
    ({'ConnectionState': 'UNKNOWN', 'LastKnownUserConnectionTimestamp': '2026-12-01T08:00:00Z'}, True, None),
    ({'ConnectionState': 'DISCONNECTED'}, False, 'never used'),
    (None, False, 'connection status unknown'),
])
def test_usage_decision(entry, start, reason):
    decided, why = plan.usage_decision(entry, USAGE_NOW, 7)
    assert decided is start
    assert (why is None) if reason is None else why.startswith(reason)
    assert plan.usage_decision(entry, USAGE_NOW, 0) == (True, None)  # off: everything is started


def test_split_connected_takes_the_start_rule():
    by_id = {w: desktop(w, 'STOPPED') for w in ('ws-used00001', 'ws-old000001')}
    status = {'ws-used00001': {'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': USAGE_NOW},
              'ws-old000001': {'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': USAGE_NOW - datetime.timedelta(days=90)}}
    keep, skipped = plan.split_connected(list(by_id), by_id, status, now=USAGE_NOW,
                                         decide=lambda entry, now: plan.usage_decision(entry, now, 30), facts=True)
    assert keep == ['ws-used00001'] and skipped[0]['workspace_id'] == 'ws-old000001' and skipped[0]['idle_minutes'] == 90 * 1440


def test_split_connected_without_min_idle_keeps_the_skipped_shape():
    by_id = {'ws-conn00001': desktop('ws-conn00001')}
    status = {'ws-conn00001': {'WorkspaceId': 'ws-conn00001', 'ConnectionState': 'CONNECTED', 'LastKnownUserConnectionTimestamp': ago(0)}}
    keep, skipped = plan.split_connected(['ws-conn00001'], by_id, status, now=NOW)
    assert keep == [] and set(skipped[0]) == {'workspace_id', 'state', 'running_mode', 'reason'}
