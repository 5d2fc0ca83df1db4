# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""concurrent_reads through real ansible-playbook runs against the emulator, behind a gate (``emulator_gate``).

The gate proves concurrency without timing: it holds the reads until ``concurrent_reads`` of them are in flight together
(a barrier that is only reached if the module really sends that many at once), and counts the calls in flight through it
(never more than the setting, never two StopWorkspaces). The emulator's call log then shows every stop request after the
connection check of its desktops, and the same number of calls (and the same result) whatever the setting.
"""
from __future__ import annotations

import json
import math
import os

import pytest

from test_info import info_playbook
from test_info import load
from test_stop import fleet
from test_stop import run_stop
from test_stop import seed
from test_stop import stop_requests

REGION = 'us-east-1'
SOAK = os.environ.get('FLEETOPS_SOAK', '').strip().lower() not in ('', '0', 'false', 'no')


def intervals(calls):
    return [(c['time'], c['time'] + c['duration_ms'] / 1000.0) for c in calls]


def connected_fleet(n, every=7):
    desktops = fleet(n, connection_state='DISCONNECTED')
    for desktop in desktops[::every]:
        desktop['connection_state'] = 'CONNECTED'
    return desktops


@pytest.mark.parametrize('concurrent_reads', [1, 4])
def test_reads_overlap_up_to_the_setting_and_stops_never_do(emulator, emulator_gate, run_playbook, outdir, concurrent_reads):
    desktops = connected_fleet(160)
    seed(emulator, desktops)
    emulator.set_faults(stop_delay=0.3)
    ids = [d['workspace_id'] for d in desktops]
    connected = {d['workspace_id'] for d in desktops if d['connection_state'] == 'CONNECTED'}
    if concurrent_reads > 1:
        emulator_gate.barrier(concurrent_reads, ['DescribeWorkspaces'])  # the first read's 7 batches

    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'skip_connected': True, 'concurrent_reads': concurrent_reads},
                             env={'AWS_ENDPOINT_URL': emulator_gate.url})

    assert not result.get('failed'), result.get('msg')
    assert sorted(result['stopped']) == sorted(set(ids) - connected)
    assert sorted(s['workspace_id'] for s in result['skipped_workspaces']) == sorted(connected)
    assert not connected & set(stop_requests(emulator))

    calls = emulator.calls()
    counts = emulator.counts()
    stops = [c for c in calls if c['operation'] == 'StopWorkspaces']
    checks = [c for c in calls if c['operation'] == 'DescribeWorkspacesConnectionStatus']
    # The calls are the minimum whatever the setting: 7 reads of 25, 7 checks, ceil(137/25) = 6 stops, then the polls.
    assert counts['DescribeWorkspacesConnectionStatus'] == math.ceil(len(ids) / 25)
    assert counts['StopWorkspaces'] == math.ceil((len(ids) - len(connected)) / 25)
    assert emulator_gate.guard_expired == 0
    assert emulator_gate.peaks['StopWorkspaces'] == 1  # never two stop requests at once
    if concurrent_reads == 1:
        assert emulator_gate.peak == 1  # one request at a time, like a simple script
    else:
        # The barrier was reached: that many reads were in flight together; and never more.
        assert emulator_gate.barrier_reached
        assert max(emulator_gate.peaks.get(op, 0) for op in ('DescribeWorkspaces', 'DescribeWorkspacesConnectionStatus')) == concurrent_reads
        assert emulator_gate.peak <= concurrent_reads + 1  # the reads, plus at most the one stop request
    # Every desktop of a stop request was checked, and its check had answered before the stop request was sent.
    checked_at = {}
    for check in checks:
        for workspace_id in check['params']['WorkspaceIds']:
            checked_at[workspace_id] = check['time'] + check['duration_ms'] / 1000.0
    for stop in stops:
        for request in stop['params']['StopWorkspaceRequests']:
            assert checked_at[request['WorkspaceId']] <= stop['time']
    # The initial read finished before the first stop (the plan is made from every desktop's state).
    first_stop = min(c['time'] for c in stops)
    initial_reads = sorted((c for c in calls if c['operation'] == 'DescribeWorkspaces'), key=lambda c: c['time'])[:math.ceil(len(ids) / 25)]
    assert all(start < end <= first_stop for start, end in intervals(initial_reads))


@pytest.mark.parametrize('failure', [
    'access-denied',
    # Every 500 retried by botocore and AWSRetry first: minutes (see docs/reliability.md, "Retries and their bounds").
    pytest.param('500-after-every-retry', marks=pytest.mark.skipif(not SOAK, reason='minutes of retries; run by make soak')),
])
def test_a_read_that_fails_for_good_with_concurrency_stops_nothing_and_names_the_error(emulator, emulator_gate, run_playbook, outdir, failure):
    seed(emulator, fleet(120))
    ids = [d['workspace_id'] for d in fleet(120)]
    if failure == 'access-denied':
        emulator_gate.fail('DescribeWorkspaces')  # not retried: fails at once
        expected = 'AccessDeniedException'
    else:
        emulator.set_faults(errors={'DescribeWorkspaces': 1.0}, error_statuses=[500])
        expected = 'InternalFailure'

    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'concurrent_reads': 4}, env={'AWS_ENDPOINT_URL': emulator_gate.url})

    assert result['failed'] is True
    assert 'nothing was stopped' in result['msg'] and expected in result['msg'], result['msg']
    assert 'StopWorkspaces' not in emulator.counts()


BAD_VALUES = [0, 11, 'many']


def test_bad_concurrent_reads_fails_before_any_call(emulator, run_playbook, outdir):
    """Every bad value in one playbook (one ansible-playbook start-up): each task fails naming its value, no call made."""
    seed(emulator, fleet(2))
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Stop with a bad concurrent_reads
          fleetops.workspaces.workspaces_stop:
            workspace_ids: [ws-f0000000]
            concurrent_reads: "{{ item }}"
          loop: %s
          register: result
          ignore_errors: true
        - name: Save
          save_json:
            content: "{{ result.results | to_json }}"
            dest: %s/results.json
    """ % (json.dumps(BAD_VALUES), outdir)
    run = run_playbook(play)
    assert run.rc == 0, run
    results = json.loads((outdir / 'results.json').read_text())
    assert [r['item'] for r in results] == BAD_VALUES
    for value, result in zip(BAD_VALUES, results):
        assert result['failed'] is True and str(value) in result['msg'], (value, result['msg'])
    assert emulator.counts() == {}


