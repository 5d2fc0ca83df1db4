# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Races, at role level: two runs at once over one fleet; desktops stopped by someone else between our read and our
stop request; users who connect between the selection and the stop."""
from __future__ import annotations

import math
import threading

from tests.reliability.conftest import REGION
from tests.reliability.conftest import errors_in
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import last_seq
from tests.reliability.conftest import read_result
from tests.reliability.conftest import role_play
from tests.reliability.conftest import seed
from tests.reliability.conftest import sent_ids
from tests.reliability.conftest import sized
from tests.reliability.conftest import states
from tests.reliability.conftest import stop_calls

OVERLAP_SIZE = sized(250, 2000)
ACTOR_SIZE = sized(300, 2000)
CONNECT_SIZE = sized(100, 1000)
TAGS = {'Schedule': 'nightly'}


def role_vars(size, **extra):
    variables = {'workspaces_stop_regions': [REGION], 'workspaces_stop_tags': TAGS, 'workspaces_stop_max_count': size}
    variables.update(extra)
    return variables


def outcomes(region_result):
    """{id: [outcomes]} of one region's result (a list, so that a desktop reported twice shows)."""
    found = {}
    for outcome, ids in (('stopped', region_result['stopped']), ('already_stopped', region_result['already_stopped']),
                         ('skipped', [s['workspace_id'] for s in region_result['skipped_workspaces']]),
                         ('failed', [f['workspace_id'] for f in region_result['failed_workspaces']]),
                         ('missing', region_result['missing'])):
        for workspace_id in ids:
            found.setdefault(workspace_id, []).append(outcome)
    return found


def all_described(emulator, ids):
    """True once every id was described (DescribeWorkspaces by id): the role's one read, before its stop requests."""
    seen = dict.fromkeys(ids, 0)
    for call in emulator.calls(operation='DescribeWorkspaces'):
        if call['outcome'] == 'ok':
            for workspace_id in call['params'].get('WorkspaceIds', []):
                if workspace_id in seen:
                    seen[workspace_id] += 1
    return min(seen.values()) >= 1


class Actor(threading.Thread):
    """Runs ``action`` while the role's first call of ``operation`` waits at the gate (so after the role described
    every desktop, its selection, and before that call reaches the emulator), then lets the role go on."""

    def __init__(self, emulator, gate, ids, action, operation):
        super().__init__(daemon=True)
        self.emulator, self.gate, self.ids, self.action = emulator, gate, ids, action
        self.error = None
        self.done_seq = None
        gate.hold(operation)

    def run(self):
        try:
            self.gate.wait_held(1, timeout=600)
            assert all_described(self.emulator, self.ids), 'the role reached its first held call before describing every desktop'
            self.action()
            self.done_seq = last_seq(self.emulator)
        except Exception as e:  # pylint: disable=broad-exception-caught
            self.error = e
        finally:
            self.gate.release()


def test_two_overlapping_runs_both_succeed_and_report_every_desktop(emulator, emulator_gate, start_playbook, outdir, report_metrics):
    desktops = explicit_fleet(OVERLAP_SIZE, tags=TAGS)
    for desktop in desktops[::20]:
        desktop['state'] = 'STOPPED'
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    initially_stopped = {d['workspace_id'] for d in desktops if d.get('state') == 'STOPPED'}
    emulator.set_faults(stop_delay=1.0)
    # The overlap is made certain: each run's first StopWorkspaces waits at the gate until the other run's first one is
    # there too, so both runs planned from a read made before either stopped anything.
    emulator_gate.hold('StopWorkspaces')

    def release_when_both_wait():
        try:
            emulator_gate.wait_held(2, timeout=600)
        finally:
            emulator_gate.release()

    releaser = threading.Thread(target=release_when_both_wait, daemon=True)
    releaser.start()
    runs = [start_playbook(role_play(outdir / ('run%d.json' % n)), extra_vars=role_vars(OVERLAP_SIZE), name='run%d' % n,
                           env={'AWS_ENDPOINT_URL': emulator_gate.url}) for n in (1, 2)]
    for run in runs:
        assert run.wait(timeout=900) == 0, errors_in(run.output)
    releaser.join(timeout=60)
    assert emulator_gate.held_total == 2 and emulator_gate.guard_expired == 0
    results = [outcomes(read_result(outdir / ('run%d.json' % n))['regions'][REGION]) for n in (1, 2)]

    assert set(states(emulator).values()) == {'STOPPED'}
    for workspace_id in ids:
        first, second = results[0].get(workspace_id), results[1].get(workspace_id)
        assert first and len(first) == 1 and second and len(second) == 1, (workspace_id, first, second)
        pair = sorted([first[0], second[0]])
        if workspace_id in initially_stopped:
            assert pair == ['already_stopped', 'already_stopped'], (workspace_id, pair)
        else:
            assert pair in (['already_stopped', 'stopped'], ['stopped', 'stopped']), (workspace_id, pair)
    # The race did happen: some desktops were asked to stop by both runs; the later request was refused, re-checked
    # and reported as already stopped (the pair check above).
    sent = sent_ids(stop_calls(emulator))
    both = {w for w in set(sent) if sent.count(w) > 1}
    assert both == set(ids) - initially_stopped, 'both runs read every desktop before either stopped one: both ask for each'
    report_metrics(desktops=OVERLAP_SIZE, asked_by_both=len(both), seconds=[round(r.elapsed, 1) for r in runs])


