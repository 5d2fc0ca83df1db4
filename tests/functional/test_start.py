# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""workspaces_start through real ansible-playbook runs against the emulator, asserting its call log."""
from __future__ import annotations

import math

import pytest

from tests.functional.conftest import failures_without
from tests.functional.conftest import run_cases

from tests.functional import test_stop
from tests.functional.test_stop import REGION
from tests.functional.test_stop import states


def seed(emulator, desktops, region=REGION):
    """Seed explicit desktops, STOPPED unless given, and forget the calls."""
    test_stop.seed(emulator, [dict({'state': 'STOPPED'}, **d) for d in desktops], region)


def ids_of(desktops):
    return [d['workspace_id'] for d in desktops]


def fleet(n, prefix='ws-s', **fields):
    return test_stop.fleet(n, prefix, **fields)


def run_start(run_playbook, outdir, module_args, **kw):
    return test_stop.run_stop(run_playbook, outdir, module_args, module='workspaces_start', **kw)


def start_requests(emulator):
    """Every workspace id sent in a StartWorkspaces request, in order."""
    return [r['WorkspaceId'] for call in emulator.calls(operation='StartWorkspaces')
            for r in call['params'].get('StartWorkspaceRequests', [])]


MIXED = [
    {'workspace_id': 'ws-stopd0001'},
    {'workspace_id': 'ws-stopd0002', 'running_mode': 'MANUAL'},
    {'workspace_id': 'ws-avail0001', 'state': 'AVAILABLE'},
    {'workspace_id': 'ws-impar0001', 'state': 'IMPAIRED'},
    {'workspace_id': 'ws-alwys0001', 'running_mode': 'ALWAYS_ON'},
    {'workspace_id': 'ws-error0001', 'state': 'ERROR'},
    {'workspace_id': 'ws-susp00001', 'state': 'SUSPENDED'},
]


def test_starts_what_can_be_started_and_a_second_run_changes_nothing(emulator, run_playbook, outdir):
    seed(emulator, MIXED)
    ids = ids_of(MIXED)
    result, run = run_start(run_playbook, outdir, {'workspace_ids': ids})
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert result['started'] == ['ws-stopd0001', 'ws-stopd0002']
    assert result['already_running'] == ['ws-avail0001', 'ws-impar0001']
    assert {s['workspace_id']: s['reason'] for s in result['skipped_workspaces']} == {
        'ws-alwys0001': 'running mode ALWAYS_ON cannot be started (only AUTO_STOP and MANUAL desktops can)',
        'ws-error0001': 'state ERROR cannot be started',
        'ws-susp00001': 'state SUSPENDED cannot be started'}
    assert result['summary'] == {'requested': 7, 'started': 2, 'already_running': 2, 'skipped': 3, 'missing': 0, 'failed': 0,
                                 'not_attempted': 0}
    assert 'stopped' not in result and 'diff' not in result
    final = states(emulator)
    assert final['ws-stopd0001'] == final['ws-stopd0002'] == 'AVAILABLE' and final['ws-alwys0001'] == 'STOPPED'
    # ⌈7/25⌉ describe, ⌈2/25⌉ start, then polls; no connection check without used_within_days
    counts = emulator.counts()
    assert counts['StartWorkspaces'] == 1 and 'DescribeWorkspacesConnectionStatus' not in counts
    assert start_requests(emulator) == ['ws-stopd0001', 'ws-stopd0002']
    assert '2 WorkSpaces skipped, state' not in run.stdout  # one warning per distinct reason
    assert 'skipped, running mode ALWAYS_ON cannot be started' in run.stdout + run.stderr

    emulator.reset_calls()
    again, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids})
    assert again['changed'] is False and again['started'] == []
    assert sorted(again['already_running']) == ['ws-avail0001', 'ws-impar0001', 'ws-stopd0001', 'ws-stopd0002']
    assert emulator.counts() == {'DescribeWorkspaces': 1}


@pytest.mark.parametrize('n', [0, 1, 25, 26, 51])
def test_batches_of_25_make_the_minimum_of_calls(emulator, run_playbook, outdir, n):
    seed(emulator, fleet(n))
    ids = ids_of(fleet(n))
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids, 'wait': False}, diff=True)
    batches = math.ceil(n / 25)
    expected = {'DescribeWorkspaces': batches, 'StartWorkspaces': batches} if n else {}
    assert emulator.counts() == expected
    assert all(len(c['params']['StartWorkspaceRequests']) <= 25 for c in emulator.calls(operation='StartWorkspaces'))
    assert sorted(start_requests(emulator)) == sorted(ids)
    assert len(result['started']) == n and result['changed'] is bool(n)
    if n:
        assert result['diff']['before'][ids[0]]['state'] == 'STOPPED' and result['diff']['after'][ids[0]]['state'] == 'STARTING'


