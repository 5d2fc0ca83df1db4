# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role fleetops.workspaces.start and the playbook fleetops.workspaces.start_workspaces, run with ansible-playbook
against the emulator: both modes, --limit, the check-mode preview, the rails, host accounting, used_within_days, and the
start IAM policy (every call of every test must be allowed by docs/iam-policy-start.json, and it allows nothing more)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.functional.test_role import iam_actions
from tests.functional.test_role import mutating_calls
from tests.functional.test_role import recap
from tests.functional.test_role import states
from tests.functional.test_role import write_inventory

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IAM_POLICY = os.path.join(REPO, 'docs', 'iam-policy-start.json')
PLAYBOOK = 'fleetops.workspaces.start_workspaces'
KEEP = 'fleetops:keep-stopped'
REGIONS = ['us-east-1', 'eu-west-1']
DAY = 1440

FLEET = {
    'us-east-1': [
        {'workspace_id': 'ws-blue00001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue'}},
        {'workspace_id': 'ws-blue00002', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue', 'Env': 'prod'}},
        {'workspace_id': 'ws-keep00001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue', KEEP: ''}},
        {'workspace_id': 'ws-run000001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue'}, 'state': 'AVAILABLE'},
        {'workspace_id': 'ws-alwon0001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue'}, 'running_mode': 'ALWAYS_ON'},
        {'workspace_id': 'ws-red000001', 'directory_id': 'd-2222222222', 'tags': {'Team': 'red'}},
    ],
    'eu-west-1': [
        {'workspace_id': 'ws-blue00003', 'directory_id': 'd-3333333333', 'tags': {'Team': 'blue'}},
        {'workspace_id': 'ws-red000002', 'directory_id': 'd-3333333333', 'tags': {'Team': 'red'}},
        {'workspace_id': 'ws-keep00002', 'directory_id': 'd-3333333333', 'tags': {KEEP: 'until-monday'}},
    ],
}


def seed(emulator, fleet=None):
    fleet = FLEET if fleet is None else fleet
    emulator.seed({'regions': {region: {'workspaces': [dict({'state': 'STOPPED'}, **d) for d in desktops]}
                               for region, desktops in fleet.items()}})
    emulator.reset_calls()


def policy_actions():
    with open(IAM_POLICY, encoding='utf-8') as handle:
        return {a for s in json.load(handle)['Statement'] for a in ([s['Action']] if isinstance(s['Action'], str) else s['Action'])}


def start_requests(emulator):
    """[(region, [ids])] of every StartWorkspaces call."""
    return [(c['region'], [r['WorkspaceId'] for r in c['params']['StartWorkspaceRequests']]) for c in emulator.calls(operation='StartWorkspaces')]


@pytest.fixture(autouse=True)
def start_policy_covers_every_call(emulator):
    yield
    missing = iam_actions(emulator.calls()) - policy_actions()
    assert not missing, 'docs/iam-policy-start.json lacks actions this test called: %s' % sorted(missing)


def test_playbook_starts_by_tag_in_every_region_with_the_minimum_of_calls(emulator, run_playbook):
    seed(emulator)
    run = run_playbook(PLAYBOOK, extra_vars={'workspaces_start_regions': REGIONS, 'workspaces_start_tags': 'Team=blue'})
    assert run.rc == 0, run
    assert sorted(start_requests(emulator)) == [('eu-west-1', ['ws-blue00003']), ('us-east-1', ['ws-blue00001', 'ws-blue00002'])]
    after = states(emulator)
    assert [after[w] for w in ('ws-blue00001', 'ws-blue00002', 'ws-blue00003')] == ['AVAILABLE'] * 3
    assert after['ws-keep00001'] == after['ws-alwon0001'] == after['ws-red000001'] == 'STOPPED'
    counts = emulator.counts()
    # per region: 1 GetResources, 1 DescribeWorkspaces (the selection, the only read before acting), 1 StartWorkspaces;
    # no connection check without used_within_days; the rest are the wait's polls of the started desktops
    assert counts['GetResources'] == 2 and counts['StartWorkspaces'] == 2 and 'DescribeWorkspacesConnectionStatus' not in counts
    first_start = min(c['seq'] for c in emulator.calls(operation='StartWorkspaces'))
    assert len([c for c in emulator.calls(operation='DescribeWorkspaces') if c['seq'] < first_start]) == 2
    assert 'selectors mode: 6 selected, 1 excluded by tag' in run.stdout
    assert 'us-east-1: started 2, already running 1, skipped 1 (running mode ALWAYS_ON cannot be started' in run.stdout
    assert 'eu-west-1: started 1, already running 0, skipped 0' in run.stdout


