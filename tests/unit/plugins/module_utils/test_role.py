# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the roles' controller-side planning and reporting (module_utils/role.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.fleetops.workspaces.plugins.module_utils import role

KEEP = {'fleetops:keep-running': None}


def desktop(workspace_id, state='AVAILABLE', mode='AUTO_STOP', region='us-east-1', tags=None, directory='d-1111111111', host=None):
    return {'workspace_id': workspace_id, 'state': state, 'running_mode': mode, 'region': region, 'tags': tags or {},
            'directory_id': directory, 'host': host}


def filters(**given):
    checked, errors = role.check_selection(given, 'workspaces_stop')
    assert errors == []
    return checked


def test_max_count_counts_only_desktops_the_module_would_stop():
    """The issue's scenario: 2 stoppable, 5 ALWAYS_ON, 3 STOPPED with max_count 3 is allowed and counts 2."""
    fleet = ([desktop('ws-stop%05d' % i) for i in range(2)] + [desktop('ws-alwy%05d' % i, mode='ALWAYS_ON') for i in range(5)]
             + [desktop('ws-stpd%05d' % i, state='STOPPED') for i in range(3)])
    plan = role.make_plan(fleet, filters(), 'stop', max_count=3)
    assert plan['counted'] == 2
    assert plan['max_count_exceeded'] is False
    assert plan['selected'] == 10
    counts = plan['regions']['us-east-1']['counts']
    assert counts['stop'] == 2 and counts['already_stopped'] == 3
    assert sum(v for k, v in counts.items() if 'ALWAYS_ON' in k) == 5
    assert role.make_plan(fleet, filters(), 'stop', max_count=1)['max_count_exceeded'] is True


@pytest.mark.parametrize('state, wait, counted', [
    ('AVAILABLE', True, 1), ('ERROR', True, 1), ('STARTING', True, 1), ('STARTING', False, 0), ('STOPPING', True, 0),
    ('SUSPENDED', True, 0), ('TERMINATED', True, 0), ('SOME_NEW_STATE', True, 0),
])
def test_counting_follows_the_one_state_table(state, wait, counted):
    assert role.make_plan([desktop('ws-abcdefgh1', state=state)], filters(), 'stop', wait=wait)['counted'] == counted


def test_exclusion_wins_over_explicit_ids_and_is_reported():
    fleet = [desktop('ws-keep00001', tags={'fleetops:keep-running': 'x'}), desktop('ws-blue00001')]
    plan = role.make_plan(fleet, filters(workspace_ids=['ws-keep00001', 'ws-blue00001'], exclude_tags=KEEP), 'stop')
    assert [e['workspace_id'] for e in plan['excluded']] == ['ws-keep00001']
    assert plan['regions']['us-east-1']['requested'] == ['ws-blue00001']


def test_selection_narrows_by_every_selector_and_region():
    fleet = [desktop('ws-blue00001', tags={'Team': 'blue'}), desktop('ws-blue00002', tags={'Team': 'blue'}, directory='d-2222222222'),
             desktop('ws-red000001', tags={'Team': 'red'}), desktop('ws-blue00003', tags={'Team': 'blue'}, region='eu-west-1')]
    plan = role.make_plan(fleet, filters(tags={'Team': 'blue'}, directory_ids=['d-1111111111']), 'stop', regions=['us-east-1'])
    assert plan['stop_regions'] == ['us-east-1']
    assert plan['regions']['us-east-1']['requested'] == ['ws-blue00001']