def test_check_mode_makes_only_reads(emulator, run_playbook, outdir):
    seed(emulator, MIXED + fleet(30, connection_state='DISCONNECTED', last_connected_minutes_ago=60))
    ids = ids_of(MIXED + fleet(30))
    result, run = run_start(run_playbook, outdir, {'workspace_ids': ids, 'used_within_days': 7}, check=True, diff=True)
    assert result['changed'] is True and len(result['started']) == 32  # MIXED's 2 stopped desktops were used within days too
    # ⌈37/25⌉ describes, ⌈32 candidates/25⌉ connection checks, nothing else
    assert emulator.counts() == {'DescribeWorkspaces': 2, 'DescribeWorkspacesConnectionStatus': 2}
    assert set(states(emulator)[w] for w in ids_of(fleet(30))) == {'STOPPED'}
    assert result['diff']['after'][ids_of(fleet(30))[0]]['state'] == 'AVAILABLE'
    assert ids_of(fleet(30))[0] in run.stdout  # --diff printed


def test_used_within_days_starts_only_desktops_in_use(emulator, run_playbook, outdir):
    day = 1440
    kinds = {
        'ws-recent001': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 2 * day}, True),
        'ws-recent002': ({'connection_state': 'UNKNOWN', 'last_connected_minutes_ago': 6 * day + 1300}, True),
        'ws-abandon01': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 40 * day}, False),
        'ws-edge00001': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 7 * day + 5}, False),
        'ws-never0001': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 'never'}, False),
        'ws-noentry01': ({'connection_state': 'NONE'}, False),
    }
    seed(emulator, [dict(fields, workspace_id=w) for w, (fields, dummy) in kinds.items()] + [{'workspace_id': 'ws-avail0001', 'state': 'AVAILABLE'}])
    ids = list(kinds) + ['ws-avail0001']
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids, 'used_within_days': 7, 'wait': False})
    assert not result.get('failed'), result
    assert result['started'] == ['ws-recent001', 'ws-recent002'] and start_requests(emulator) == result['started']
    assert result['already_running'] == ['ws-avail0001']
    skipped = {s['workspace_id']: s for s in result['skipped_workspaces']}
    assert sorted(skipped) == ['ws-abandon01', 'ws-edge00001', 'ws-never0001', 'ws-noentry01']
    assert skipped['ws-abandon01']['reason'].startswith('not used within used_within_days=7: idle 40 days, the user last connected at ')
    assert skipped['ws-abandon01']['idle_minutes'] >= 40 * day
    assert skipped['ws-never0001']['reason'].startswith('never used')
    assert skipped['ws-noentry01']['reason'].startswith('connection status unknown') and skipped['ws-noentry01']['connection_state'] is None
    # the connection check covers only the 6 candidates, in one call; the running desktop is not checked
    assert emulator.counts() == {'DescribeWorkspaces': 1, 'DescribeWorkspacesConnectionStatus': 1, 'StartWorkspaces': 1}
    assert sorted(emulator.calls(operation='DescribeWorkspacesConnectionStatus')[0]['params']['WorkspaceIds']) == sorted(kinds)


def test_desktop_started_by_someone_else_between_read_and_start_is_not_a_failure(emulator, emulator_gate, run_playbook, outdir):
    seed(emulator, fleet(3))
    ids = ids_of(fleet(3))
    actor, errors = test_stop.other_actor_at_the_gate(emulator, emulator_gate, 'StartWorkspaces', ids[0], 'AVAILABLE')
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids, 'wait_timeout': 60}, env={'AWS_ENDPOINT_URL': emulator_gate.url})
    actor.join()
    assert errors == []
    assert not result.get('failed'), result
    assert result['already_running'] == [ids[0]] and sorted(result['started']) == sorted(ids[1:])
    assert ids[0] in start_requests(emulator)  # we did ask, AWS refused, the re-check explained it
    assert set(states(emulator).values()) == {'AVAILABLE'}
    refused = [c for c in emulator.calls(operation='DescribeWorkspaces') if c['params'].get('WorkspaceIds') == [ids[0]]]
    assert len(refused) == 1  # exactly one re-describe, of the refused id only


def test_stopping_desktop_is_waited_for_then_started(emulator, run_playbook, outdir):
    emulator.set_faults(stop_delay=8)
    boto = emulator.boto3_client('workspaces', region_name=REGION)

    def seed_one_stopping(going, stopped):
        seed(emulator, [{'workspace_id': going, 'state': 'AVAILABLE'}, {'workspace_id': stopped}])
        boto.stop_workspaces(StopWorkspaceRequests=[{'WorkspaceId': going}])
        emulator.reset_calls()

    # without wait: skipped, with a reason saying what to do; only the read
    seed_one_stopping('ws-going0000', 'ws-stopd0000')
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ['ws-going0000'], 'wait': False})
    assert result['skipped_workspaces'][0]['state'] == 'STOPPING' and 'wait=true' in result['skipped_workspaces'][0]['reason']
    assert emulator.counts() == {'DescribeWorkspaces': 1}
    # with wait: waited until STOPPED, then started in a second request
    seed_one_stopping('ws-going0001', 'ws-stopd0001')
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ['ws-going0001', 'ws-stopd0001']})
    assert not result.get('failed'), result
    assert sorted(result['started']) == ['ws-going0001', 'ws-stopd0001']
    assert [[r['WorkspaceId'] for r in c['params']['StartWorkspaceRequests']] for c in emulator.calls(operation='StartWorkspaces')] == [
        ['ws-stopd0001'], ['ws-going0001']]
    assert states(emulator)['ws-going0001'] == states(emulator)['ws-stopd0001'] == 'AVAILABLE'


