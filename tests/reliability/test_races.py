# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Races, at role level: two runs at once over one fleet; desktops stopped by someone else between our read and our
stop request; users who connect between the selection and the stop."""
from __future__ import annotations

import math
import threading
import time

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
from tests.reliability.conftest import wait_until

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
    """Runs ``action`` once the role has described every desktop (its selection), before it stops them."""

    def __init__(self, emulator, ids, action):
        super().__init__(daemon=True)
        self.emulator, self.ids, self.action = emulator, ids, action
        self.error = None
        self.done_at = None
        self.done_seq = None

    def run(self):
        try:
            wait_until(lambda: all_described(self.emulator, self.ids), timeout=600, interval=0.05,
                       what='the role to describe every desktop')
            self.action()
            self.done_at = time.time()
            self.done_seq = last_seq(self.emulator)
        except Exception as e:  # pylint: disable=broad-exception-caught
            self.error = e


def test_two_overlapping_runs_both_succeed_and_report_every_desktop(emulator, start_playbook, outdir, report_metrics):
    desktops = explicit_fleet(OVERLAP_SIZE, tags=TAGS)
    for desktop in desktops[::20]:
        desktop['state'] = 'STOPPED'
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    initially_stopped = {d['workspace_id'] for d in desktops if d.get('state') == 'STOPPED'}
    # Slow stop calls keep both runs' stop phases open long enough to overlap.
    emulator.set_faults(latency_ms={'StopWorkspaces': 600}, stop_delay=1.0)

    runs = [start_playbook(role_play(outdir / ('run%d.json' % n)), extra_vars=role_vars(OVERLAP_SIZE), name='run%d' % n) for n in (1, 2)]
    for run in runs:
        assert run.wait(timeout=900) == 0, errors_in(run.output)
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
    assert both, 'the two runs never asked for the same desktop: they did not overlap'
    report_metrics(desktops=OVERLAP_SIZE, asked_by_both=len(both), seconds=[round(r.elapsed, 1) for r in runs])


def test_desktops_stopped_by_someone_else_before_our_stop_count_as_already_stopped(emulator, run_playbook, outdir, report_metrics):
    desktops = explicit_fleet(ACTOR_SIZE, tags=TAGS)
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    by_control = ids[3::20]   # set STOPPED at once (control endpoint)
    by_api = ids[13::20]      # stopped with StopWorkspaces by another client: STOPPING for 2 s, then STOPPED
    victims = set(by_control) | set(by_api)
    # The module's connection check (skip_connected, on by default) is the last step between its read and its stop:
    # slowing it leaves the other actor time to act in between.
    emulator.set_faults(latency_ms={'DescribeWorkspacesConnectionStatus': 300}, stop_delay=2.0)
    other = emulator.boto3_client('workspaces', region_name=REGION)

    def act():
        for workspace_id in by_control:
            emulator.set_workspace(workspace_id, REGION, state='STOPPED')
        for start in range(0, len(by_api), 25):
            answer = other.stop_workspaces(StopWorkspaceRequests=[{'WorkspaceId': w} for w in by_api[start:start + 25]])
            assert answer['FailedRequests'] == []

    actor = Actor(emulator, ids, act)
    actor.start()
    run = run_playbook(role_play(outdir / 'result.json'), extra_vars=role_vars(ACTOR_SIZE), timeout=900)
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


def test_users_connecting_between_selection_and_stop_are_skipped(emulator, run_playbook, outdir):
    desktops = explicit_fleet(CONNECT_SIZE, tags=TAGS, connection_state='DISCONNECTED')
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    connecting = ids[1::10]
    latency = 1.5
    emulator.set_faults(latency_ms={'DescribeWorkspacesConnectionStatus': latency * 1000}, stop_delay=0.5)

    def connect():
        for workspace_id in connecting:
            emulator.set_workspace(workspace_id, REGION, connection_state='CONNECTED')

    actor = Actor(emulator, ids, connect)
    actor.start()
    run = run_playbook(role_play(outdir / 'result.json'), extra_vars=role_vars(CONNECT_SIZE), timeout=900)
    actor.join(timeout=60)
    assert actor.error is None, actor.error
    assert run.rc == 0, errors_in(run.stdout + run.stderr)
    result = read_result(outdir / 'result.json')['regions'][REGION]

    # The users connected after the selection's reads and before the connection check read their desktops.
    checks = emulator.calls(operation='DescribeWorkspacesConnectionStatus')
    if checks:
        assert actor.done_at < checks[0]['time'] + latency, 'the users connected after the connection check: the race was not set up'
    skipped = {s['workspace_id']: s for s in result['skipped_workspaces']}
    assert sorted(skipped) == sorted(connecting), 'desktops whose user connected before the check must be skipped'
    assert all('connected' in s['reason'] for s in skipped.values())
    assert set(sent_ids(stop_calls(emulator))) == set(ids) - set(connecting)
    after = {w['workspace_id']: w for w in emulator.workspaces(region=REGION)}
    for workspace_id in connecting:
        assert (after[workspace_id]['state'], after[workspace_id]['connection_state']) == ('AVAILABLE', 'CONNECTED')
    assert sorted(result['stopped']) == sorted(set(ids) - set(connecting)) and result['failed_workspaces'] == []
    assert len(checks) == math.ceil(CONNECT_SIZE / 25)  # one connection check per 25 candidates
