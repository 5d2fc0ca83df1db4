# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""workspaces_stop through real ansible-playbook runs against the emulator, asserting its call log."""
from __future__ import annotations

import json
import math
import random
import threading
import time

import pytest

from tests.functional.conftest import failures_without
from tests.functional.conftest import run_cases

REGION = 'us-east-1'
DIRECTORY = 'd-1234567890'


def seed(emulator, desktops, region=REGION):
    """Seed explicit desktops: a list of dicts with workspace_id and optional state/running_mode/connection_state."""
    entries = []
    for d in desktops:
        entry = {'directory_id': DIRECTORY, 'user_name': 'user-' + d['workspace_id'][3:], 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'}
        entry.update(d)
        entries.append(entry)
    emulator.seed({'regions': {region: {'workspaces': entries}}})
    emulator.reset_calls()


def fleet(n, prefix='ws-f', **fields):
    return [dict(workspace_id='%s%07d' % (prefix, i), **fields) for i in range(n)]


def stop_play(outdir, module_args, extra_tasks='', module='workspaces_stop'):
    """A play running ``module`` (workspaces_stop, or workspaces_start for test_start.py) and saving its result."""
    args = json.dumps(module_args)
    return """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Run the module
          fleetops.workspaces.%s: %s
          register: result
          ignore_errors: true
        - name: Save
          save_json:
            content: "{{ result | to_json }}"
            dest: %s/result.json
          check_mode: false
          diff: false
    %s
    """ % (module, args, outdir, extra_tasks)


def run_stop(run_playbook, outdir, module_args, module='workspaces_stop', **kw):
    run = run_playbook(stop_play(outdir, module_args, module=module), **kw)
    assert run.rc == 0, run
    with open(outdir / 'result.json', encoding='utf-8') as handle:
        return json.load(handle), run


def states(emulator, region=REGION):
    return {w['workspace_id']: w['state'] for w in emulator.workspaces(region=region)}


def stop_requests(emulator):
    """Every workspace id sent in a StopWorkspaces request, in order."""
    ids = []
    for call in emulator.calls(operation='StopWorkspaces'):
        ids.extend(r['WorkspaceId'] for r in call['params'].get('StopWorkspaceRequests', []))
    return ids


MIXED = [
    {'workspace_id': 'ws-avail0001'},
    {'workspace_id': 'ws-avail0002', 'running_mode': 'MANUAL', 'state': 'IMPAIRED'},
    {'workspace_id': 'ws-error0001', 'state': 'ERROR'},
    {'workspace_id': 'ws-stopd0001', 'state': 'STOPPED'},
    {'workspace_id': 'ws-alwys0001', 'running_mode': 'ALWAYS_ON'},
    {'workspace_id': 'ws-susp00001', 'state': 'SUSPENDED'},
    {'workspace_id': 'ws-admin0001', 'state': 'ADMIN_MAINTENANCE'},
]


def test_stops_what_can_be_stopped_and_reports_every_desktop(emulator, run_playbook, outdir):
    seed(emulator, MIXED)
    ids = [d['workspace_id'] for d in MIXED]
    result, run = run_stop(run_playbook, outdir, {'workspace_ids': ids + ['ws-avail0001']})
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert sorted(result['stopped']) == ['ws-avail0001', 'ws-avail0002', 'ws-error0001']
    assert result['already_stopped'] == ['ws-stopd0001']
    assert {s['workspace_id']: s['running_mode'] for s in result['skipped_workspaces']} == {
        'ws-alwys0001': 'ALWAYS_ON', 'ws-susp00001': 'AUTO_STOP', 'ws-admin0001': 'AUTO_STOP'}
    assert all(s['reason'] for s in result['skipped_workspaces'])
    assert result['missing'] == [] and result['failed_workspaces'] == []
    assert result['summary'] == {'requested': 7, 'stopped': 3, 'already_stopped': 1, 'skipped': 3, 'missing': 0, 'failed': 0, 'not_attempted': 0}
    final = states(emulator)
    assert [final[w] for w in result['stopped']] == ['STOPPED'] * 3
    assert final['ws-alwys0001'] == 'AVAILABLE' and final['ws-susp00001'] == 'SUSPENDED'
    assert {w['workspace_id']: w['state'] for w in result['workspaces']}['ws-avail0001'] == 'STOPPED'
    # the same description shape as workspaces_info (region and running_mode included); no diff without --diff
    assert {(w['region'], w['running_mode']) for w in result['workspaces']} == {(REGION, 'AUTO_STOP'), (REGION, 'MANUAL'), (REGION, 'ALWAYS_ON')}
    assert 'diff' not in result
    # one StopWorkspaces call, for exactly the stoppable desktops; skipped desktops produce warnings
    assert emulator.counts()['StopWorkspaces'] == 1
    assert sorted(stop_requests(emulator)) == sorted(result['stopped'])
    assert 'skipped, running mode ALWAYS_ON cannot be stopped' in run.stdout + run.stderr

    # idempotent: the second run makes no StopWorkspaces call and reports no change
    emulator.reset_calls()
    again, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids})
    assert again['changed'] is False and again['stopped'] == []
    assert sorted(again['already_stopped']) == ['ws-avail0001', 'ws-avail0002', 'ws-error0001', 'ws-stopd0001']
    assert emulator.counts() == {'DescribeWorkspaces': 1}


