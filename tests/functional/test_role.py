# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role fleetops.workspaces.stop and the playbook fleetops.workspaces.stop_workspaces, run with ansible-playbook
against the emulator: each way of selecting, the check-mode preview, every safety rail (each test fails when its rail
is removed), failure handling across regions, and the IAM policy (every call of every test must be allowed by it)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IAM_POLICY = os.path.join(REPO, 'docs', 'iam-policy.json')

# Emulator call-log service -> IAM service prefix.
IAM_PREFIX = {'workspaces': 'workspaces', 'tagging': 'tag', 'ec2': 'ec2'}
READ_ONLY = ('Describe', 'Get', 'List')
KEEP = 'fleetops:keep-running'

# Two regions, three directories. ws-keep* carry the opt-out tag, ws-conn* have a connected user.
FLEET = {
    'us-east-1': [
        {'workspace_id': 'ws-blue00001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue'}},
        {'workspace_id': 'ws-blue00002', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue', 'Env': 'prod'}},
        {'workspace_id': 'ws-keep00001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue', KEEP: ''}},
        {'workspace_id': 'ws-conn00001', 'directory_id': 'd-1111111111', 'tags': {'Team': 'blue'}, 'connection_state': 'CONNECTED'},
        {'workspace_id': 'ws-red000001', 'directory_id': 'd-2222222222', 'tags': {'Team': 'red'}},
        {'workspace_id': 'ws-stopd0001', 'directory_id': 'd-2222222222', 'tags': {'Team': 'blue'}, 'state': 'STOPPED'},
    ],
    'eu-west-1': [
        {'workspace_id': 'ws-blue00003', 'directory_id': 'd-3333333333', 'tags': {'Team': 'blue'}},
        {'workspace_id': 'ws-red000002', 'directory_id': 'd-3333333333', 'tags': {'Team': 'red'}},
        {'workspace_id': 'ws-keep00002', 'directory_id': 'd-3333333333', 'tags': {KEEP: 'until-friday'}},
    ],
}
REGIONS = ['us-east-1', 'eu-west-1']
STOPPED_OR_STOPPING = ('STOPPED', 'STOPPING')

# Runs the role (through include_role, so that the test can read workspaces_stop_result even when the role fails).
ROLE_PLAY = """
- name: Run the role and save its result
  hosts: "{{ workspaces_stop_hosts | default('localhost', true) }}"
  gather_facts: false
  connection: local
  tasks:
    - name: Run fleetops.workspaces.stop
      block:
        - name: Stop
          ansible.builtin.include_role:
            name: fleetops.workspaces.stop
      always:
        - name: Save workspaces_stop_result
          save_json:
            content: "{{ workspaces_stop_result | default({}) | to_json }}"
            dest: "%s"
          delegate_to: localhost
          run_once: true
          check_mode: false
          diff: false
"""

# Inventory mode with an inventory that is out of date by the time the role runs: desktops change (through the emulator's
# control endpoint, emulator_changes: {id: fields}) after the inventory was read, then the role runs.
STALE_INVENTORY_PLAY = """
- name: Change desktops after the inventory was read, then run the role
  hosts: aws_workspaces
  gather_facts: false
  connection: local
  tasks:
    - name: Change desktops the inventory has read
      ansible.builtin.uri:
        url: "{{ emulator_url }}/_emulator/workspaces/{{ item.key }}"
        method: POST
        body_format: json
        body: "{{ item.value | combine({'region': 'us-east-1'}) }}"
      loop: "{{ emulator_changes | dict2items }}"
      run_once: true
      delegate_to: localhost

    - name: Run fleetops.workspaces.stop
      block:
        - name: Stop
          ansible.builtin.include_role:
            name: fleetops.workspaces.stop
          run_once: true
      always:
        - name: Save workspaces_stop_result
          save_json:
            content: "{{ workspaces_stop_result | default({}) | to_json }}"
            dest: "%s"
          delegate_to: localhost
          run_once: true
"""


# -- helpers -------------------------------------------------------------------------------------------------------
def seed(emulator, fleet=None):
    fleet = FLEET if fleet is None else fleet
    emulator.seed({'regions': {region: {'workspaces': [dict(d) for d in desktops]} for region, desktops in fleet.items()}})
    emulator.reset_calls()


def policy_actions():
    with open(IAM_POLICY, encoding='utf-8') as handle:
        policy = json.load(handle)
    actions = set()
    for statement in policy['Statement']:
        listed = statement['Action']
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def iam_actions(calls):
    unknown = [c for c in calls if c['service'] not in IAM_PREFIX]
    assert not unknown, 'calls to an unexpected service: %r' % unknown[:3]
    return {'%s:%s' % (IAM_PREFIX[c['service']], c['operation']) for c in calls}