def test_selector_mode_keeps_descriptions_and_reports_ids_not_found():
    plan = role.make_plan([desktop('ws-blue00001')], filters(workspace_ids=['ws-blue00001', 'ws-gone00001']), 'stop')
    assert plan['not_found'] == ['ws-gone00001']
    assert plan['regions']['us-east-1']['workspaces'] == [{'workspace_id': 'ws-blue00001', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'}]
    inventory = role.make_plan([desktop('ws-blue00001', host='alice')], filters(workspace_ids=['ws-gone00001']), 'stop', mode='inventory')
    assert inventory['not_found'] == [] and inventory['regions'] == {}


@pytest.mark.parametrize('text, expected', [
    ('Team=blue,Schedule', {'Team': 'blue', 'Schedule': None}),
    ('fleetops:keep-running', {'fleetops:keep-running': None}),
    ('Owner = ceo\nEnv=prod', {'Owner': 'ceo', 'Env': 'prod'}),
    ('', {}),
])
def test_survey_tag_text(text, expected):
    assert role.text_to_tags(text) == expected


def test_survey_list_text():
    assert role.text_to_list('eu-west-1, us-east-1\nap-south-1') == ['eu-west-1', 'us-east-1', 'ap-south-1']
    assert role.text_to_list(['a']) == ['a']


def test_bad_selection_names_the_value():
    dummy, errors = role.check_selection({'workspace_ids': ['i-123'], 'tags': {'Team': True}}, 'workspaces_stop')
    text = ' '.join(errors)
    assert "'i-123'" in text and 'workspaces_stop_tags' in text and 'True' in text


def test_inventory_hosts_without_region_or_tags_are_errors():
    hosts = [dict(desktop('ws-blue00001', region=None, host='h1'), tags=None)]
    errors = role.inventory_errors(hosts, need_tags=True)
    assert len(errors) == 2 and 'h1' in errors[0] and 'h1' in errors[1]
    assert role.inventory_errors([desktop('ws-blue00001', host='h1')], need_tags=True) == []


def _plan_two_regions():
    fleet = [desktop('ws-blue00001', host='alice'), desktop('ws-blue00002', host='bob'),
             desktop('ws-blue00003', region='eu-west-1', host='carol')]
    return role.make_plan(fleet, filters(), 'stop', mode='inventory')


def test_report_accounts_every_desktop_and_names_failures():
    plan = _plan_two_regions()
    runs = {
        'us-east-1': {'changed': True, 'stopped': ['ws-blue00001'], 'already_stopped': [], 'skipped_workspaces': [], 'missing': [],
                      'failed': True, 'msg': '1 failed',
                      'failed_workspaces': [{'workspace_id': 'ws-blue00002', 'error_code': 'X', 'error_message': 'no', 'state': 'ERROR'}]},
        'eu-west-1': {'failed': True, 'msg': 'Rate exceeded'},
    }
    report = role.build_result(plan, runs, 'stop', check_mode=False)
    result = report['result']
    assert result['totals']['stopped'] == 1 and result['totals']['failed'] == 1 and result['totals']['not_attempted'] == 1
    assert result['failed_regions'] == [{'region': 'eu-west-1', 'error': 'Rate exceeded', 'not_attempted': ['ws-blue00003']}]
    assert 'ws-blue00002 in us-east-1 (X: no)' in report['fail_message'] and 'ws-blue00003' in report['fail_message']
    assert report['failed_hosts'] == [] and report['changed_hosts'] == []
    assert any(line.startswith('eu-west-1:') and 'REGION FAILED' in line for line in report['summary'])


def test_report_hands_failed_and_changed_hosts_to_later_plays():
    plan = _plan_two_regions()
    runs = {'us-east-1': {'stopped': ['ws-blue00001'], 'failed': True, 'msg': 'm',
                          'failed_workspaces': [{'workspace_id': 'ws-blue00002', 'error_code': 'X', 'error_message': 'no', 'state': None}]},
            'eu-west-1': {'stopped': ['ws-blue00003']}}
    report = role.build_result(plan, runs, 'stop', check_mode=False, account_hosts='all')
    assert [h['host'] for h in report['failed_hosts']] == ['bob']
    assert sorted(report['changed_hosts']) == ['alice', 'carol']
    assert report['fail_message'] is None  # the later play fails bob, and only bob


def test_selector_mode_failures_fail_the_role_itself():
    plan = role.make_plan([desktop('ws-blue00001')], filters(), 'stop')
    failure = {'workspace_id': 'ws-blue00001', 'error_code': 'X', 'error_message': 'no', 'state': None}
    runs = {'us-east-1': {'failed': True, 'msg': 'm', 'failed_workspaces': [failure]}}
    report = role.build_result(plan, runs, 'stop', check_mode=False, account_hosts='all')
    assert report['failed_hosts'] == [] and 'ws-blue00001' in report['fail_message']


def test_check_mode_preview_fails_at_the_end_when_max_count_would_be_exceeded():
    plan = role.make_plan([desktop('ws-blue00001'), desktop('ws-blue00002')], filters(), 'stop', max_count=1)
    report = role.build_result(plan, {'us-east-1': {'stopped': ['ws-blue00001', 'ws-blue00002']}}, 'stop', check_mode=True)
    assert 'workspaces_stop_max_count is 1' in report['fail_message'] and report['summary'][0].startswith('PREVIEW')
    assert 'EXCEEDED' in role.preview(plan, 'stop', True)[0]


def test_report_rows_cover_every_desktop_once_with_its_outcome():
    fleet = [desktop('ws-blue00001', host=None) | {'user_name': 'alice'}, desktop('ws-blue00002') | {'user_name': 'bob'},
             desktop('ws-keep00001', tags={'fleetops:keep-running': 'x'}) | {'user_name': 'carol'},
             desktop('ws-alwy00001', mode='ALWAYS_ON') | {'user_name': 'dan'}]
    plan = role.make_plan(fleet, filters(workspace_ids=['ws-blue00001', 'ws-blue00002', 'ws-keep00001', 'ws-alwy00001', 'ws-gone00001'],
                                         exclude_tags=KEEP), 'stop', details=True)
    runs = {'us-east-1': {'stopped': ['ws-blue00001'], 'failed': True, 'msg': 'm',
                          'skipped_workspaces': [{'workspace_id': 'ws-alwy00001', 'reason': 'running mode ALWAYS_ON cannot be stopped'}],
                          'failed_workspaces': [{'workspace_id': 'ws-blue00002', 'error_code': 'X', 'error_message': 'no', 'state': 'ERROR'}]}}
    rows = role.report_rows(plan, role.build_result(plan, runs, 'stop', check_mode=False)['result'], 'stop')
    by_id = {r['workspace_id']: r for r in rows}
    assert len(rows) == len(by_id) == 5 and all(tuple(r) == role.REPORT_FIELDS for r in rows)
    assert by_id['ws-blue00001'] == {'region': 'us-east-1', 'workspace_id': 'ws-blue00001', 'directory_id': 'd-1111111111', 'user_name': 'alice',
                                     'outcome': 'stopped', 'reason': None, 'error_code': None, 'state_before': 'AVAILABLE',
                                     'state_after': 'STOPPED', 'idle_minutes': None}
    assert (by_id['ws-blue00002']['outcome'], by_id['ws-blue00002']['error_code'], by_id['ws-blue00002']['state_after']) == ('failed', 'X', 'ERROR')
    assert by_id['ws-keep00001']['outcome'] == 'excluded' and by_id['ws-keep00001']['user_name'] == 'carol'
    assert by_id['ws-alwy00001']['outcome'] == 'skipped' and 'ALWAYS_ON' in by_id['ws-alwy00001']['reason']
    assert by_id['ws-gone00001']['outcome'] == 'not_found'


def test_the_controller_side_planner_imports_neither_boto3_nor_amazon_aws():
    """role.py runs in ansible-playbook itself (the roles' action plugin) on every role run: importing boto3 and
    amazon.aws there cost ~0.35 s of CPU for nothing, the AWS calls being made by the modules."""
    collections_root = os.path.abspath(os.path.join(os.path.dirname(role.__file__), *[os.pardir] * 5))
    code = ('import sys; import ansible_collections.fleetops.workspaces.plugins.module_utils.role; '
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore") or m.startswith("ansible_collections.amazon")))')
    env = dict(os.environ, PYTHONPATH=collections_root)
    proc = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '[]'
