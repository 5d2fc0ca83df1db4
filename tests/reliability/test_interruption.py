# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interruption: a role run killed with SIGKILL (its whole process group) right after its first StopWorkspaces batch,
then run again, finishes the job without sending a stop for any desktop that was already STOPPING or STOPPED."""
from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import REGION
from tests.reliability.conftest import accepted_stops
from tests.reliability.conftest import alive
from tests.reliability.conftest import errors_in
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import kill_pids
from tests.reliability.conftest import last_seq
from tests.reliability.conftest import module_processes
from tests.reliability.conftest import read_result
from tests.reliability.conftest import role_play
from tests.reliability.conftest import seed
from tests.reliability.conftest import sized
from tests.reliability.conftest import states
from tests.reliability.conftest import stop_calls
from tests.reliability.conftest import wait_for_quiet_log
from tests.reliability.conftest import wait_until

FLEET_SIZE = sized(250, 2000)


@pytest.mark.parametrize('kill_scope', ['process-group', 'process-tree'])
def test_killed_run_then_rerun_finishes_without_resending_stops(emulator, run_playbook, start_playbook, outdir, kill_scope, report_metrics):
    """``process-group``: SIGKILL to ansible-playbook's process group, as asked. ansible-core's workers run in sessions
    of their own (WORKER_SESSION_ISOLATION), so the module process survives it and finishes its own run; the test
    waits for it, then runs again. ``process-tree``: SIGKILL to every process of the run (a container or pod kill), so
    the module dies between two batches; the second run must finish the job."""
    desktops = explicit_fleet(FLEET_SIZE, tags={'Schedule': 'nightly'})
    for desktop in desktops[::10]:
        desktop['state'] = 'STOPPED'
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    stoppable = {d['workspace_id'] for d in desktops if d.get('state') != 'STOPPED'}
    # Slow stop calls, so that the kill lands while batches remain. With process-tree, the stops the killed run got
    # accepted take 20 s, so those desktops are still STOPPING when the second run reads them (checked below).
    emulator.set_faults(latency_ms={'StopWorkspaces': 400}, stop_delay=20.0 if kill_scope == 'process-tree' else 1.0)
    extra_vars = {'workspaces_stop_regions': [REGION], 'workspaces_stop_tags': {'Schedule': 'nightly'}, 'workspaces_stop_max_count': FLEET_SIZE}

    first = start_playbook(role_play(outdir / 'first.json'), extra_vars=extra_vars, name='first')
    wait_until(lambda: any(outcome == 'ok' for dummy_seq, outcome, dummy_ids in stop_calls(emulator)) or first.proc.poll() is not None,
               timeout=600, what='the first accepted StopWorkspaces batch')
    if kill_scope == 'process-group':
        tree = first.descendants()
        first.kill_group()
    else:
        tree = first.kill_tree()
    first.wait(timeout=60)
    assert first.rc == -9, first
    assert tree, 'no worker or module process was found under ansible-playbook'
    # A module that survived the kill (process-group) runs to its end before the second run starts. Its worker then
    # blocks for ever writing the result to the dead ansible-playbook (it holds both ends of that pipe): killed here.
    if kill_scope == 'process-tree':
        wait_until(lambda: not alive(tree), timeout=30, interval=0.1, what='every process of the killed run to end')
    wait_until(lambda: not module_processes(tree), timeout=600, interval=0.2, what='the module of the killed run to end')
    survivors = alive(tree)
    kill_pids(survivors)
    wait_for_quiet_log(emulator, quiet=1.0)  # a request already in flight may still land

    accepted_first = accepted_stops(stop_calls(emulator))
    assert accepted_first, 'the first run was killed before any stop was accepted'
    if kill_scope == 'process-tree':
        assert len(accepted_first) < len(stoppable), 'the first run sent every stop request before the kill; nothing was interrupted'
    dumps = {w['workspace_id']: w for w in emulator.workspaces(region=REGION)}
    snapshot_at = time.time()
    snapshot = {w: d['state'] for w, d in dumps.items()}
    already = {w for w in ids if snapshot[w] in ('STOPPING', 'STOPPED')}
    stopping_at_rerun = {w for w in ids if snapshot[w] == 'STOPPING'}
    assert set(accepted_first) <= already
    if kill_scope == 'process-tree':
        assert stopping_at_rerun, 'no desktop is STOPPING any more: the second run cannot show that it leaves them alone'
        stopping_until = snapshot_at + min(dumps[w]['pending']['in_seconds'] for w in stopping_at_rerun)
    emulator.set_faults(stop_delay=0.5)  # the second run's own stops

    # The second run, with the same variables, completes.
    since = last_seq(emulator)
    started = time.monotonic()
    run = run_playbook(role_play(outdir / 'second.json'), extra_vars=extra_vars, timeout=900)
    rerun_seconds = time.monotonic() - started
    assert run.rc == 0, errors_in(run.stdout + run.stderr)
    result = read_result(outdir / 'second.json')['regions'][REGION]

    if kill_scope == 'process-tree':
        # The second run read the desktops (selection and module) while the killed run's ones were still STOPPING.
        reads = [c['time'] + c['duration_ms'] / 1000 for c in emulator.calls(operation='DescribeWorkspaces', since=since)
                 if set(c['params'].get('WorkspaceIds', [])) & stopping_at_rerun]
        assert len(reads) >= 2 and sorted(reads)[1] < stopping_until, 'the second run read the desktops after they had stopped'
    second_calls = stop_calls(emulator, since=since)
    sent_again = {w for dummy_seq, dummy_outcome, batch in second_calls for w in batch}
    assert sent_again & already == set(), 'the second run sent StopWorkspaces for desktops already STOPPING/STOPPED: %s' % sorted(sent_again & already)[:10]
    accepted_second = accepted_stops(second_calls)
    assert set(accepted_second) == stoppable - set(accepted_first)
    assert all(count == 1 for count in accepted_second.values())

    # Every desktop is STOPPED; the second run reports the rest as stopped and the others (including those still
    # STOPPING when it started) as already stopped, each exactly once, nothing failed.
    assert set(states(emulator).values()) == {'STOPPED'}
    assert set(result['stopped']) == set(accepted_second)
    assert set(result['already_stopped']) == already
    assert stopping_at_rerun <= set(result['already_stopped'])
    assert len(result['stopped']) + len(result['already_stopped']) == FLEET_SIZE
    assert result['failed_workspaces'] == [] and result['skipped_workspaces'] == []
    report_metrics(desktops=FLEET_SIZE, stoppable=len(stoppable), accepted_before_rerun=len(accepted_first), stopping_at_rerun=len(stopping_at_rerun),
                   sent_by_rerun=len(sent_again), processes_left_after_kill=len(survivors), rerun_seconds=round(rerun_seconds, 1))