def stop_requests(emulator):
    """[(region, [ids])] of every StopWorkspaces call."""
    return [(c['region'], [r['WorkspaceId'] for r in c['params']['StopWorkspaceRequests']]) for c in emulator.calls(operation='StopWorkspaces')]


def stopped_ids(emulator):
    return sorted(w for _region, ids in stop_requests(emulator) for w in ids)


def mutating_calls(emulator):
    return [c['operation'] for c in emulator.calls() if not c['operation'].startswith(READ_ONLY)]


def states(emulator):
    return {w['workspace_id']: w['state'] for w in emulator.workspaces()}


def ids_of(fleet=None, region=None):
    fleet = FLEET if fleet is None else fleet
    return sorted(d['workspace_id'] for r, desktops in fleet.items() if region in (None, r) for d in desktops)


def write_inventory(tmp_path, regions=None):
    path = tmp_path / 'aws.workspaces.yml'
    path.write_text('plugin: fleetops.workspaces.workspaces\nregions: %s\n' % json.dumps(REGIONS if regions is None else regions))
    return str(path)


def run_role(run_playbook, outdir, extra_vars, **kwargs):
    """Run the role; returns (run, workspaces_stop_result or {})."""
    result_path = outdir / 'result.json'
    run = run_playbook(ROLE_PLAY % result_path, extra_vars=extra_vars, **kwargs)
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    return run, result


def error_text(run):
    return run.stdout + run.stderr