def test_check_mode_makes_no_mutating_call_and_shows_the_plan(emulator, run_playbook, outdir):
    seed(emulator, MIXED)
    ids = [d['workspace_id'] for d in MIXED]
    result, run = run_stop(run_playbook, outdir, {'workspace_ids': ids}, check=True, diff=True)
    assert result['changed'] is True
    assert sorted(result['stopped']) == ['ws-avail0001', 'ws-avail0002', 'ws-error0001']
    assert emulator.counts() == {'DescribeWorkspaces': 1, 'DescribeWorkspacesConnectionStatus': 1}  # skip_connected is on by default
    assert states(emulator)['ws-avail0001'] == 'AVAILABLE'
    assert result['diff']['before']['ws-avail0001']['state'] == 'AVAILABLE'
    assert result['diff']['after']['ws-avail0001']['state'] == 'STOPPED'
    assert 'ws-avail0001' in run.stdout  # --diff printed


@pytest.mark.parametrize('n', [1, 25, 26, 51])
def test_batches_of_25_make_the_minimum_of_calls(emulator, run_playbook, outdir, n):
    seed(emulator, fleet(n))
    ids = [d['workspace_id'] for d in fleet(n)]
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'wait': False}, diff=True)
    batches = math.ceil(n / 25)
    # skip_connected (the default) checks each batch of 25 right before stopping it: one check per batch, no more
    assert emulator.counts() == {'DescribeWorkspaces': batches, 'DescribeWorkspacesConnectionStatus': batches, 'StopWorkspaces': batches}
    assert max(len(c['params']['StopWorkspaceRequests']) for c in emulator.calls(operation='StopWorkspaces')) <= 25
    assert sorted(stop_requests(emulator)) == sorted(ids)
    assert len(result['stopped']) == n and result['changed'] is True
    assert result['diff']['after'][ids[0]]['state'] == 'STOPPING'


def test_wait_polls_only_until_stopped(emulator, run_playbook, outdir):
    # STOPPED as soon as read after the stop: one poll round whatever the machine's load (with a delay, how many rounds
    # and how the two batches' desktops split between them would depend on the timing).
    emulator.set_faults(stop_delay=0)
    seed(emulator, fleet(30))
    ids = [d['workspace_id'] for d in fleet(30)]
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids})
    assert len(result['stopped']) == 30 and not result['failed_workspaces']
    assert set(states(emulator).values()) == {'STOPPED'}
    counts = emulator.counts()
    assert counts['StopWorkspaces'] == 2
    polls = counts['DescribeWorkspaces'] - 2
    assert polls == 2  # one round: the 30 pending ids in 2 batches, then nothing is pending
    assert all(w['state'] == 'STOPPED' for w in result['workspaces'])


def test_empty_list_is_a_no_op(emulator, run_playbook, outdir):
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': []})
    assert result['changed'] is False and result['summary']['requested'] == 0
    assert emulator.counts() == {}