def test_check_mode_previews_without_starting(emulator, run_playbook, tmp_path):
    seed(emulator)
    run = run_playbook(PLAYBOOK, check=True, diff=True, inventory=write_inventory(tmp_path),
                       extra_vars={'workspaces_start_hosts': 'aws_workspaces', 'workspaces_start_tags': {'Team': 'blue'}})
    assert run.rc == 0, run
    assert mutating_calls(emulator) == []
    assert set(states(emulator).values()) == {'STOPPED', 'AVAILABLE'} and states(emulator)['ws-blue00001'] == 'STOPPED'
    assert 'PREVIEW (check mode), nothing was changed - inventory mode' in run.stdout
    assert 'us-east-1 would start: ws-blue00001, ws-blue00002' in run.stdout
    assert 'eu-west-1 would start: ws-blue00003' in run.stdout
    assert '+        "state": "AVAILABLE"' in run.stdout  # --diff, per desktop


def test_inventory_mode_starts_exactly_the_limited_hosts(emulator, run_playbook, tmp_path):
    seed(emulator)
    run = run_playbook(PLAYBOOK, inventory=write_inventory(tmp_path), args=('--limit', 'aws_workspaces_eu_west_1:ws-blue00001:ws-keep00001'),
                       extra_vars={'workspaces_start_hosts': 'aws_workspaces', 'workspaces_start_wait': False})
    assert run.rc == 0, run
    # the opt-out tag wins over the limit
    assert sorted(start_requests(emulator)) == [('eu-west-1', ['ws-blue00003', 'ws-red000002']), ('us-east-1', ['ws-blue00001'])]
    counts = recap(run)
    assert {h for h, c in counts.items() if c['changed']} >= {'ws-blue00001', 'ws-blue00003', 'ws-red000002'}
    assert 'ws-blue00002' not in counts  # outside the limit: not even a host of the run


def test_playbook_fails_exactly_the_failed_desktop_and_marks_the_started_changed(emulator, run_playbook, tmp_path):
    seed(emulator)
    emulator.set_faults(start_fails_to_error=['ws-blue00003'])
    run = run_playbook(PLAYBOOK, inventory=write_inventory(tmp_path), extra_vars={
        'workspaces_start_hosts': 'aws_workspaces', 'workspaces_start_tags': 'Team=blue', 'workspaces_start_wait_timeout': 60})
    assert run.rc != 0, run
    counts = recap(run)
    assert sorted(h for h, c in counts.items() if c['failed']) == ['ws-blue00003'], counts
    assert 'ws-blue00003 in eu-west-1: StartFailed' in run.stdout
    assert counts['ws-blue00001']['changed'] == 1 and counts['ws-blue00002']['changed'] == 1


def test_no_selector_is_refused_without_any_call(emulator, run_playbook):
    seed(emulator)
    run = run_playbook(PLAYBOOK, extra_vars={'workspaces_start_regions': REGIONS})
    assert run.rc != 0, run
    assert 'No WorkSpaces selected, nothing was changed (no AWS call was made)' in run.stdout + run.stderr
    assert 'workspaces_start_allow_all=true' in run.stdout + run.stderr
    assert emulator.calls() == []