def batches(count, size=25):
    """API calls for ``count`` items at ``size`` a call."""
    return -(-count // size)


def describe_ids(call):
    return call['params'].get('WorkspaceIds') or []


def split_describes(emulator):
    """(selection reads, later reads): DescribeWorkspaces calls before the first DescribeWorkspacesConnectionStatus or
    StopWorkspaces call (the selection), and after it (what workspaces_stop reads: its wait polls and re-checks)."""
    calls = emulator.calls()
    first_action = next((c['seq'] for c in calls if c['operation'] in ('DescribeWorkspacesConnectionStatus', 'StopWorkspaces')), None)
    describes = [c for c in calls if c['operation'] == 'DescribeWorkspaces']
    if first_action is None:
        return describes, []
    return [c for c in describes if c['seq'] < first_action], [c for c in describes if c['seq'] > first_action]


@pytest.fixture(autouse=True)
def iam_policy_covers_every_call(emulator):
    """After each test: every AWS call it made is allowed by docs/iam-policy.json."""
    yield
    missing = iam_actions(emulator.calls()) - policy_actions()
    assert not missing, 'docs/iam-policy.json lacks actions this test called: %s' % sorted(missing)


# -- selecting -------------------------------------------------------------------------------------------------------
def test_playbook_stops_by_tag_in_every_region(emulator, run_playbook):
    """The collection playbook by FQCN, selector mode: one workspaces_info and one workspaces_stop call per region."""
    seed(emulator)
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': {'Team': 'blue'}})
    assert run.rc == 0, run

    after = states(emulator)
    assert {w: after[w] for w in ('ws-blue00001', 'ws-blue00002', 'ws-blue00003')} == dict.fromkeys(('ws-blue00001', 'ws-blue00002', 'ws-blue00003'), 'STOPPED')
    for untouched in ('ws-red000001', 'ws-red000002', 'ws-keep00001', 'ws-keep00002', 'ws-conn00001'):
        assert after[untouched] == 'AVAILABLE', untouched
    # One StopWorkspaces per region, never one per desktop; the excluded and the connected desktops are never sent.
    assert sorted(stop_requests(emulator)) == [('eu-west-1', ['ws-blue00003']), ('us-east-1', ['ws-blue00001', 'ws-blue00002'])]
    assert 'ws-keep00001' not in stopped_ids(emulator) and 'ws-conn00001' not in stopped_ids(emulator)
    counts = emulator.counts()
    assert counts['GetResources'] == 2 and counts['StopWorkspaces'] == 2 and counts['DescribeWorkspacesConnectionStatus'] == 2
    # One read of the selection per region (workspaces_info, by the tagged IDs); workspaces_stop plans from those descriptions
    # and only polls the desktops it stopped.
    selection, later = split_describes(emulator)
    assert len(selection) == 2
    assert later and all(set(describe_ids(c)) <= set(stopped_ids(emulator)) for c in later)
    # The readable summary.
    assert 'selectors mode: 6 selected, 1 excluded by tag' in run.stdout
    assert 'us-east-1: stopped 2, already stopped 1, skipped 1 (a user is connected' in run.stdout
    assert 'eu-west-1: stopped 1, already stopped 0, skipped 0' in run.stdout


def test_role_stops_by_directory(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': ['us-east-1'], 'workspaces_stop_directory_ids': ['d-2222222222'], 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-red000001']
    assert states(emulator)['ws-red000001'] in STOPPED_OR_STOPPING
    assert states(emulator)['ws-blue00001'] == 'AVAILABLE'
    region = result['regions']['us-east-1']
    assert region['stopped'] == ['ws-red000001'] and region['already_stopped'] == ['ws-stopd0001']
    assert result['mode'] == 'selectors' and result['totals']['stopped'] == 1 and result['totals']['already_stopped'] == 1
    assert result['totals']['failed'] == 0 and result['failed_regions'] == []


def test_role_stops_explicit_ids_across_regions(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_workspace_ids': ['ws-red000001', 'ws-red000002'], 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert sorted(stop_requests(emulator)) == [('eu-west-1', ['ws-red000002']), ('us-east-1', ['ws-red000001'])]
    assert result['totals']['stopped'] == 2 and sorted(result['regions']) == sorted(REGIONS)


def test_unknown_id_fails_before_any_stop(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_workspace_ids': ['ws-red000001', 'ws-nothere01']})
    assert run.rc != 0, run
    assert '1 requested WorkSpaces were not found in us-east-1, eu-west-1' in error_text(run)
    assert 'ws-nothere01' in error_text(run) and 'workspaces_stop_ignore_missing=true' in error_text(run)
    assert mutating_calls(emulator) == []


def test_unknown_id_with_ignore_missing_stops_the_others(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_workspace_ids': ['ws-red000001', 'ws-nothere01'],
        'workspaces_stop_ignore_missing': True, 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-red000001']
    assert result['not_found'] == ['ws-nothere01'] and result['totals']['not_found'] == 1


def test_inventory_mode_stops_exactly_the_limited_hosts(emulator, run_playbook, outdir, tmp_path):
    """hosts from the inventory plugin, narrowed by --limit: those and only those, one call per region."""
    seed(emulator)
    inventory = write_inventory(tmp_path)
    limit = 'aws_workspaces_eu_west_1:ws-blue00001:ws-keep00001'
    run, result = run_role(run_playbook, outdir, {'workspaces_stop_hosts': 'aws_workspaces', 'workspaces_stop_wait': False},
                           inventory=inventory, args=('--limit', limit))
    assert run.rc == 0, run
    # ws-keep00001 and ws-keep00002 are in the limit but carry the opt-out tag (read from the workspace_tags hostvar).
    assert sorted(stop_requests(emulator)) == [('eu-west-1', ['ws-blue00003', 'ws-red000002']), ('us-east-1', ['ws-blue00001'])]
    assert result['mode'] == 'inventory'
    assert sorted(e['workspace_id'] for e in result['excluded']) == ['ws-keep00001', 'ws-keep00002']
    assert result['totals']['selected'] == 5
    # Selection came from the inventory: no workspaces_info query by the role (only the inventory's own reads).
    assert emulator.counts()['StopWorkspaces'] == 2
    after = states(emulator)
    assert after['ws-blue00002'] == after['ws-red000001'] == after['ws-keep00001'] == after['ws-keep00002'] == 'AVAILABLE'


def test_inventory_mode_narrowed_by_selectors(emulator, run_playbook, outdir, tmp_path):
    """In inventory mode the selector variables only narrow the play's hosts (here: tag Team=red, one region)."""
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_hosts': 'aws_workspaces', 'workspaces_stop_tags': 'Team=red', 'workspaces_stop_regions': 'eu-west-1',
        'workspaces_stop_wait': False}, inventory=write_inventory(tmp_path))
    assert run.rc == 0, run
    assert stop_requests(emulator) == [('eu-west-1', ['ws-red000002'])]
    assert result['totals']['selected'] == 1


# -- API calls: the minimum ---------------------------------------------------------------------------------------------
def test_selector_mode_makes_the_minimum_of_api_calls(emulator, run_playbook, outdir):
    """By tag, per region: ⌈tagged/100⌉ GetResources, ⌈tagged/25⌉ DescribeWorkspaces (the only read of the desktops),
    ⌈candidates/25⌉ DescribeWorkspacesConnectionStatus, ⌈to stop/25⌉ StopWorkspaces, then the wait polls (DescribeWorkspaces
    of the stopped desktops only). No second read of the selection by workspaces_stop."""
    tag = {'Schedule': 'nightly'}
    us_east = [{'workspace_id': 'ws-us%07d' % i, 'tags': dict(tag)} for i in range(130)]
    for desktop in us_east[:6]:
        desktop['state'] = 'STOPPED'
    for desktop in us_east[6:10]:
        desktop['running_mode'] = 'ALWAYS_ON'
    for desktop in us_east[10:13]:
        desktop['connection_state'] = 'CONNECTED'
    for desktop in us_east[13:15]:
        desktop['tags'][KEEP] = ''
    untagged = [{'workspace_id': 'ws-ux%07d' % i} for i in range(20)]
    eu_west = [{'workspace_id': 'ws-eu%07d' % i, 'tags': dict(tag)} for i in range(30)]
    seed(emulator, {'us-east-1': us_east + untagged, 'eu-west-1': eu_west})
    tagged = {'us-east-1': 130, 'eu-west-1': 30}
    candidates = {'us-east-1': 130 - 6 - 4 - 2, 'eu-west-1': 30}   # stoppable, not excluded (the connected ones included)
    to_stop = {'us-east-1': candidates['us-east-1'] - 3, 'eu-west-1': 30}

    run, result = run_role(run_playbook, outdir, {'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': tag})
    assert run.rc == 0, run
    assert result['totals']['stopped'] == sum(to_stop.values()) and result['totals']['excluded'] == 2

    for region in REGIONS:
        counts = {op: len([c for c in emulator.calls(operation=op) if c['region'] == region])
                  for op in ('GetResources', 'DescribeWorkspacesConnectionStatus', 'StopWorkspaces')}
        assert counts == {'GetResources': batches(tagged[region], 100), 'DescribeWorkspacesConnectionStatus': batches(candidates[region]),
                          'StopWorkspaces': batches(to_stop[region])}, region
    selection, later = split_describes(emulator)
    assert len(selection) == sum(batches(n) for n in tagged.values())
    # Every later DescribeWorkspaces is a wait poll over stopped desktops: at least one round, never a re-read of the selection.
    stopped = set(stopped_ids(emulator))
    assert all(set(describe_ids(c)) <= stopped for c in later)
    assert sum(batches(n) for n in to_stop.values()) <= len(later) <= 3 * sum(batches(n) for n in to_stop.values())
    assert sum(emulator.counts().values()) == len(selection) + len(later) + sum(
        batches(tagged[r], 100) + batches(candidates[r]) + batches(to_stop[r]) for r in REGIONS)


STALE_FLEET = [{'workspace_id': 'ws-inv%06d' % i, 'tags': {'Team': 'blue'}} for i in range(30)] + [
    {'workspace_id': 'ws-stale0001', 'state': 'STOPPED', 'tags': {'Team': 'blue'}},
    {'workspace_id': 'ws-stopd0001', 'state': 'STOPPED', 'tags': {'Team': 'blue'}},
    {'workspace_id': 'ws-alwon0001', 'running_mode': 'ALWAYS_ON', 'tags': {'Team': 'blue'}},
    {'workspace_id': 'ws-gone00001', 'state': 'TERMINATED', 'tags': {'Team': 'blue'}},
    {'workspace_id': 'ws-keep00001', 'tags': {'Team': 'blue', KEEP: ''}},
]


def run_on_stale_inventory(emulator, run_playbook, outdir, tmp_path, changes, extra_vars):
    """(the run, workspaces_stop_result)."""
    seed(emulator, {'us-east-1': STALE_FLEET})
    result_path = outdir / 'result.json'
    run = run_playbook(STALE_INVENTORY_PLAY % result_path, inventory=write_inventory(tmp_path, ['us-east-1']),
                       extra_vars=dict({'emulator_url': emulator.url, 'emulator_changes': changes, 'workspaces_stop_wait': False}, **extra_vars))
    return run, json.loads(result_path.read_text())


def test_inventory_mode_reads_the_hosts_again_so_a_stale_inventory_is_harmless(emulator, run_playbook, outdir, tmp_path):
    """The inventory may be old (AWX "update on launch" off, a cache): workspaces_stop reads every selected host once
    (⌈hosts/25⌉ DescribeWorkspaces) and decides from what it reads. A desktop the inventory saw STOPPED but that runs now
    is stopped; one switched to ALWAYS_ON, or stopped by someone else, since is skipped / already stopped, not failed; one
    whose user connected since is left alone."""
    changes = {
        'ws-stale0001': {'state': 'AVAILABLE'},                   # started since: stopped now
        'ws-inv000001': {'connection_state': 'CONNECTED'},        # its user connected since: skipped
        'ws-inv000002': {'running_mode': 'ALWAYS_ON'},            # switched since: skipped with the reason
        'ws-inv000003': {'state': 'STOPPED'},                     # stopped since by someone else: already stopped
    }
    run, result = run_on_stale_inventory(emulator, run_playbook, outdir, tmp_path, changes, {})
    assert run.rc == 0, run.stdout[-3000:]
    sent = sorted(d['workspace_id'] for d in STALE_FLEET if d['workspace_id'] != 'ws-keep00001')
    reads = [c for c in emulator.calls(operation='DescribeWorkspaces') if describe_ids(c)]  # the inventory lists the region, without IDs
    assert len(reads) == batches(len(sent)) and sorted(i for c in reads for i in describe_ids(c)) == sent
    after = states(emulator)
    assert after['ws-stale0001'] in STOPPED_OR_STOPPING and after['ws-inv000001'] == after['ws-inv000002'] == 'AVAILABLE'
    region = result['regions']['us-east-1']
    assert sorted(region['already_stopped']) == ['ws-inv000003', 'ws-stopd0001']
    skipped = {s['workspace_id']: s['reason'] for s in region['skipped_workspaces']}
    assert set(skipped) == {'ws-gone00001', 'ws-alwon0001', 'ws-inv000001', 'ws-inv000002'}, skipped
    assert 'ALWAYS_ON' in skipped['ws-inv000002'] and 'connected' in skipped['ws-inv000001'].lower()
    assert region['failed_workspaces'] == [] and 'ws-stale0001' in region['stopped']
    assert result['totals']['stopped'] == 28 and result['totals']['requested'] == 34 and result['totals']['excluded'] == 1


def recap(run):
    """PLAY RECAP as {host: {ok, changed, failed, ...}}."""
    counts = {}
    for line in run.stdout[run.stdout.index('PLAY RECAP'):].splitlines()[1:]:
        if ':' in line:
            host, text = line.split(':', 1)
            counts[host.strip()] = {k: int(v) for k, v in (pair.split('=') for pair in text.split())}
    return counts


def test_playbook_fails_exactly_the_failed_desktops_and_marks_the_stopped_changed(emulator, run_playbook, tmp_path):
    """Inventory mode through the collection playbook: PLAY RECAP (AWX's host summaries, "relaunch on failed hosts")
    marks exactly the desktop that failed as failed and each stopped desktop as changed."""
    seed(emulator)
    emulator.set_faults(stop_fails_to_error=['ws-blue00003'])
    run = run_playbook('fleetops.workspaces.stop_workspaces', inventory=write_inventory(tmp_path),
                       extra_vars={'workspaces_stop_hosts': 'aws_workspaces', 'workspaces_stop_tags': 'Team=blue', 'workspaces_stop_wait_timeout': 60})
    assert run.rc != 0, run
    counts = recap(run)
    assert sorted(h for h, c in counts.items() if c['failed']) == ['ws-blue00003'], counts
    assert 'ws-blue00003 in eu-west-1: StopFailed' in run.stdout
    assert stopped_ids(emulator) == ['ws-blue00001', 'ws-blue00002', 'ws-blue00003']
    assert counts.get('ws-blue00001', {}).get('changed') == 1 and counts.get('ws-blue00002', {}).get('changed') == 1, run.stdout[-4000:]
    # The role's own tasks ran once, on the first host of the play (its changed count includes them); no other host that
    # was not stopped is changed.
    role_host = max(counts, key=lambda h: counts[h]['ok'])
    assert {h for h, c in counts.items() if c['changed']} <= {'ws-blue00001', 'ws-blue00002', role_host}, counts


def test_check_mode_previews_the_plan_without_stopping(emulator, run_playbook, tmp_path):
    seed(emulator)
    before = states(emulator)
    run = run_playbook('fleetops.workspaces.stop_workspaces', check=True, diff=True, inventory=write_inventory(tmp_path),
                       extra_vars={'workspaces_stop_hosts': 'aws_workspaces', 'workspaces_stop_tags': {'Team': 'blue'}})
    assert run.rc == 0, run
    assert mutating_calls(emulator) == []
    assert states(emulator) == before
    assert 'PREVIEW (check mode), nothing was changed - inventory mode' in run.stdout
    assert 'us-east-1 would stop: ws-blue00001, ws-blue00002' in run.stdout
    assert 'eu-west-1 would stop: ws-blue00003' in run.stdout
    assert '"state": "AVAILABLE"' in run.stdout and '+        "state": "STOPPED"' in run.stdout  # --diff, per desktop


# -- safety rails ------------------------------------------------------------------------------------------------------
def test_no_selector_is_refused_without_any_call(emulator, run_playbook):
    seed(emulator)
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={'workspaces_stop_regions': REGIONS})
    assert run.rc != 0, run
    text = error_text(run)
    assert 'No WorkSpaces selected, nothing was changed (no AWS call was made)' in text
    for variable in ('workspaces_stop_workspace_ids', 'workspaces_stop_directory_ids', 'workspaces_stop_tags', 'workspaces_stop_allow_all=true'):
        assert variable in text
    assert emulator.calls() == []


def test_allow_all_stops_every_desktop_of_the_regions_but_the_excluded(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': ['eu-west-1'], 'workspaces_stop_allow_all': True, 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-blue00003', 'ws-red000002']
    assert [e['workspace_id'] for e in result['excluded']] == ['ws-keep00002']


def test_exclude_tag_wins_over_explicit_ids(emulator, run_playbook, outdir):
    """The opt-out tag (any value, even empty) beats being asked for by ID."""
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_workspace_ids': ['ws-keep00001', 'ws-keep00002', 'ws-blue00001'],
        'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-blue00001']
    assert sorted((e['workspace_id'], tuple(e['excluded_by'])) for e in result['excluded']) == [('ws-keep00001', (KEEP,)), ('ws-keep00002', (KEEP,))]
    assert 'excluded by tag: ws-keep00001, ws-keep00002' in run.stdout or 'excluded by tag: ws-keep00002, ws-keep00001' in run.stdout


