# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""concurrent_reads through real ansible-playbook runs against the emulator, read from its call log.

Each logged call has the time the emulator received it and how long it took, so the log shows which calls were in
flight at the same time: reads up to ``concurrent_reads`` at once, never two StopWorkspaces, every stop request after
the connection check of its desktops, and the same number of calls (and the same result) whatever the setting.
"""
from __future__ import annotations

import math

import pytest

from test_info import info_playbook
from test_info import load
from test_stop import fleet
from test_stop import run_stop
from test_stop import seed
from test_stop import stop_requests

REGION = 'us-east-1'
LATENCY_MS = 60  # long enough that concurrent requests overlap in the call log whatever the machine's load


def intervals(calls):
    return [(c['time'], c['time'] + c['duration_ms'] / 1000.0) for c in calls]


def peak_in_flight(calls):
    """The most calls of ``calls`` in flight at one moment (from their logged start and duration)."""
    events = sorted([(start, 1) for start, end in intervals(calls)] + [(end, -1) for start, end in intervals(calls)],
                    key=lambda e: (e[0], e[1]))
    running = peak = 0
    for dummy, step in events:
        running += step
        peak = max(peak, running)
    return peak


def connected_fleet(n, every=7):
    desktops = fleet(n, connection_state='DISCONNECTED')
    for desktop in desktops[::every]:
        desktop['connection_state'] = 'CONNECTED'
    return desktops


@pytest.mark.parametrize('concurrent_reads', [1, 4])
def test_reads_overlap_up_to_the_setting_and_stops_never_do(emulator, run_playbook, outdir, concurrent_reads):
    desktops = connected_fleet(160)
    seed(emulator, desktops)
    emulator.set_faults(latency_ms=LATENCY_MS, stop_delay=0.3)
    ids = [d['workspace_id'] for d in desktops]
    connected = {d['workspace_id'] for d in desktops if d['connection_state'] == 'CONNECTED'}

    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'skip_connected': True, 'concurrent_reads': concurrent_reads})

    assert not result.get('failed'), result.get('msg')
    assert sorted(result['stopped']) == sorted(set(ids) - connected)
    assert sorted(s['workspace_id'] for s in result['skipped_workspaces']) == sorted(connected)
    assert not connected & set(stop_requests(emulator))

    calls = emulator.calls()
    counts = emulator.counts()
    stops = [c for c in calls if c['operation'] == 'StopWorkspaces']
    checks = [c for c in calls if c['operation'] == 'DescribeWorkspacesConnectionStatus']
    reads = [c for c in calls if c['operation'] != 'StopWorkspaces']
    # The calls are the minimum whatever the setting: 7 reads of 25, 7 checks, ceil(137/25) = 6 stops, then the polls.
    assert counts['DescribeWorkspacesConnectionStatus'] == math.ceil(len(ids) / 25)
    assert counts['StopWorkspaces'] == math.ceil((len(ids) - len(connected)) / 25)
    assert peak_in_flight(stops) == 1
    if concurrent_reads == 1:
        assert peak_in_flight(calls) == 1  # one request at a time, like a simple script
    else:
        assert 2 <= peak_in_flight(reads) <= concurrent_reads
        assert peak_in_flight(calls) <= concurrent_reads + 1  # the reads, plus at most the one stop request
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


def test_a_read_that_fails_for_good_with_concurrency_stops_nothing_and_names_the_error(emulator, run_playbook, outdir):
    seed(emulator, fleet(120))
    emulator.set_faults(errors={'DescribeWorkspaces': 1.0}, error_statuses=[500], latency_ms=10)
    ids = [d['workspace_id'] for d in fleet(120)]

    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ids, 'concurrent_reads': 4})

    assert result['failed'] is True
    assert 'nothing was stopped' in result['msg'] and 'InternalFailure' in result['msg'], result['msg']
    assert 'StopWorkspaces' not in emulator.counts()


@pytest.mark.parametrize('value', [0, 11, 'many'])
def test_bad_concurrent_reads_fails_before_any_call(emulator, run_playbook, outdir, value):
    seed(emulator, fleet(2))
    result, dummy = run_stop(run_playbook, outdir, {'workspace_ids': ['ws-f0000000'], 'concurrent_reads': value})
    assert result['failed'] is True and str(value) in result['msg'], result['msg']
    assert emulator.counts() == {}


def test_info_reads_directories_concurrently_with_the_same_result(emulator, run_playbook, outdir):
    directories = ['d-%010d' % (1111111111 * i) for i in range(1, 6)]
    emulator.seed({'regions': {REGION: {'directories': [{'directory_id': d, 'count': 30} for d in directories]}}})
    emulator.set_faults(latency_ms=LATENCY_MS)
    runs = {}
    for concurrent_reads in (1, 4):
        emulator.reset_calls()
        play = info_playbook(outdir, {'by directory': {'directory_ids': directories, 'include_connection_status': True,
                                                       'concurrent_reads': concurrent_reads}}, region=REGION)
        run = run_playbook(play)
        assert run.rc == 0, run
        runs[concurrent_reads] = (load(outdir, 'by directory'), emulator.calls())

    (sequential, sequential_calls), (concurrent, concurrent_calls) = runs[1], runs[4]

    def as_read(desktops):  # idle_minutes depends on when each run read the connection status, not on how
        return [{k: v for k, v in d.items() if k != 'idle_minutes'} for d in desktops]
    assert as_read(concurrent['workspaces']) == as_read(sequential['workspaces']) and concurrent['count'] == 150
    assert sorted((c['operation'], c['params'].get('DirectoryId', '')) for c in concurrent_calls) == \
        sorted((c['operation'], c['params'].get('DirectoryId', '')) for c in sequential_calls)  # the same calls
    assert {c['params'].get('DirectoryId') for c in concurrent_calls if c['operation'] == 'DescribeWorkspaces'} == set(directories)
    assert peak_in_flight(sequential_calls) == 1
    assert 2 <= peak_in_flight(concurrent_calls) <= 4