def test_missing_ids_fail_before_any_stop_unless_ignored(emulator, run_playbook, outdir):
    seed(emulator, fleet(3))
    ids = [d['workspace_id'] for d in fleet(3)] + ['ws-nothere01']
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids})
    assert result['failed'] is True
    assert 'ws-nothere01' in result['msg'] and 'ignore_missing' in result['msg'] and REGION in result['msg']
    assert result['missing'] == ['ws-nothere01']
    assert 'StopWorkspaces' not in emulator.counts()

    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'ignore_missing': True, 'wait': False})
    assert not result.get('failed') and result['missing'] == ['ws-nothere01'] and len(result['stopped']) == 3


FLEET_OF_2 = [d['workspace_id'] for d in fleet(2)]
BAD_INPUT = {  # case: (module arguments, fragment of the error)
    'upper-case-id': ({'workspace_ids': ['ws-GOOD00001']}, "'ws-GOOD00001'"),
    'ec2-instance-id': ({'workspace_ids': ['i-0123456789abcdef0']}, "'i-0123456789abcdef0'"),
    'zero-wait-timeout': ({'workspace_ids': ['ws-abcdefgh1'], 'wait_timeout': 0}, 'wait_timeout must be a positive number of seconds, got 0'),
    'negative-wait-timeout': ({'workspace_ids': ['ws-abcdefgh1'], 'wait_timeout': -5}, 'got -5'),
    'wait-not-a-bool': ({'workspace_ids': 'ws-abcdefgh1', 'wait': 'maybe'}, 'maybe'),
    'misspelt-option': ({'workspace_ids': ['ws-abcdefgh1'], 'skip_conected': True}, 'skip_conected'),
    # min_idle_minutes (on an existing fleet, so that only the option can be the reason)
    'min-idle-without-connection-check': ({'min_idle_minutes': 30, 'skip_connected': False, 'workspace_ids': FLEET_OF_2},
                                          'min_idle_minutes=30 needs the connection check, but skip_connected is false'),
    'negative-min-idle': ({'min_idle_minutes': -1, 'workspace_ids': FLEET_OF_2},
                          'min_idle_minutes must be 0 (off) or a positive number of minutes, got -1'),
}


def test_bad_input_fails_before_any_call(emulator, run_playbook, outdir):
    """Each case is a task of one playbook: each fails with its own message, and none made any call."""
    seed(emulator, fleet(2))
    results = run_cases(run_playbook, outdir, [(case, 'fleetops.workspaces.workspaces_stop', args) for case, (args, dummy) in BAD_INPUT.items()])
    assert failures_without(results, {case: [fragment] for case, (dummy, fragment) in BAD_INPUT.items()}) == {}
    assert emulator.counts() == {}


def test_skip_connected_is_on_by_default_and_checks_only_the_candidates(emulator, run_playbook, outdir):
    desktops = fleet(30, connection_state='DISCONNECTED')
    desktops[0]['connection_state'] = 'CONNECTED'
    desktops[1]['connection_state'] = 'UNKNOWN'
    desktops[2]['connection_state'] = 'NONE'
    desktops[3]['state'] = 'STOPPED'
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'wait': False})
    assert [s['workspace_id'] for s in result['skipped_workspaces']] == [ids[0]]
    assert 'CONNECTED' in result['skipped_workspaces'][0]['reason']
    assert len(result['stopped']) == 28 and ids[0] not in stop_requests(emulator)
    assert emulator.counts()['DescribeWorkspacesConnectionStatus'] == 2  # 29 candidates -> 2 calls
    checked = [i for c in emulator.calls(operation='DescribeWorkspacesConnectionStatus') for i in c['params']['WorkspaceIds']]
    assert sorted(checked) == sorted(ids[:3] + ids[4:])
    assert states(emulator)[ids[0]] == 'AVAILABLE'


