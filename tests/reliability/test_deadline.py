# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's overall deadline (``timeout``) under a sustained outage, and credentials expiring mid-run.

Through ansible-playbook on the emulator, checked against its call log and its ground truth. Nothing here asserts
timing: that the run is bounded is proven on a fake clock (tests/unit/plugins/module_utils/test_stop_run.py); here the
outcome lists and the calls sent are checked.
"""
from __future__ import annotations

import random

import pytest

from tests.reliability.conftest import REGION
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import module_play
from tests.reliability.conftest import read_result
from tests.reliability.conftest import seed
from tests.reliability.conftest import sized
from tests.reliability.conftest import states
from tests.reliability.conftest import stop_calls

ERROR_RATE = 0.95
STATUSES = [500, 503]


def first_call_passes_then_all_fail(draws=80):
    """A fault seed for ``errors: {StopWorkspaces: ERROR_RATE}`` under which the first StopWorkspaces request succeeds
    and the next ``draws`` all fail with a 5xx.

    Mirrors how the emulator draws (emulator/faults.py ``pick_fault``: one ``random()`` per faulted call of an operation
    with a rate, then a ``choice`` of the status on a hit; no other operation has a rate here, so no other draw).
    """
    for candidate in range(100000):
        rng = random.Random(candidate)
        if rng.random() < ERROR_RATE:
            continue
        ok = True
        for dummy in range(draws):
            if rng.random() >= ERROR_RATE:
                ok = False
                break
            rng.choice(STATUSES)
        if ok:
            return candidate
    raise AssertionError('no fault seed found')


@pytest.mark.waits
def test_a_sustained_5xx_after_the_first_batch_ends_the_run_at_its_timeout(emulator, run_playbook, outdir):
    count = sized(100, 500)
    desktops = explicit_fleet(count, prefix='ws-d')
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    emulator.set_faults(errors={'StopWorkspaces': ERROR_RATE}, error_statuses=STATUSES, fault_seed=first_call_passes_then_all_fail(),
                        stop_delay=0.2)
    path = outdir / 'deadline.json'
    run = run_playbook(module_play('fleetops.workspaces.workspaces_stop', {
        'workspace_ids': ids, 'timeout': 20, 'concurrent_reads': 1, 'region': REGION}, path))
    assert run.rc == 0, run
    result = read_result(path)
    assert result['failed'] is True
    assert 'The run timeout of 20 seconds passed' in result['msg'] and 'AWS accepted the stop of 25' in result['msg']

    calls = stop_calls(emulator)
    assert calls[0][1] == 'ok' and all(outcome != 'ok' for dummy, outcome, dummy_ids in calls[1:])
    assert result['stopped'] == ids[:25]                          # the first batch, accepted: claimed
    failed = [f['workspace_id'] for f in result['failed_workspaces']]
    assert failed and len(failed) % 25 == 0 and failed == ids[25:25 + len(failed)]
    assert {f['error_code'] for f in result['failed_workspaces']} <= {'InternalFailure', 'ServiceUnavailable'}
    assert result['not_attempted'] == ids[25 + len(failed):] and result['not_attempted']
    sent = {i for dummy, dummy_outcome, batch in calls for i in batch}
    assert not sent & set(result['not_attempted'])               # never sent
    assert result['summary']['not_attempted'] == len(result['not_attempted'])
    final = states(emulator)
    assert {final[w] for w in ids[:25]} <= {'STOPPING', 'STOPPED'}
    assert {final[w] for w in ids[25:]} == {'AVAILABLE'}          # nothing claimed beyond what AWS accepted

    # a second run, the outage over, stops the rest and sends nothing twice
    emulator.set_faults(clear=True, stop_delay=0.2)
    before = calls[-1][0]
    path = outdir / 'rerun.json'
    run = run_playbook(module_play('fleetops.workspaces.workspaces_stop', {'workspace_ids': ids, 'region': REGION}, path))
    rerun = read_result(path)
    assert not rerun.get('failed'), rerun.get('msg')
    assert sorted(rerun['stopped']) == sorted(ids[25:]) and sorted(rerun['already_stopped']) == sorted(ids[:25])
    assert not {i for dummy, dummy_outcome, batch in stop_calls(emulator, since=before) for i in batch} & set(ids[:25])


def test_credentials_expiring_mid_run_fail_fast_and_claim_only_what_was_accepted(emulator, run_playbook, outdir):
    count = sized(100, 500)
    desktops = explicit_fleet(count, prefix='ws-e')
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    batches = -(-count // 25)
    # One read at a time, so the order of calls is known: batches reads, then per batch one check and one stop.
    # Expire from the second stop request: reads (batches) + check 1 + stop 1 + check 2 + stop 2.
    emulator.set_faults(expired_token_from_call=batches + 4, stop_delay=0.2)
    path = outdir / 'expired.json'
    run = run_playbook(module_play('fleetops.workspaces.workspaces_stop', {'workspace_ids': ids, 'concurrent_reads': 1, 'region': REGION}, path))
    assert run.rc == 0, run
    result = read_result(path)
    assert result['failed'] is True
    assert 'no longer accepts the credentials (ExpiredTokenException' in result['msg'] and 'expired' in result['msg']
    assert result['stopped'] == ids[:25]
    assert [(f['workspace_id'], f['error_code']) for f in result['failed_workspaces']] == [(w, 'ExpiredTokenException') for w in ids[25:50]]
    assert result['not_attempted'] == ids[50:]
    calls = emulator.calls()
    assert [c['operation'] for c in calls[batches:]] == ['DescribeWorkspacesConnectionStatus', 'StopWorkspaces'] * 2  # then nothing
    assert calls[-1]['outcome'] == 'ExpiredTokenException'
    final = states(emulator)
    assert {final[w] for w in ids[25:]} == {'AVAILABLE'}

    # fresh credentials: a rerun completes
    emulator.set_faults(clear=True, stop_delay=0.2)
    path = outdir / 'rerun.json'
    run = run_playbook(module_play('fleetops.workspaces.workspaces_stop', {'workspace_ids': ids, 'region': REGION}, path))
    rerun = read_result(path)
    assert not rerun.get('failed'), rerun.get('msg')
    assert sorted(rerun['stopped']) == sorted(ids[25:]) and sorted(rerun['already_stopped']) == sorted(ids[:25])