def test_desktops_stopped_by_someone_else_before_our_stop_count_as_already_stopped(emulator, emulator_gate, run_playbook, outdir,
                                                                                   report_metrics):
    desktops = explicit_fleet(ACTOR_SIZE, tags=TAGS)
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    by_control = ids[3::20]   # set STOPPED at once (control endpoint)
    by_api = ids[13::20]      # stopped with StopWorkspaces by another client: STOPPING for 2 s, then STOPPED
    victims = set(by_control) | set(by_api)
    # The other actor acts while the role's first StopWorkspaces waits at the gate: after our read, before our stops.
    emulator.set_faults(stop_delay=2.0)
    other = emulator.boto3_client('workspaces', region_name=REGION)

    def act():
        for workspace_id in by_control:
            emulator.set_workspace(workspace_id, REGION, state='STOPPED')
        for start in range(0, len(by_api), 25):
            answer = other.stop_workspaces(StopWorkspaceRequests=[{'WorkspaceId': w} for w in by_api[start:start + 25]])
            assert answer['FailedRequests'] == []

    actor = Actor(emulator, emulator_gate, ids, act, 'StopWorkspaces')
    actor.start()
    run = run_playbook(role_play(outdir / 'result.json'), extra_vars=role_vars(ACTOR_SIZE), timeout=900, env={'AWS_ENDPOINT_URL': emulator_gate.url})
    actor.join(timeout=60)
    assert actor.error is None, actor.error
    assert run.rc == 0, errors_in(run.stdout + run.stderr)
    result = read_result(outdir / 'result.json')['regions'][REGION]

    ours = stop_calls(emulator, since=actor.done_seq)
    assert ours and not [c for c in stop_calls(emulator) if c[0] <= actor.done_seq and set(c[2]) - set(by_api)], \
        'the run sent a stop request before the other actor was done: the race was not set up'
    # We did ask for the victims (our read was older), AWS refused them, the re-check found them STOPPING/STOPPED.
    assert victims <= set(sent_ids(ours))
    assert sorted(result['already_stopped']) == sorted(victims), 'desktops stopped by another actor must be reported as already stopped'
    assert result['failed_workspaces'] == [], result['failed_workspaces'][:5]
    assert sorted(result['stopped']) == sorted(set(ids) - victims)
    assert set(states(emulator).values()) == {'STOPPED'}
    # The re-check described the refused desktops only (not the whole fleet again).
    first_stop = ours[0][0]
    rechecked = [c for c in emulator.calls(operation='DescribeWorkspaces', since=first_stop)
                 if c['params'].get('WorkspaceIds') and set(c['params']['WorkspaceIds']) <= victims]
    assert {w for c in rechecked for w in c['params']['WorkspaceIds']} == victims
    report_metrics(desktops=ACTOR_SIZE, stopped_by_other=len(victims))


def test_users_connecting_between_selection_and_stop_are_skipped(emulator, emulator_gate, run_playbook, outdir):
    desktops = explicit_fleet(CONNECT_SIZE, tags=TAGS, connection_state='DISCONNECTED')
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    connecting = ids[1::10]
    emulator.set_faults(stop_delay=0.5)

    def connect():
        for workspace_id in connecting:
            emulator.set_workspace(workspace_id, REGION, connection_state='CONNECTED')

    # The users connect while the role's first connection check waits at the gate: after the selection's reads, before
    # any check reads their desktops.
    actor = Actor(emulator, emulator_gate, ids, connect, 'DescribeWorkspacesConnectionStatus')
    actor.start()
    run = run_playbook(role_play(outdir / 'result.json'), extra_vars=role_vars(CONNECT_SIZE), timeout=900, env={'AWS_ENDPOINT_URL': emulator_gate.url})
    actor.join(timeout=60)
    assert actor.error is None, actor.error
    assert run.rc == 0, errors_in(run.stdout + run.stderr)
    result = read_result(outdir / 'result.json')['regions'][REGION]
    checks = emulator.calls(operation='DescribeWorkspacesConnectionStatus')
    assert checks and checks[0]['seq'] > actor.done_seq  # the first check reached the emulator after the users connected
    skipped = {s['workspace_id']: s for s in result['skipped_workspaces']}
    assert sorted(skipped) == sorted(connecting), 'desktops whose user connected before the check must be skipped'
    assert all('connected' in s['reason'] for s in skipped.values())
    assert set(sent_ids(stop_calls(emulator))) == set(ids) - set(connecting)
    after = {w['workspace_id']: w for w in emulator.workspaces(region=REGION)}
    for workspace_id in connecting:
        assert (after[workspace_id]['state'], after[workspace_id]['connection_state']) == ('AVAILABLE', 'CONNECTED')
    assert sorted(result['stopped']) == sorted(set(ids) - set(connecting)) and result['failed_workspaces'] == []
    assert len(checks) == math.ceil(CONNECT_SIZE / 25)  # one connection check per 25 candidates