def test_stop_that_ends_in_error_and_wait_timeout_fail_the_task_with_ids(emulator, run_playbook, outdir):
    seed(emulator, fleet(4))
    ids = [d['workspace_id'] for d in fleet(4)]
    emulator.set_faults(stop_fails_to_error={'workspace_ids': [ids[1]]}, stop_delay=0.5)
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids})
    assert result['failed'] is True
    assert result['failed_workspaces'] == [{'workspace_id': ids[1], 'error_code': 'StopFailed', 'state': 'ERROR',
                                            'error_message': 'the desktop is in state ERROR after the stop request instead of STOPPED'}]
    assert result['msg'].startswith('1 of 4 WorkSpaces failed to stop: %s (StopFailed' % ids[1])
    assert sorted(result['stopped']) == sorted(ids[:1] + ids[2:]) and result['changed'] is True

    seed(emulator, fleet(2, prefix='ws-t'))
    slow = [d['workspace_id'] for d in fleet(2, prefix='ws-t')]
    emulator.set_faults(stop_delay=3600, stop_fails_to_error={'workspace_ids': []})  # never STOPPED within the run
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': slow, 'wait_timeout': 3})
    assert result['failed'] is True and result['stopped'] == []
    assert [f['error_code'] for f in result['failed_workspaces']] == ['WaitTimeout', 'WaitTimeout']
    assert 'wait_timeout=3' in result['failed_workspaces'][0]['error_message']


def other_actor_at_the_gate(emulator, emulator_gate, operation, workspace_id, state):
    """Another actor: holds the run's ``operation`` request at the gate in front of the emulator, sets ``workspace_id`` to
    ``state`` meanwhile, then lets the request through: the race is certain, whatever the machine's load. Returns the
    started thread and the list of its errors."""
    emulator_gate.hold(operation)
    errors = []

    def other_actor():
        try:
            emulator_gate.wait_held(1)
            emulator.set_workspace(workspace_id, REGION, state=state)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            errors.append(exc)
        finally:
            emulator_gate.release()

    actor = threading.Thread(target=other_actor)
    actor.start()
    return actor, errors


def test_desktop_stopped_by_someone_else_between_read_and_stop_is_not_a_failure(emulator, emulator_gate, run_playbook, outdir):
    """The module's StopWorkspaces request waits at a gate in front of the emulator until another actor stopped one of
    its desktops."""
    seed(emulator, fleet(3))
    ids = [d['workspace_id'] for d in fleet(3)]
    actor, errors = other_actor_at_the_gate(emulator, emulator_gate, 'StopWorkspaces', ids[0], 'STOPPED')
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'wait_timeout': 60}, env={'AWS_ENDPOINT_URL': emulator_gate.url})
    actor.join()
    assert errors == []
    assert not result.get('failed'), result
    assert ids[0] in result['already_stopped'] and sorted(result['stopped']) == sorted(ids[1:])
    assert ids[0] in stop_requests(emulator)  # we did ask, AWS refused, the re-check explained it
    assert set(states(emulator).values()) == {'STOPPED'}
    refused = [c for c in emulator.calls(operation='DescribeWorkspaces') if c['params'].get('WorkspaceIds') == [ids[0]]]
    assert len(refused) == 1  # exactly one re-describe, of the refused id only


def test_transitional_desktops_are_waited_for_then_stopped(emulator, run_playbook, outdir):
    seed(emulator, [{'workspace_id': 'ws-stopd0001', 'state': 'STOPPED'}, {'workspace_id': 'ws-avail0001'}])
    # STARTING until this test says otherwise: it finishes the start once the module stopped the other desktop, so the
    # module certainly read it STARTING and had to wait for it, whatever the machine's load.
    emulator.set_faults(start_delay=3600)
    boto = emulator.boto3_client('workspaces', region_name=REGION)
    boto.start_workspaces(StartWorkspaceRequests=[{'WorkspaceId': 'ws-stopd0001'}])
    emulator.reset_calls()
    assert states(emulator)['ws-stopd0001'] == 'STARTING'

    def finish_start():
        deadline = time.monotonic() + 300  # a guard against a hang, not a speed requirement
        while time.monotonic() < deadline and not emulator.counts().get('StopWorkspaces'):
            time.sleep(0.05)
        emulator.set_workspace('ws-stopd0001', REGION, state='AVAILABLE')

    starter = threading.Thread(target=finish_start)
    starter.start()
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ['ws-stopd0001', 'ws-avail0001']})
    starter.join()
    assert not result.get('failed'), result
    assert sorted(result['stopped']) == ['ws-avail0001', 'ws-stopd0001']
    assert emulator.counts()['StopWorkspaces'] == 2  # the settled one is stopped in a second request
    # without wait, a transitional desktop is skipped with a reason saying what to do
    boto.start_workspaces(StartWorkspaceRequests=[{'WorkspaceId': 'ws-stopd0001'}])
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ['ws-stopd0001'], 'wait': False})
    assert result['skipped_workspaces'][0]['state'] == 'STARTING' and 'wait=true' in result['skipped_workspaces'][0]['reason']