def test_custom_exclude_tags_as_survey_text(emulator, run_playbook, outdir):
    """exclude_tags given as AWX survey text: Key=value entries match that value only, a bare key any value."""
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': 'us-east-1', 'workspaces_stop_tags': 'Team=blue', 'workspaces_stop_exclude_tags': 'Env=prod, fleetops:keep-running',
        'workspaces_stop_skip_connected': 'false', 'workspaces_stop_wait': 'false'})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-blue00001', 'ws-conn00001']
    assert sorted(e['workspace_id'] for e in result['excluded']) == ['ws-blue00002', 'ws-keep00001']


def test_connected_user_is_skipped(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': ['us-east-1'], 'workspaces_stop_workspace_ids': ['ws-conn00001', 'ws-blue00001'], 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-blue00001']
    assert states(emulator)['ws-conn00001'] == 'AVAILABLE'
    skipped = result['regions']['us-east-1']['skipped_workspaces']
    assert [s['workspace_id'] for s in skipped] == ['ws-conn00001'] and 'connected' in skipped[0]['reason']
    assert 'skipped 1 (a user is connected' in run.stdout


def test_max_count_exceeded_fails_before_any_stop(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': {'Team': None}, 'workspaces_stop_max_count': 3})
    assert run.rc != 0, run
    # Team-tagged, not excluded, not already stopped: ws-blue00001/2/3, ws-conn00001, ws-red000001/2 = 6.
    assert ('6 WorkSpaces would be stopped (selected, not excluded, and in a state and running mode the module would stop) but '
            'workspaces_stop_max_count is 3; nothing was changed.') in ' '.join(error_text(run).split())
    assert 'raise workspaces_stop_max_count to at least 6' in error_text(run)
    assert emulator.counts().get('StopWorkspaces', 0) == 0 and mutating_calls(emulator) == []


def test_max_count_counts_every_region_before_stopping_any(emulator, run_playbook, outdir):
    """Each region alone is within the limit (us-east-1: 4, eu-west-1: 2) but together they are not: nothing is stopped,
    not even in the first region."""
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': {'Team': None}, 'workspaces_stop_max_count': 5})
    assert run.rc != 0, run
    assert '6 WorkSpaces would be stopped' in error_text(run) and 'workspaces_stop_max_count is 5' in error_text(run)
    assert mutating_calls(emulator) == [] and emulator.counts().get('DescribeWorkspacesConnectionStatus', 0) == 0


def test_max_count_in_check_mode_shows_the_plan_then_fails(emulator, run_playbook, outdir):
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': {'Team': 'red'}, 'workspaces_stop_max_count': 1}, check=True)
    assert run.rc != 0, run
    assert 'would stop: ws-red000001' in run.stdout and 'would stop: ws-red000002' in run.stdout
    assert 'a real run would change nothing' in error_text(run)
    assert result['check_mode'] is True and result['max_count_exceeded'] is True
    assert mutating_calls(emulator) == []


# -- failures and validation -------------------------------------------------------------------------------------------
def test_failed_desktop_fails_the_play_after_every_region(emulator, run_playbook, outdir):
    """A desktop that ends in ERROR in the first region does not prevent the second; the play fails at the end, naming it."""
    seed(emulator)
    emulator.set_faults(stop_fails_to_error=['ws-blue00003'])
    run, result = run_role(run_playbook, outdir, {'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': {'Team': 'blue'},
                                                  'workspaces_stop_wait_timeout': 60})
    assert run.rc != 0, run
    assert [r for r, _ids in stop_requests(emulator)] == ['eu-west-1', 'us-east-1']  # eu-west-1 (sorted first) failed, us-east-1 still stopped
    assert states(emulator)['ws-blue00001'] == 'STOPPED'
    assert [(f['workspace_id'], f['region']) for f in result['failed_workspaces']] == [('ws-blue00003', 'eu-west-1')]
    assert result['totals']['stopped'] == 2 and result['totals']['failed'] == 1
    assert "1 WorkSpaces failed to stop: ws-blue00003 in eu-west-1 (StopFailed" in error_text(run)


def test_max_count_counts_only_what_would_be_stopped(emulator, run_playbook, outdir):
    """2 stoppable, 5 ALWAYS_ON and 3 STOPPED desktops with max_count 3: the 2 are stopped (the rail counts only the
    desktops the module would stop, with the one state table)."""
    fleet = ([{'workspace_id': 'ws-stop%05d' % i, 'tags': {'Team': 'x'}} for i in range(2)]
             + [{'workspace_id': 'ws-alwy%05d' % i, 'running_mode': 'ALWAYS_ON', 'tags': {'Team': 'x'}} for i in range(5)]
             + [{'workspace_id': 'ws-stpd%05d' % i, 'state': 'STOPPED', 'tags': {'Team': 'x'}} for i in range(3)])
    seed(emulator, {'us-east-1': fleet})
    run, result = run_role(run_playbook, outdir, {'workspaces_stop_regions': ['us-east-1'], 'workspaces_stop_tags': 'Team=x',
                                                  'workspaces_stop_max_count': 3, 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-stop00000', 'ws-stop00001']
    assert result['totals']['stopped'] == 2 and result['totals']['skipped'] == 5 and result['totals']['already_stopped'] == 3


def test_selector_mode_uses_the_region_of_the_environment(emulator, run_playbook, outdir):
    """No workspaces_stop_regions: the region AWS_REGION names (as amazon.aws modules, boto3 and the AWS CLI use it)."""
    seed(emulator)
    run, result = run_role(run_playbook, outdir, {'workspaces_stop_tags': 'Team=red', 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert stop_requests(emulator) == [('us-east-1', ['ws-red000001'])]
    assert list(result['regions']) == ['us-east-1']


def test_no_region_anywhere_is_refused_before_any_call(emulator, run_playbook, ansible_env):
    seed(emulator)
    for name in ('AWS_REGION', 'AWS_DEFAULT_REGION'):
        ansible_env.pop(name)
    ansible_env['AWS_CONFIG_FILE'] = '/nonexistent'
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={'workspaces_stop_tags': 'Team=red'})
    assert run.rc != 0 and 'No region to search, nothing was changed: set workspaces_stop_regions' in error_text(run), run
    assert emulator.calls() == []


def test_invalid_values_fail_before_any_call(emulator, run_playbook):
    seed(emulator)
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_workspace_ids': ['ws-BAD'], 'workspaces_stop_wait_timeout': 0,
        'workspaces_stop_tags': {'Cost': True}, 'workspaces_stop_max_count': -1})
    assert run.rc != 0, run
    text = ' '.join(error_text(run).split())
    assert 'Invalid variables for the fleetops.workspaces.stop role, nothing was changed' in text
    assert "workspace id 'ws-BAD' is not a WorkSpaces id" in text
    assert 'workspaces_stop_wait_timeout must be a positive number of seconds, got 0' in text
    assert "workspaces_stop_tags: the value of tag 'Cost' is the boolean True" in text
    assert 'workspaces_stop_max_count must be 0 or more, got -1' in text
    assert emulator.calls() == []


def test_argument_specs_reject_wrong_types(emulator, run_playbook):
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={
        'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': {'Team': 'blue'}, 'workspaces_stop_max_count': 'many'})
    assert run.rc != 0, run
    assert 'workspaces_stop_max_count' in error_text(run) and 'many' in error_text(run)
    assert emulator.calls() == []


# -- IAM policy -------------------------------------------------------------------------------------------------------
def test_iam_policy_is_exactly_what_the_collection_calls(emulator, run_playbook, ansible_env, tmp_path):
    """Inventory over every region (ec2:DescribeRegions), then the role with skip_connected: the union of the calls is
    exactly the policy's actions - nothing missing, nothing extra."""
    seed(emulator, {'us-east-1': FLEET['us-east-1']})
    all_regions = tmp_path / 'all.workspaces.yml'
    all_regions.write_text('plugin: fleetops.workspaces.workspaces\n')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(all_regions), '--list'],
                          env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={
        'workspaces_stop_regions': ['us-east-1'], 'workspaces_stop_tags': {'Team': 'blue'}, 'workspaces_stop_wait': False})
    assert run.rc == 0, run
    assert iam_actions(emulator.calls()) == policy_actions()
    with open(IAM_POLICY, encoding='utf-8') as handle:
        policy = json.load(handle)
    assert policy['Version'] == '2012-10-17'
    assert all(s['Effect'] == 'Allow' and '*' not in ''.join(s['Action']) for s in policy['Statement'])