@pytest.mark.parametrize('max_count, fails', [(2, True), (3, False)])
def test_max_count_counts_only_what_would_be_started(emulator, run_playbook, max_count, fails):
    """Team=blue selects 6 desktops: 1 excluded by tag, 1 already running, 1 ALWAYS_ON; 3 would be started."""
    seed(emulator)
    run = run_playbook(PLAYBOOK, extra_vars={'workspaces_start_regions': REGIONS, 'workspaces_start_tags': 'Team=blue',
                                             'workspaces_start_max_count': str(max_count), 'workspaces_start_wait': False})
    if fails:
        assert run.rc != 0, run
        assert '3 WorkSpaces would be started' in run.stdout + run.stderr and 'workspaces_start_max_count is 2' in run.stdout + run.stderr
        assert mutating_calls(emulator) == []
    else:
        assert run.rc == 0, run
        assert len(start_requests(emulator)) == 2


def test_used_within_days_starts_only_the_desktops_in_use(emulator, run_playbook):
    fleet = {'us-east-1': [
        {'workspace_id': 'ws-used00001', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 1 * DAY},
        {'workspace_id': 'ws-used00002', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 13 * DAY},
        {'workspace_id': 'ws-left00001', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 60 * DAY},
        {'workspace_id': 'ws-never0001', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 'never'},
    ]}
    seed(emulator, fleet)
    run = run_playbook(PLAYBOOK, extra_vars={'workspaces_start_regions': 'us-east-1', 'workspaces_start_tags': 'Team=blue',
                                             'workspaces_start_used_within_days': '14', 'workspaces_start_wait': False})
    assert run.rc == 0, run
    assert start_requests(emulator) == [('us-east-1', ['ws-used00001', 'ws-used00002'])]
    assert emulator.counts()['DescribeWorkspacesConnectionStatus'] == 1  # the 4 candidates, in one check
    assert 'only those used within the last 14 days' in run.stdout
    assert 'us-east-1: started 2, already running 0, skipped 2 (never used: 1; not used within used_within_days=14: 1)' in run.stdout


@pytest.mark.parametrize('extra, fragment', [
    ({'workspaces_start_used_within_days': '-3'}, 'workspaces_start_used_within_days must be 0 (off) or a positive number of days, got -3'),
    ({'workspaces_start_workspace_ids': 'ws-BAD'}, "'ws-BAD'"),
    ({'workspaces_start_max_count': 'many'}, 'workspaces_start_max_count'),
])
def test_invalid_values_fail_before_any_call(emulator, run_playbook, extra, fragment):
    seed(emulator)
    run = run_playbook(PLAYBOOK, extra_vars=dict({'workspaces_start_regions': REGIONS, 'workspaces_start_tags': 'Team=blue'}, **extra))
    assert run.rc != 0 and fragment in run.stdout + run.stderr, run
    assert emulator.calls() == []


def test_iam_policy_is_exactly_what_the_start_calls(emulator, run_playbook, ansible_env, tmp_path):
    """Inventory over every region (ec2:DescribeRegions), then the start playbook by tag with used_within_days: the union of
    the calls is exactly docs/iam-policy-start.json - nothing missing, nothing extra (no StopWorkspaces)."""
    seed(emulator, {'us-east-1': FLEET['us-east-1']})
    all_regions = tmp_path / 'all.workspaces.yml'
    all_regions.write_text('plugin: fleetops.workspaces.workspaces\n')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(all_regions), '--list'],
                          env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    run = run_playbook(PLAYBOOK, extra_vars={'workspaces_start_regions': ['us-east-1'], 'workspaces_start_tags': {'Team': 'blue'},
                                             'workspaces_start_used_within_days': 30, 'workspaces_start_wait': False})
    assert run.rc == 0, run
    assert iam_actions(emulator.calls()) == policy_actions()
    assert 'workspaces:StopWorkspaces' not in policy_actions()