def test_survives_throttling_and_server_errors(emulator, run_playbook, outdir):
    seed(emulator, fleet(60))
    ids = [d['workspace_id'] for d in fleet(60)]
    emulator.set_faults(throttle_rate=0.3, error_rate=0.05, fault_seed=7, stop_delay=0.2)
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids})
    assert not result.get('failed'), result.get('msg')
    assert sorted(result['stopped']) == sorted(ids)
    assert set(states(emulator).values()) == {'STOPPED'}
    assert emulator.call_report()['counts'].get('StopWorkspaces', 0) >= 3


def test_module_defaults_group_sets_region_and_endpoint(emulator, run_playbook, outdir):
    seed(emulator, fleet(2), region='eu-west-1')
    play = """
    - hosts: localhost
      gather_facts: false
      module_defaults:
        group/fleetops.workspaces.workspaces:
          region: eu-west-1
          endpoint_url: %s
      tasks:
        - name: Stop
          fleetops.workspaces.workspaces_stop:
            workspace_ids: %s
            wait: false
          register: result
        - name: Check
          ansible.builtin.assert:
            that: result.stopped | length == 2
    """ % (emulator.url, json.dumps([d['workspace_id'] for d in fleet(2)]))
    run = run_playbook(play, env={'AWS_REGION': 'us-west-2', 'AWS_DEFAULT_REGION': 'us-west-2'})
    assert run.rc == 0, run
    assert set(states(emulator, region='eu-west-1').values()) <= {'STOPPING', 'STOPPED'}


