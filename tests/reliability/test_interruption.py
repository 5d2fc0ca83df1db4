# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interruption: a role run killed with SIGKILL (its whole process group) right after its first StopWorkspaces batch,
then run again, finishes the job without sending a stop for any desktop that was already STOPPING or STOPPED."""
from __future__ import annotations

import os
import threading
import time
import types

import ansible_runner
import pytest

from tests.functional.test_awx_runner import private_data_dir
from tests.functional.test_awx_runner import survey_answers

from tests.reliability.conftest import REGION
from tests.reliability.conftest import accepted_stops
from tests.reliability.conftest import alive
from tests.reliability.conftest import descendants
from tests.reliability.conftest import errors_in
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import kill_pids
from tests.reliability.conftest import last_seq
from tests.reliability.conftest import module_processes
from tests.reliability.conftest import read_result
from tests.reliability.conftest import role_play
from tests.reliability.conftest import seed
from tests.reliability.conftest import sent_ids
from tests.reliability.conftest import sized
from tests.reliability.conftest import states
from tests.reliability.conftest import stop_calls
from tests.reliability.conftest import wait_for_quiet_log
from tests.reliability.conftest import wait_until

FLEET_SIZE = sized(250, 2000)


def read_since(emulator, since):
    """The ids that successful DescribeWorkspaces calls (by id) returned after call ``since``."""
    return {w for c in emulator.calls(operation='DescribeWorkspaces', since=since) if c['outcome'] == 'ok'
            for w in c['params'].get('WorkspaceIds', [])}


@pytest.mark.parametrize('kill_scope', ['process-group', 'process-tree'])
def test_killed_run_then_rerun_finishes_without_resending_stops(emulator, emulator_gate, run_playbook, start_playbook, outdir, kill_scope,
                                                                report_metrics):
    """``process-group``: SIGKILL to ansible-playbook's process group, as asked. ansible-core's workers run in sessions
    of their own (WORKER_SESSION_ISOLATION), so the module process survives the kill; it notices that ansible-playbook is
    gone and sends no further batch (it ends within seconds); the test waits for it, then runs again. ``process-tree``:
    SIGKILL to every process of the run (a container or pod kill), so the module dies between two batches; the second run
    must finish the job."""
    desktops = explicit_fleet(FLEET_SIZE, tags={'Schedule': 'nightly'})
    for desktop in desktops[::10]:
        desktop['state'] = 'STOPPED'
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    stoppable = {d['workspace_id'] for d in desktops if d.get('state') != 'STOPPED'}
    # The kill lands while batches remain: the run's second StopWorkspaces waits at the gate until the kill. With
    # process-tree, the stops the killed run got accepted stay STOPPING until this test ends them, after the second run
    # read them (below).
    emulator.set_faults(stop_delay=3600 if kill_scope == 'process-tree' else 1.0)
    emulator_gate.hold('StopWorkspaces', after=1)
    extra_vars = {'workspaces_stop_regions': [REGION], 'workspaces_stop_tags': {'Schedule': 'nightly'}, 'workspaces_stop_max_count': FLEET_SIZE}

    first = start_playbook(role_play(outdir / 'first.json'), extra_vars=extra_vars, name='first', env={'AWS_ENDPOINT_URL': emulator_gate.url})
    emulator_gate.wait_held(1, timeout=600)
    assert any(outcome == 'ok' for dummy_seq, outcome, dummy_ids in stop_calls(emulator)), 'the first StopWorkspaces batch was not accepted'
    if kill_scope == 'process-group':
        tree = first.descendants()
        first.kill_group()
    else:
        tree = first.kill_tree()
    first.wait(timeout=60)
    assert first.rc == -9, first
    assert tree, 'no worker or module process was found under ansible-playbook'
    # A module that survived the kill (process-group) stops sending and ends before the second run starts. Its worker (a
    # plain task here, not the role's planner) may then block writing the result to the dead ansible-playbook: killed here.
    if kill_scope == 'process-tree':
        wait_until(lambda: not alive(tree), timeout=30, interval=0.1, what='every process of the killed run to end')
    emulator_gate.release()  # the held batch was sent before the kill: AWS may still carry it out
    wait_until(lambda: not module_processes(tree), timeout=600, interval=0.2, what='the module of the killed run to end')
    survivors = alive(tree)
    kill_pids(survivors)
    wait_for_quiet_log(emulator, quiet=1.0)  # a request already in flight may still land

    accepted_first = accepted_stops(stop_calls(emulator))
    assert accepted_first, 'the first run was killed before any stop was accepted'
    if kill_scope == 'process-tree':
        assert len(accepted_first) < len(stoppable), 'the first run sent every stop request before the kill; nothing was interrupted'
    snapshot = {w['workspace_id']: w['state'] for w in emulator.workspaces(region=REGION)}
    already = {w for w in ids if snapshot[w] in ('STOPPING', 'STOPPED')}
    stopping_at_rerun = {w for w in ids if snapshot[w] == 'STOPPING'}
    assert set(accepted_first) <= already
    if kill_scope == 'process-tree':
        assert stopping_at_rerun, 'no desktop is STOPPING any more: the second run cannot show that it leaves them alone'
    emulator.set_faults(stop_delay=0.5)  # the second run's own stops

    # The second run, with the same variables, completes. With process-tree, the killed run's desktops are STOPPING (for
    # an hour) until the second run has read them all; then this test lets them reach STOPPED, which it waits for.
    since = last_seq(emulator)
    errors = []

    def finish_the_killed_runs_stops():
        try:
            wait_until(lambda: stopping_at_rerun <= read_since(emulator, since), timeout=600, what='the second run to read the STOPPING desktops')
            for workspace_id in sorted(stopping_at_rerun):
                emulator.set_workspace(workspace_id, REGION, state='STOPPED')
        except Exception as exc:  # pylint: disable=broad-exception-caught
            errors.append(exc)

    finisher = threading.Thread(target=finish_the_killed_runs_stops, daemon=True)
    if kill_scope == 'process-tree':
        finisher.start()
    started = time.monotonic()
    run = run_playbook(role_play(outdir / 'second.json'), extra_vars=extra_vars, timeout=900)
    rerun_seconds = time.monotonic() - started
    if kill_scope == 'process-tree':
        finisher.join(timeout=60)
        assert errors == [], errors
    assert run.rc == 0, errors_in(run.stdout + run.stderr)
    result = read_result(outdir / 'second.json')['regions'][REGION]
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


# -- AWX cancel ---------------------------------------------------------------------------------------------------------
CANCEL_SIZE = sized(500, 2000)


def process_kinds(pids):
    """{pid: short description} of the live processes among ``pids`` (for assertion messages)."""
    kinds = {}
    for pid in alive(pids):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                argv = handle.read().split(b'\0')
        except OSError:
            continue
        text = ' '.join(a.decode('utf-8', 'replace') for a in argv if a)
        kinds[pid] = 'module ' + text.rsplit('/', 1)[-1] if 'AnsiballZ_' in text else text[:120]
    return kinds


def test_awx_cancel_after_the_first_accepted_batch_then_rerun_stops_the_rest(emulator, emulator_gate, collections_path, tmp_path,
                                                                             report_metrics):
    """An AWX job cancelled through ansible-runner's cancel_callback once the emulator accepted the first StopWorkspaces
    batch (the second one waits at a gate in front of the emulator, so the cancel always lands between two batches):
    the job is ``canceled``; no process of the job keeps running; a rerun stops the rest without sending a stop request
    for any desktop that was already STOPPING or STOPPED."""
    desktops = explicit_fleet(CANCEL_SIZE, tags={'Schedule': 'nightly'})
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    emulator.set_faults(stop_delay=0.5)
    emulator_gate.hold('StopWorkspaces', after=1)
    answers = survey_answers(workspaces_stop_regions=REGION, workspaces_stop_tags='Schedule=nightly', workspaces_stop_max_count=CANCEL_SIZE)
    through_gate = types.SimpleNamespace(url=emulator_gate.url)
    before = set(descendants(os.getpid()))  # the session's emulator server and anything else not of this job
    job_tree = set()

    def cancel_callback():
        job_tree.update(set(descendants(os.getpid())) - before)  # while the job's processes are still linked to it
        return any(outcome == 'ok' for dummy_seq, outcome, dummy_ids in stop_calls(emulator))

    job = private_data_dir(tmp_path / 'job', through_gate, collections_path, answers)
    runner = ansible_runner.run(private_data_dir=job, playbook='stop_workspaces.yml', ident='job', quiet=True, cancel_callback=cancel_callback)
    assert runner.status == 'canceled', (runner.status, runner.rc)
    assert job_tree, 'no process of the job was seen'

    # Nothing of the job may keep running. ansible-runner SIGKILLs ansible-playbook's process group; the processes
    # that survive it are collected here, then killed (by pid) so that the rest of the scenario stays controlled.
    survivors = {}
    try:
        wait_until(lambda: not alive(job_tree), timeout=20, interval=0.1, what='every process of the cancelled job to end')
    except AssertionError:
        survivors = process_kinds(job_tree)
    kill_pids(list(job_tree))
    wait_until(lambda: not alive(job_tree), timeout=30, interval=0.1, what='the killed processes to end')
    # The batch held at the gate was sent before the cancel: release it, as AWS would still handle it.
    emulator_gate.release()
    wait_until(lambda: emulator_gate.total_in_flight == 0, timeout=60, what='the held request to land')

    first = stop_calls(emulator)
    accepted_first = accepted_stops(first)
    assert accepted_first and len(accepted_first) < CANCEL_SIZE, 'the cancel did not land between two batches'
    snapshot = states(emulator)
    already = {w for w in ids if snapshot[w] in ('STOPPING', 'STOPPED')}
    assert set(accepted_first) <= already

    # The rerun: the same job template, launched again.
    since = last_seq(emulator)
    rerun = ansible_runner.run(private_data_dir=private_data_dir(tmp_path / 'rerun', emulator, collections_path, answers),
                               playbook='stop_workspaces.yml', ident='rerun', quiet=True)
    assert (rerun.status, rerun.rc) == ('successful', 0), rerun.stdout.read()[-6000:]
    second = stop_calls(emulator, since=since)
    sent_again = set(sent_ids(second))
    assert sent_again & already == set(), 'the rerun sent StopWorkspaces for desktops already STOPPING/STOPPED: %s' % sorted(sent_again & already)[:10]
    assert sent_again == set(ids) - already
    assert all(count == 1 for count in accepted_stops(first + second).values())
    assert set(states(emulator).values()) == {'STOPPED'}
    report_metrics(desktops=CANCEL_SIZE, accepted_before_cancel=len(accepted_first), stopping_or_stopped_at_rerun=len(already),
                   sent_by_rerun=len(sent_again), job_processes=len(job_tree), survivors=sorted(survivors.values()))
    assert survivors == {}, 'processes of the cancelled job kept running after it ended: %s' % survivors