def test_run_report_files_have_one_row_per_desktop_and_no_secret(emulator, run_playbook, outdir, tmp_path, ansible_env):
    seed(emulator)
    report_dir = tmp_path / 'reports'
    run, result = run_role(run_playbook, outdir, {'workspaces_stop_regions': REGIONS, 'workspaces_stop_tags': 'Team=blue',
                                                  'workspaces_stop_wait': False, 'workspaces_stop_report_path': str(report_dir)})
    assert run.rc == 0, run
    files = sorted(os.listdir(report_dir))
    assert len(files) == 2 and files[0].endswith('.csv') and files[1].endswith('.json') and files[0][:-4] == files[1][:-5]
    assert sorted(result['report_files']) == sorted(str(report_dir / f) for f in files)
    assert 'report: ' in run.stdout
    with open(report_dir / files[1], encoding='utf-8') as handle:
        report = json.load(handle)
    with open(report_dir / files[0], encoding='utf-8') as handle:
        rows = list(csv.DictReader(handle))
    fields = ['region', 'workspace_id', 'directory_id', 'user_name', 'outcome', 'reason', 'error_code', 'state_before', 'state_after',
              'idle_minutes']
    assert report['fields'] == fields and list(rows[0]) == fields
    outcomes = {r['workspace_id']: r['outcome'] for r in report['workspaces']}
    assert outcomes == {'ws-blue00001': 'stopped', 'ws-blue00002': 'stopped', 'ws-blue00003': 'stopped', 'ws-stopd0001': 'already_stopped',
                        'ws-conn00001': 'skipped', 'ws-keep00001': 'excluded'}
    assert {r['workspace_id']: r['outcome'] for r in rows} == outcomes
    assert all(r['state_before'] and r['directory_id'] and r['user_name'] for r in report['workspaces'])
    text = ''.join((report_dir / f).read_text() for f in files)
    for secret in (ansible_env['AWS_SECRET_ACCESS_KEY'], ansible_env['AWS_ACCESS_KEY_ID']):
        assert secret not in text