def test_info_reads_directories_concurrently_with_the_same_result(emulator, emulator_gate, run_playbook, outdir):
    directories = ['d-%010d' % (1111111111 * i) for i in range(1, 6)]
    emulator.seed({'regions': {REGION: {'directories': [{'directory_id': d, 'count': 30} for d in directories]}}})
    runs, peaks = {}, {}
    for concurrent_reads in (1, 4):
        emulator.reset_calls()
        emulator_gate.reset_counts()
        if concurrent_reads > 1:
            emulator_gate.barrier(concurrent_reads, ['DescribeWorkspaces'])  # one read per directory, 5 directories
        play = info_playbook(outdir, {'by directory': {'directory_ids': directories, 'include_connection_status': True,
                                                       'concurrent_reads': concurrent_reads}}, region=REGION)
        run = run_playbook(play, env={'AWS_ENDPOINT_URL': emulator_gate.url})
        assert run.rc == 0, run
        runs[concurrent_reads] = (load(outdir, 'by directory'), emulator.calls())
        peaks[concurrent_reads] = emulator_gate.peak

    (sequential, sequential_calls), (concurrent, concurrent_calls) = runs[1], runs[4]

    def as_read(desktops):  # idle_minutes depends on when each run read the connection status, not on how
        return [{k: v for k, v in d.items() if k != 'idle_minutes'} for d in desktops]
    assert as_read(concurrent['workspaces']) == as_read(sequential['workspaces']) and concurrent['count'] == 150
    assert sorted((c['operation'], c['params'].get('DirectoryId', '')) for c in concurrent_calls) == \
        sorted((c['operation'], c['params'].get('DirectoryId', '')) for c in sequential_calls)  # the same calls
    assert {c['params'].get('DirectoryId') for c in concurrent_calls if c['operation'] == 'DescribeWorkspaces'} == set(directories)
    assert peaks[1] == 1
    assert emulator_gate.barrier_reached and emulator_gate.guard_expired == 0 and peaks[4] == 4  # 4 together, never more