def test_descriptions_from_workspaces_info_are_planned_from_without_a_second_read(emulator, run_playbook, outdir):
    seed(emulator, fleet(30, tags={'Schedule': 'office-hours'}) + [{'workspace_id': 'ws-stale0001', 'tags': {'Schedule': 'office-hours'}}])
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Find
          fleetops.workspaces.workspaces_info:
            region: us-east-1
            tags: {Schedule: office-hours}
          register: found
        - name: Someone stops one desktop after our read
          ansible.builtin.uri:
            url: %s/_emulator/workspaces/ws-stale0001
            method: POST
            body_format: json
            body: {region: us-east-1, state: STOPPED}
        - name: Forget the calls of the selection
          ansible.builtin.uri:
            url: %s/_emulator/calls
            method: DELETE
        - name: Stop
          fleetops.workspaces.workspaces_stop:
            region: us-east-1
            workspaces: "{{ found.workspaces }}"
            wait: false
            return_workspaces: false
          register: result
        - name: Save
          save_json:
            content: "{{ result | to_json }}"
            dest: %s/result.json
    """ % (emulator.url, emulator.url, outdir)
    run = run_playbook(play)
    assert run.rc == 0, run
    with open(outdir / 'result.json', encoding='utf-8') as handle:
        result = json.load(handle)
    assert len(result['stopped']) == 30 and result['already_stopped'] == ['ws-stale0001']
    assert 'workspaces' not in result
    # no read before the stop: 2 StopWorkspaces, and the only DescribeWorkspaces is the re-check of the refused stale desktop
    assert emulator.counts() == {'DescribeWorkspacesConnectionStatus': 2, 'StopWorkspaces': 2, 'DescribeWorkspaces': 1}
    assert emulator.calls(operation='DescribeWorkspaces')[0]['params']['WorkspaceIds'] == ['ws-stale0001']


def test_workspaces_and_workspace_ids_are_exclusive_and_descriptions_are_checked(emulator, run_playbook, outdir):
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ['ws-abcdefgh1'], 'workspaces': [{'workspace_id': 'ws-abcdefgh1'}]})
    assert result['failed'] is True and 'mutually exclusive' in result['msg']
    result, dummy = run_stop(run_playbook, outdir, {'workspaces': [{'workspace_id': 'ws-abcdefgh1', 'state': 'AVAILABLE'}]})
    assert result['failed'] is True and 'workspaces[0] (ws-abcdefgh1): no running_mode' in result['msg']
    result, dummy = run_stop(run_playbook, outdir, {'wait': False})
    assert result['failed'] is True and 'one of the following is required: workspace_ids, workspaces' in result['msg']
    assert emulator.counts() == {}


# --- min_idle_minutes (issue 15) ---------------------------------------------------------------------------------
IDLE_KINDS = {
    # kind: (seed fields, stopped with min_idle_minutes=60?)
    'idle90': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 90}, True),
    'never': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 'never'}, True),
    'unknown600': ({'connection_state': 'UNKNOWN', 'last_connected_minutes_ago': 600}, True),
    'recent10': ({'connection_state': 'DISCONNECTED', 'last_connected_minutes_ago': 10}, False),
    'connected': ({'connection_state': 'CONNECTED'}, False),
    'no_entry': ({'connection_state': 'NONE'}, False),
}


def idle_fleet(counts, prefix='ws-i', seed_value=1):
    """Desktops of the given kinds ({kind: n}), shuffled so that every batch of 25 mixes them; returns (desktops, kind by id)."""
    kinds = [kind for kind, n in counts.items() for dummy in range(n)]
    random.Random(seed_value).shuffle(kinds)
    desktops, kind_of = [], {}
    for index, kind in enumerate(kinds):
        workspace_id = '%s%08d' % (prefix, index)
        desktops.append(dict(IDLE_KINDS[kind][0], workspace_id=workspace_id))
        kind_of[workspace_id] = kind
    return desktops, kind_of


def test_min_idle_minutes_stops_exactly_the_idle_desktops_at_the_minimum_of_calls(emulator, run_playbook, outdir):
    counts = {'idle90': 40, 'never': 20, 'unknown600': 15, 'recent10': 20, 'connected': 15, 'no_entry': 10}
    desktops, kind_of = idle_fleet(counts)
    stopped_already = fleet(5, prefix='ws-s', state='STOPPED')
    seed(emulator, desktops + stopped_already)
    ids = [d['workspace_id'] for d in desktops + stopped_already]
    idle = sorted(w for w, kind in kind_of.items() if IDLE_KINDS[kind][1])
    assert len(idle) == 75 and len(ids) == 125

    # check mode: the same decision, no StopWorkspaces
    preview, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'min_idle_minutes': 60, 'wait': False}, check=True)
    assert sorted(preview['stopped']) == idle
    assert emulator.counts() == {'DescribeWorkspaces': 5, 'DescribeWorkspacesConnectionStatus': 5}

    emulator.reset_calls()
    result, run = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'min_idle_minutes': 60, 'wait': False})
    assert not result.get('failed'), result
    assert sorted(result['stopped']) == idle and sorted(stop_requests(emulator)) == idle
    # ⌈125/25⌉ reads, ⌈120 candidates/25⌉ checks, ⌈75 stopped/25⌉ stops
    assert emulator.counts() == {'DescribeWorkspaces': 5, 'DescribeWorkspacesConnectionStatus': 5, 'StopWorkspaces': 3}
    assert sorted(result['already_stopped']) == sorted(d['workspace_id'] for d in stopped_already)

    skipped = {s['workspace_id']: s for s in result['skipped_workspaces']}
    assert sorted(skipped) == sorted(w for w, kind in kind_of.items() if not IDLE_KINDS[kind][1])
    for workspace_id, entry in skipped.items():
        kind = kind_of[workspace_id]
        if kind == 'recent10':
            assert 10 <= entry['idle_minutes'] < 60 and entry['connection_state'] == 'DISCONNECTED'
            assert entry['reason'].startswith('idle for less than min_idle_minutes=60: idle %d minutes' % entry['idle_minutes'])
            assert entry['last_known_user_connection_timestamp'] in entry['reason']
        elif kind == 'connected':
            assert entry['reason'] == 'a user is connected (ConnectionState CONNECTED)'
        else:
            assert entry['reason'].startswith('connection status unknown') and entry['connection_state'] is None
    # every stopped desktop carries its last connection time as read (None: never connected)
    described = {w['workspace_id']: w for w in result['workspaces']}
    for workspace_id in idle:
        stamp = described[workspace_id]['last_known_user_connection_timestamp']
        assert (stamp is None) == (kind_of[workspace_id] == 'never')
        if stamp:
            assert described[workspace_id]['idle_minutes'] >= 60 and stamp.endswith('+00:00')
    # one warning per reason, not one per desktop
    output = run.stdout + run.stderr
    assert '20 WorkSpaces skipped, idle for less than min_idle_minutes=60:' in output
    assert '10 WorkSpaces skipped, connection status unknown:' in output
    final = states(emulator)
    assert all(final[w] == 'AVAILABLE' for w in skipped)


def test_min_idle_minutes_follows_an_empty_first_page_of_connection_status(emulator, run_playbook, outdir):
    desktops, kind_of = idle_fleet({'idle90': 10, 'recent10': 10, 'no_entry': 5, 'never': 5}, prefix='ws-p')
    seed(emulator, desktops)
    emulator.set_faults(connection_status_empty_first_page=True)
    ids = [d['workspace_id'] for d in desktops]
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'min_idle_minutes': 60, 'wait': False})
    assert sorted(result['stopped']) == sorted(w for w, kind in kind_of.items() if kind in ('idle90', 'never'))
    unknown = [s['workspace_id'] for s in result['skipped_workspaces'] if s['reason'].startswith('connection status unknown')]
    assert sorted(unknown) == sorted(w for w, kind in kind_of.items() if kind == 'no_entry')  # only those truly without an entry
    checks = emulator.calls(operation='DescribeWorkspacesConnectionStatus')
    assert len(checks) == 4 and [bool(c['params'].get('NextToken')) for c in checks] == [False, True, False, True]


def test_a_user_connecting_between_selection_and_the_batch_is_not_stopped(emulator, run_playbook, outdir):
    desktops, kind_of = idle_fleet({'idle90': 6, 'recent10': 3, 'no_entry': 2}, prefix='ws-c')
    seed(emulator, desktops)
    late = sorted(w for w, kind in kind_of.items() if kind == 'idle90')[0]
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Select the idle desktops
          fleetops.workspaces.workspaces_info:
            region: us-east-1
            min_idle_minutes: 60
          register: found
        - name: A user connects to one of them after the selection
          ansible.builtin.uri:
            url: %s/_emulator/workspaces/%s
            method: POST
            body_format: json
            body: {region: us-east-1, connection_state: CONNECTED}
        - name: Stop them
          fleetops.workspaces.workspaces_stop:
            region: us-east-1
            workspaces: "{{ found.workspaces }}"
            min_idle_minutes: 60
            wait: false
          register: result
        - name: Save
          save_json:
            content: "{{ {'found': found, 'result': result} | to_json }}"
            dest: %s/result.json
    """ % (emulator.url, late, outdir)
    run = run_playbook(play)
    assert run.rc == 0, run
    with open(outdir / 'result.json', encoding='utf-8') as handle:
        saved = json.load(handle)
    found, result = saved['found'], saved['result']
    idle = sorted(w for w, kind in kind_of.items() if kind == 'idle90')
    assert sorted(d['workspace_id'] for d in found['workspaces']) == idle
    assert all(d['idle_minutes'] >= 90 and d['connection_state'] == 'DISCONNECTED' for d in found['workspaces'])
    assert sorted(result['stopped']) == [w for w in idle if w != late]
    assert [(s['workspace_id'], s['reason']) for s in result['skipped_workspaces']] == [(late, 'a user is connected (ConnectionState CONNECTED)')]
    assert late not in stop_requests(emulator) and states(emulator)[late] == 'AVAILABLE'