def test_starting_desktop_is_already_running_and_waited_for(emulator, run_playbook, outdir):
    seed(emulator, [{'workspace_id': 'ws-start0001'}])
    emulator.set_faults(start_delay=8)
    emulator.boto3_client('workspaces', region_name=REGION).start_workspaces(StartWorkspaceRequests=[{'WorkspaceId': 'ws-start0001'}])
    emulator.reset_calls()
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ['ws-start0001']})
    assert result['already_running'] == ['ws-start0001'] and result['changed'] is False
    assert 'StartWorkspaces' not in emulator.counts() and emulator.counts()['DescribeWorkspaces'] >= 2  # read, then polled
    assert result['workspaces'][0]['state'] == 'AVAILABLE'


def test_start_that_ends_in_error_fails_the_task_with_ids(emulator, run_playbook, outdir):
    seed(emulator, fleet(3))
    ids = ids_of(fleet(3))
    emulator.set_faults(start_fails_to_error={'workspace_ids': [ids[1]]}, start_delay=0.5)
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids})
    assert result['failed'] is True
    assert result['failed_workspaces'] == [{'workspace_id': ids[1], 'error_code': 'StartFailed', 'state': 'ERROR',
                                            'error_message': 'the desktop is in state ERROR after the start request instead of AVAILABLE'}]
    assert result['msg'].startswith('1 of 3 WorkSpaces failed to start: %s (StartFailed' % ids[1])
    assert sorted(result['started']) == [ids[0], ids[2]]


def test_survives_30_percent_throttling(emulator, run_playbook, outdir):
    seed(emulator, fleet(60))
    ids = ids_of(fleet(60))
    emulator.set_faults(throttle_rate=0.3, fault_seed=7, start_delay=0.2)
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids})
    assert not result.get('failed'), result.get('msg')
    assert sorted(result['started']) == sorted(ids)
    assert set(states(emulator).values()) == {'AVAILABLE'}
    report = emulator.call_report()
    assert report['counts']['StartWorkspaces'] >= 3
    # every desktop was accepted exactly once: no start was sent twice after a success
    accepted = [r['WorkspaceId'] for c in emulator.calls(operation='StartWorkspaces') if c['outcome'] == 'ok'
                for r in c['params']['StartWorkspaceRequests']]
    assert sorted(accepted) == sorted(ids)


BAD_INPUT = {  # case: (module arguments, fragment of the error)
    'upper-case-id': ({'workspace_ids': ['ws-GOOD00001']}, "'ws-GOOD00001'"),
    'negative-used-within-days': ({'workspace_ids': ['ws-abcdefgh1'], 'used_within_days': -1},
                                  'used_within_days must be 0 (off) or a positive number of days, got -1'),
    'zero-wait-timeout': ({'workspace_ids': ['ws-abcdefgh1'], 'wait_timeout': 0}, 'wait_timeout must be a positive number of seconds, got 0'),
    'stop-only-option': ({'workspace_ids': ['ws-abcdefgh1'], 'min_idle_minutes': 5}, 'min_idle_minutes'),
}


def test_bad_input_fails_before_any_call(emulator, run_playbook, outdir):
    """Each case is a task of one playbook: each fails with its own message, and none made any call."""
    results = run_cases(run_playbook, outdir, [(case, 'fleetops.workspaces.workspaces_start', args) for case, (args, dummy) in BAD_INPUT.items()])
    assert failures_without(results, {case: [fragment] for case, (dummy, fragment) in BAD_INPUT.items()}) == {}
    assert emulator.counts() == {}


def test_missing_ids_fail_before_any_start_unless_ignored(emulator, run_playbook, outdir):
    seed(emulator, fleet(2))
    ids = ids_of(fleet(2)) + ['ws-nothere01']
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids})
    assert result['failed'] is True and 'Nothing was started' in result['msg'] and 'ws-nothere01' in result['msg']
    assert 'StartWorkspaces' not in emulator.counts()
    result, dummy = run_start(run_playbook, outdir, {'workspace_ids': ids, 'ignore_missing': True, 'wait': False})
    assert result['missing'] == ['ws-nothere01'] and len(result['started']) == 2