IDLE_FLEET = {'us-east-1': [
    {'workspace_id': 'ws-idle00001', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 300},
    {'workspace_id': 'ws-idle00002', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 'never'},
    {'workspace_id': 'ws-busy00001', 'tags': {'Team': 'blue'}, 'last_connected_minutes_ago': 20},
    {'workspace_id': 'ws-busy00002', 'tags': {'Team': 'blue'}, 'connection_state': 'CONNECTED'},
    {'workspace_id': 'ws-unkn00001', 'tags': {'Team': 'blue'}, 'connection_state': 'NONE'},
]}


@pytest.mark.parametrize('mode', ['selectors', 'inventory'])
def test_min_idle_minutes_stops_only_the_idle_desktops(emulator, run_playbook, outdir, tmp_path, mode):
    """By tag with workspaces_stop_min_idle_minutes, in both modes: the idle and never-used desktops are stopped; a recent
    user, a connected one and one without connection status are skipped, and the summary counts them by kind."""
    seed(emulator, IDLE_FLEET)
    extra = {'workspaces_stop_tags': 'Team=blue', 'workspaces_stop_min_idle_minutes': '60', 'workspaces_stop_wait': False}
    kwargs = {}
    if mode == 'inventory':
        extra['workspaces_stop_hosts'] = 'aws_workspaces'
        kwargs['inventory'] = write_inventory(tmp_path, ['us-east-1'])
    run, result = run_role(run_playbook, outdir, extra, **kwargs)
    assert run.rc == 0, run
    assert stopped_ids(emulator) == ['ws-idle00001', 'ws-idle00002']
    skipped = {s['workspace_id']: s['reason'] for s in result['regions']['us-east-1']['skipped_workspaces']}
    assert sorted(skipped) == ['ws-busy00001', 'ws-busy00002', 'ws-unkn00001']
    assert 'min_idle_minutes=60' in skipped['ws-busy00001'] and 'connection status unknown' in skipped['ws-unkn00001']
    assert 'idle for less than min_idle_minutes=60: 1' in run.stdout and 'only those idle for at least 60 minutes' in run.stdout
    assert emulator.counts()['DescribeWorkspacesConnectionStatus'] == 1


def test_min_idle_minutes_without_skip_connected_is_refused_before_any_call(emulator, run_playbook):
    seed(emulator, IDLE_FLEET)
    run = run_playbook('fleetops.workspaces.stop_workspaces', extra_vars={
        'workspaces_stop_tags': 'Team=blue', 'workspaces_stop_min_idle_minutes': 60, 'workspaces_stop_skip_connected': False})
    expected = 'workspaces_stop_min_idle_minutes must be 0 (off) or more minutes, and needs workspaces_stop_skip_connected=true'
    assert run.rc != 0 and expected in ' '.join(error_text(run).split()), run
    assert emulator.calls() == []
