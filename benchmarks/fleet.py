# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark fleet (a seed spec for the emulator), its ground truth and the minimum API calls per scenario.

Everything here is a plain function over plain dicts.
"""
from __future__ import annotations

REGIONS = ('us-east-1', 'eu-west-1')
DIRECTORIES = {
    'us-east-1': ('d-9061000001', 'd-9061000002'),
    'eu-west-1': ('d-9361000001', 'd-9361000002'),
}
TAG_KEY = 'Schedule'
TAG_VALUE = 'office-hours'
SEED = 20261125
BATCH = 25           # StopWorkspaces, DescribeWorkspaces(WorkspaceIds), DescribeWorkspacesConnectionStatus
TAGGING_PAGE = 100   # GetResources ResourcesPerPage maximum

STOPPABLE_STATES = ('AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'ERROR')
STOPPABLE_MODES = ('AUTO_STOP', 'MANUAL')

DESCRIBE = 'DescribeWorkspaces'
STOP = 'StopWorkspaces'
START = 'StartWorkspaces'
CONNECTION = 'DescribeWorkspacesConnectionStatus'
TAGS = 'GetResources'
OPERATIONS = (DESCRIBE, TAGS, CONNECTION, STOP, START)
START_SCENARIOS = ('module-start', 'baseline-start')  # start the tagged STOPPED desktops by id (to_start)


def ceil_div(count, size):
    return -(-count // size)


def spec(size):
    """Seed spec: ``size`` desktops over 2 regions x 2 directories, half tagged Schedule=office-hours, a fixed seed."""
    per_directory, extra = divmod(size, len(REGIONS) * 2)
    regions = {}
    index = 0
    for region in REGIONS:
        directories = []
        for number, directory_id in enumerate(DIRECTORIES[region]):
            directories.append({
                'directory_id': directory_id,
                'count': per_directory + (1 if index < extra else 0),
                'user_prefix': 'u%s%d' % (region.split('-', maxsplit=1)[0], number),
                'running_modes': {'AUTO_STOP': 0.8, 'ALWAYS_ON': 0.1, 'MANUAL': 0.1},
                'states': {'AVAILABLE': 0.85, 'STOPPED': 0.15},
                'connection_states': {'CONNECTED': 0.1, 'DISCONNECTED': 0.8, 'NONE': 0.1},
                'tags': {TAG_KEY: TAG_VALUE, 'CostCenter': 'cc-%d' % number},
                'tag_fraction': 0.5,
            })
            index += 1
        regions[region] = {'directories': directories}
    return {'seed': SEED, 'regions': regions}


def is_tagged(desktop):
    return (desktop.get('tags') or {}).get(TAG_KEY) == TAG_VALUE


def is_stoppable(desktop):
    return desktop['state'] in STOPPABLE_STATES and desktop['running_mode'] in STOPPABLE_MODES


def analyse(workspaces):
    """Ground truth per region from the emulator's dump (``EmulatorClient.workspaces()`` or the seed answer).

    ``tagged``: carry Schedule=office-hours; ``candidates``: tagged and stoppable (state and running mode);
    ``to_stop``: candidates whose user is not connected (what the role, with skip_connected, stops).
    """
    regions = {}
    for region in REGIONS:
        mine = [w for w in workspaces if w['region'] == region]
        tagged = [w for w in mine if is_tagged(w)]
        candidates = [w for w in tagged if is_stoppable(w)]
        to_stop = [w for w in candidates if w.get('connection_state') != 'CONNECTED']
        # With min_idle_minutes (IDLE_MINUTES): the seeded DISCONNECTED users last connected an hour to a week before, so
        # every disconnected candidate is idle; a candidate without a connection-status entry is skipped (fail-safe).
        to_stop_idle = [w for w in to_stop if w.get('connection_state') not in (None, 'NONE')]
        # The morning counterpart: tagged desktops that are STOPPED in a running mode that can be started.
        to_start = [w for w in tagged if w['state'] == 'STOPPED' and w['running_mode'] in STOPPABLE_MODES]
        directories = {}
        for desktop in mine:
            directories[desktop['directory_id']] = directories.get(desktop['directory_id'], 0) + 1
        regions[region] = {
            'desktops': len(mine),
            'directories': directories,
            'tagged': sorted(w['workspace_id'] for w in tagged),
            'candidates': sorted(w['workspace_id'] for w in candidates),
            'to_stop': sorted(w['workspace_id'] for w in to_stop),
            'to_stop_idle': sorted(w['workspace_id'] for w in to_stop_idle),
            'to_start': sorted(w['workspace_id'] for w in to_start),
            'connected_candidates': len(candidates) - len(to_stop),
            'already_stopped': sum(1 for w in tagged if w['state'] in ('STOPPED', 'STOPPING')),
            'always_on': sum(1 for w in tagged if w['running_mode'] == 'ALWAYS_ON'),
        }
    return regions


def counts_summary(truth):
    """The fleet in numbers, for the report."""
    total = {key: 0 for key in ('desktops', 'tagged', 'candidates', 'to_stop', 'connected_candidates', 'already_stopped', 'always_on')}
    for info in truth.values():
        for key in total:
            value = info[key]
            total[key] += len(value) if isinstance(value, list) else value
    return total


def _describe_minimum(info, known):
    """Fewest DescribeWorkspaces calls that return the state of ``known`` desktops of a region.

    By id (25 a call), per directory (one paged query each) or the whole region (one paged query).
    """
    by_ids = ceil_div(known, BATCH)
    by_directories = sum(max(1, ceil_div(count, BATCH)) for count in info['directories'].values())
    whole_region = max(1, ceil_div(info['desktops'], BATCH))
    return min(by_ids, by_directories, whole_region)


def minimum_calls(truth, scenario):
    """Theoretical minimum calls per operation for one scenario, wait polls excluded, and the minimum polls.

    Selection by tag (role-tag, role-inventory, baseline-a, baseline-b-module-per-host): per region
    ⌈tagged/100⌉ GetResources (filtered by the tag server-side), the fewest DescribeWorkspaces that return the
    tagged desktops' states (⌈tagged/25⌉ by id, else per directory / region paging), ⌈candidates/25⌉
    DescribeWorkspacesConnectionStatus for the stoppable ones, ⌈to_stop/25⌉ StopWorkspaces.
    module-ids (explicit ids, skip_connected off): ⌈ids/25⌉ DescribeWorkspaces and ⌈ids/25⌉ StopWorkspaces.
    baseline-b-cli: one StopWorkspaces per desktop is what it does; its minimum is ⌈ids/25⌉ StopWorkspaces.
    module-start / baseline-start (the tagged STOPPED desktops by id): ⌈ids/25⌉ DescribeWorkspaces and ⌈ids/25⌉
    StartWorkspaces.
    Wait polls: at least one DescribeWorkspaces round over the stopped (started) desktops, ⌈ids/25⌉ per region.
    """
    calls = {op: 0 for op in OPERATIONS}
    polls = 0
    for info in truth.values():
        if scenario in START_SCENARIOS:
            starts = ceil_div(len(info['to_start']), BATCH)
            calls[DESCRIBE] += starts
            calls[START] += starts
            polls += starts
            continue
        stops = ceil_div(len(info['to_stop_idle' if scenario == 'role-tag-idle' else 'to_stop']), BATCH)
        if scenario in ('module-ids', 'baseline-b-cli'):
            if scenario == 'module-ids':
                calls[DESCRIBE] += ceil_div(len(info['to_stop']), BATCH)
                polls += stops
            calls[STOP] += stops
            continue
        tagged = len(info['tagged'])
        calls[TAGS] += max(1, ceil_div(tagged, TAGGING_PAGE))
        if tagged:
            calls[DESCRIBE] += _describe_minimum(info, tagged)
        calls[CONNECTION] += ceil_div(len(info['candidates']), BATCH)
        calls[STOP] += stops
        polls += stops
    return calls, polls


def stopped_as_expected(before, after, expected_ids, accept_stopping=False, done='STOPPED'):
    """Problems (a list of text) when the fleet after a run is not ``before`` with exactly ``expected_ids`` stopped
    (``done='AVAILABLE'``: started).

    ``accept_stopping``: STOPPING is good enough (for a run that does not wait).
    """
    problems = []
    now = {w['workspace_id']: w for w in after}
    expected = set(expected_ids)
    good = (done, 'STOPPING') if accept_stopping else (done,)
    wrong_state = [i for i in sorted(expected) if now.get(i, {}).get('state') not in good]
    if wrong_state:
        problems.append('%d desktops that should be %s are not (e.g. %s: %s)'
                        % (len(wrong_state), done, wrong_state[0], now.get(wrong_state[0], {}).get('state')))
    changed = [w['workspace_id'] for w in before if w['workspace_id'] not in expected
               and now.get(w['workspace_id'], {}).get('state') != w['state']]
    if changed:
        problems.append('%d desktops that should not have been touched changed state (e.g. %s)' % (len(changed), changed[0]))
    return problems


def classify_calls(calls):
    """Split an emulator call log into counts per operation and wait polls.

    A DescribeWorkspaces call is a wait poll when every id it asks for was already sent in an earlier
    StopWorkspaces (StartWorkspaces) request of the same region (a re-read after the stop); everything else counts as work.
    Returns ``(counts, polls, not_ok)``: ``counts`` per operation (polls excluded), the number of polls, and
    the number of calls whose outcome was not ``ok``.
    """
    counts = {}
    polls = 0
    not_ok = 0
    stop_requested = {}
    for call in sorted(calls, key=lambda c: c['seq']):
        operation = call['operation']
        params = call.get('params') or {}
        region = call.get('region')
        if call.get('outcome') != 'ok':
            not_ok += 1
        if operation in (STOP, START):
            requests = params.get('StopWorkspaceRequests', []) + params.get('StartWorkspaceRequests', [])
            stop_requested.setdefault(region, set()).update(r.get('WorkspaceId') for r in requests)
        if operation == DESCRIBE:
            ids = params.get('WorkspaceIds') or []
            if ids and all(i in stop_requested.get(region, ()) for i in ids):
                polls += 1
                continue
        counts[operation] = counts.get(operation, 0) + 1
    return counts, polls, not_ok
