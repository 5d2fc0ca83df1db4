# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throttling and server errors on every operation: a role run over a whole fleet still stops every stoppable desktop,
reports each desktop exactly once, and its report matches the emulator's final state desktop by desktop."""
from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import DIRECTORY
from tests.reliability.conftest import KEEP
from tests.reliability.conftest import REGION
from tests.reliability.conftest import accepted_stops
from tests.reliability.conftest import errors_in
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import fault_summary
from tests.reliability.conftest import module_play
from tests.reliability.conftest import read_result
from tests.reliability.conftest import role_play
from tests.reliability.conftest import seed
from tests.reliability.conftest import sized
from tests.reliability.conftest import states
from tests.reliability.conftest import stop_calls

FLEET_SIZE = sized(1000, 10000)  # CI size: every operation still faulted; the 10,000-desktop run is make soak
THROTTLE_RATE = 0.3
ERROR_RATE = 0.05
STOPPABLE_STATES = ('AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'ERROR')


def fleet_spec(size):
    """Mixed states, running modes and connections; 2% opted out by tag, 3% not selected (no Schedule tag)."""
    opted_out = size // 50
    untagged = size * 3 // 100
    common = {
        'running_modes': {'AUTO_STOP': 0.8, 'MANUAL': 0.1, 'ALWAYS_ON': 0.1},
        'states': {'AVAILABLE': 0.8, 'STOPPED': 0.1, 'ERROR': 0.02, 'IMPAIRED': 0.02, 'SUSPENDED': 0.03, 'ADMIN_MAINTENANCE': 0.03},
        'connection_states': {'DISCONNECTED': 0.9, 'CONNECTED': 0.05, 'NONE': 0.05},
    }
    return [
        dict(common, directory_id=DIRECTORY, count=size - opted_out - untagged, user_prefix='night', tags={'Schedule': 'nightly'}),
        dict(common, directory_id='d-2222222222', count=opted_out, user_prefix='keep', tags={'Schedule': 'nightly', KEEP: 'yes'}),
        dict(common, directory_id='d-3333333333', count=untagged, user_prefix='other', tags={'Team': 'other'}),
    ]


def expected_outcome(desktop):
    """What the role must report for one seeded desktop (README state table, opt-out tag, skip_connected)."""
    tags = desktop['tags']
    if 'Schedule' not in tags:
        return 'not_selected'
    if KEEP in tags:
        return 'excluded'
    if desktop['state'] == 'STOPPED':
        return 'already_stopped'
    if desktop['state'] not in STOPPABLE_STATES or desktop['running_mode'] == 'ALWAYS_ON':
        return 'skipped'
    if desktop['connection_state'] == 'CONNECTED':
        return 'skipped'
    return 'stopped'


@pytest.mark.waits
def test_role_over_a_throttled_fleet_stops_everything_and_reports_each_desktop_once(emulator, run_playbook, outdir, report_metrics):
    seeded = seed(emulator, directories=fleet_spec(FLEET_SIZE))
    assert len(seeded) == FLEET_SIZE
    expected = {d['workspace_id']: expected_outcome(d) for d in seeded}
    initial = {d['workspace_id']: d['state'] for d in seeded}
    emulator.set_faults(throttle_rate=THROTTLE_RATE, error_rate=ERROR_RATE, fault_seed=20240611, stop_delay=0.2)

    result_path = outdir / 'result.json'
    started = time.monotonic()
    run = run_playbook(role_play(result_path), timeout=1800, extra_vars={
        'workspaces_stop_regions': [REGION], 'workspaces_stop_tags': {'Schedule': 'nightly'},
        'workspaces_stop_max_count': FLEET_SIZE})
    elapsed = time.monotonic() - started
    assert run.rc == 0, errors_in(run.stdout + run.stderr)
    result = read_result(result_path)
    region = result['regions'][REGION]

    # Faults really hit every operation the run made.
    calls = emulator.calls()
    faults = fault_summary(calls)
    for operation in ('GetResources', 'DescribeWorkspaces', 'DescribeWorkspacesConnectionStatus', 'StopWorkspaces'):
        assert faults[operation]['throttled'] > 0, (operation, faults)
    assert sum(f['server_errors'] for f in faults.values()) > 0, faults

    # Each selected, not excluded desktop is reported exactly once, in the outcome the state table gives it.
    reported = {}
    for outcome, ids in (('stopped', region['stopped']), ('already_stopped', region['already_stopped']),
                         ('skipped', [s['workspace_id'] for s in region['skipped_workspaces']]),
                         ('failed', [f['workspace_id'] for f in region['failed_workspaces']]), ('missing', region['missing']),
                         ('excluded', [e['workspace_id'] for e in result['excluded']])):
        for workspace_id in ids:
            assert workspace_id not in reported, '%s reported twice: %s and %s' % (workspace_id, reported[workspace_id], outcome)
            reported[workspace_id] = outcome
    should_report = {w: outcome for w, outcome in expected.items() if outcome != 'not_selected'}
    wrong = {w: (reported.get(w), outcome) for w, outcome in should_report.items() if reported.get(w) != outcome}
    assert not wrong, 'desktops reported wrongly (reported, expected): %s' % dict(list(wrong.items())[:10])
    assert set(reported) == set(should_report)
    assert region['failed_workspaces'] == [] and region['not_attempted'] == [] and result['failed_regions'] == []
    assert result['totals']['stopped'] == sum(1 for o in expected.values() if o == 'stopped')

    # The report matches the emulator's final state, desktop by desktop.
    final = states(emulator)
    for workspace_id, outcome in expected.items():
        if outcome in ('stopped', 'already_stopped'):
            assert final[workspace_id] == 'STOPPED', (workspace_id, outcome, final[workspace_id])
        else:
            assert final[workspace_id] == initial[workspace_id], (workspace_id, outcome, initial[workspace_id], final[workspace_id])

    # At most one accepted stop request per desktop, exactly one for each desktop reported stopped, none for the others.
    stops = stop_calls(emulator)
    accepted = accepted_stops(stops)
    assert {w for w, n in accepted.items() if n > 1} == set()
    assert set(accepted) == {w for w, o in expected.items() if o == 'stopped'}
    assert max(len(ids) for dummy_seq, dummy_outcome, ids in stops) <= 25

    report_metrics(desktops=FLEET_SIZE, seconds=round(elapsed, 1), calls=len(calls), faults_injected=sum(1 for c in calls if c['injected']),
                   stop_calls=len(stops), per_operation=faults)


def test_transient_502_and_504_are_retried_like_other_server_errors(emulator, run_playbook, outdir):
    desktops = explicit_fleet(200)
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    emulator.set_faults(errors={'StopWorkspaces': 0.7}, error_statuses=[502, 504], fault_seed=3, stop_delay=0.2)
    result_path = outdir / 'result.json'
    run = run_playbook(module_play('fleetops.workspaces.workspaces_stop', {'workspace_ids': ids}, result_path), timeout=1800)
    assert run.rc == 0, run
    result = read_result(result_path)
    assert result['failed_workspaces'] == [], '%d desktops failed, e.g. %s' % (len(result['failed_workspaces']), result['failed_workspaces'][:1])
    assert sorted(result['stopped']) == sorted(ids)
    assert set(states(emulator).values()) == {'STOPPED'}
