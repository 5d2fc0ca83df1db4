# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the stop_result and stop_summary filters: region outcomes, failures, totals, the readable lines (no AWS)."""
from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.workspaces.plugins.filter.stop_plan import stop_plan
from ansible_collections.fleetops.workspaces.plugins.filter.stop_result import FilterModule as ResultFilters
from ansible_collections.fleetops.workspaces.plugins.filter.stop_result import stop_result
from ansible_collections.fleetops.workspaces.plugins.filter.stop_summary import FilterModule as SummaryFilters
from ansible_collections.fleetops.workspaces.plugins.filter.stop_summary import stop_summary

CONNECTED = 'a user is connected (ConnectionState CONNECTED)'
ALWAYS_ON = 'running mode ALWAYS_ON cannot be stopped (only AUTO_STOP and MANUAL desktops can)'


def skipped(workspace_id, reason=CONNECTED):
    return {'workspace_id': workspace_id, 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP', 'reason': reason}


def failure(workspace_id, code='StopFailed', message='the desktop is in state ERROR after the stop request instead of STOPPED'):
    return {'workspace_id': workspace_id, 'error_code': code, 'error_message': message, 'state': 'ERROR'}


def module_result(stopped=(), already=(), skipped_entries=(), missing=(), failed=(), changed=None, **extra):
    """A registered workspaces_stop result (return_workspaces=false), as the role's loop registers it."""
    result = {'changed': bool(stopped) if changed is None else changed, 'stopped': list(stopped), 'already_stopped': list(already),
              'skipped_workspaces': list(skipped_entries), 'missing': list(missing), 'failed_workspaces': list(failed),
              'summary': {}, 'diff': {'before': {}, 'after': {}}, '_workspaces_stop_region': 'ignored', 'ansible_loop_var': '_workspaces_stop_region'}
    if failed:
        result['failed'] = True
        result['msg'] = '%d of N WorkSpaces failed to stop' % len(failed)
    result.update(extra)
    return result


def plan_of(regions, excluded=(), not_found=(), selected=None, mode='selectors', exceeded=False, candidates=0):
    return {'mode': mode, 'selected': selected if selected is not None else sum(len(r['requested']) for r in regions.values()) + len(excluded),
            'excluded': list(excluded), 'not_found': list(not_found), 'candidates': candidates, 'max_count': 500,
            'max_count_exceeded': exceeded, 'regions': regions, 'stop_regions': sorted(regions), 'errors': []}


def region_plan(*ids, pre_skipped=()):
    return {'requested': list(ids), 'workspace_ids': [i for i in ids if i not in {s['workspace_id'] for s in pre_skipped}],
            'skipped_workspaces': list(pre_skipped)}


def test_filters_are_registered():
    assert ResultFilters().filters() == {'stop_result': stop_result}
    assert SummaryFilters().filters() == {'stop_summary': stop_summary}


def test_outcomes_of_every_region_and_totals():
    plan = plan_of({'us-east-1': region_plan('ws-a0000001', 'ws-a0000002', 'ws-a0000003', 'ws-a0000004'),
                    'eu-west-1': region_plan('ws-b0000001')},
                   excluded=[{'workspace_id': 'ws-k0000001', 'region': 'us-east-1', 'excluded_by': ['fleetops:keep-running']}])
    outcomes = {'us-east-1': module_result(stopped=['ws-a0000001', 'ws-a0000002'], already=['ws-a0000003'], skipped_entries=[skipped('ws-a0000004')]),
                'eu-west-1': module_result(stopped=['ws-b0000001'])}
    result = stop_result(outcomes, plan)
    json.dumps(result)
    assert sorted(result) == ['check_mode', 'excluded', 'failed_regions', 'failed_workspaces', 'max_count_exceeded', 'mode', 'not_found',
                              'regions', 'totals']
    assert list(result['regions']) == ['eu-west-1', 'us-east-1']
    us_east = result['regions']['us-east-1']
    assert us_east == {
        'requested': ['ws-a0000001', 'ws-a0000002', 'ws-a0000003', 'ws-a0000004'], 'stopped': ['ws-a0000001', 'ws-a0000002'],
        'already_stopped': ['ws-a0000003'], 'skipped_workspaces': [skipped('ws-a0000004')], 'missing': [], 'failed_workspaces': [],
        'not_attempted': [], 'changed': True, 'error': None,
        'summary': {'requested': 4, 'stopped': 2, 'already_stopped': 1, 'skipped': 1, 'missing': 0, 'failed': 0, 'not_attempted': 0},
    }
    assert result['totals'] == {'selected': 6, 'excluded': 1, 'not_found': 0, 'requested': 5, 'stopped': 3, 'already_stopped': 1, 'skipped': 1,
                                'missing': 0, 'failed': 0, 'not_attempted': 0, 'regions': 2, 'failed_regions': 0}
    assert result['failed_workspaces'] == [] and result['failed_regions'] == [] and result['check_mode'] is False
    assert result['mode'] == 'selectors' and result['excluded'] == plan['excluded'] and result['max_count_exceeded'] is False


def test_failed_desktops_are_listed_with_their_region_and_are_not_a_region_error():
    plan = plan_of({'eu-west-1': region_plan('ws-b0000001', 'ws-b0000002'), 'us-east-1': region_plan('ws-a0000001')})
    outcomes = {'eu-west-1': module_result(stopped=['ws-b0000002'], failed=[failure('ws-b0000001')]),
                'us-east-1': module_result(failed=[failure('ws-a0000001')])}
    result = stop_result(outcomes, plan)
    assert [(f['workspace_id'], f['region']) for f in result['failed_workspaces']] == [('ws-b0000001', 'eu-west-1'), ('ws-a0000001', 'us-east-1')]
    assert result['failed_workspaces'][0]['error_code'] == 'StopFailed'
    assert result['regions']['eu-west-1']['error'] is None and result['regions']['eu-west-1']['not_attempted'] == []
    assert result['totals']['failed'] == 2 and result['totals']['failed_regions'] == 0


def test_a_region_that_failed_as_a_whole_lists_what_it_did_not_attempt():
    plan = plan_of({'us-east-1': region_plan('ws-a0000001', 'ws-a0000002', 'ws-a0000003'), 'eu-west-1': region_plan('ws-b0000001')})
    outcomes = {
        'us-east-1': {'failed': True, 'msg': 'WorkSpaces API call failed after 1 desktops were asked to stop; see stopped',
                      'stopped': ['ws-a0000001'], 'already_stopped': [], 'skipped_workspaces': [], 'missing': [], 'failed_workspaces': []},
        'eu-west-1': {'failed': True},  # no message at all (for example a background job that could not start)
    }
    result = stop_result(outcomes, plan)
    us_east = result['regions']['us-east-1']
    assert us_east['not_attempted'] == ['ws-a0000002', 'ws-a0000003'] and us_east['error'].startswith('WorkSpaces API call failed')
    assert result['regions']['eu-west-1']['error'] == 'failed without a message'
    assert result['failed_regions'] == [
        {'region': 'eu-west-1', 'error': 'failed without a message', 'not_attempted': ['ws-b0000001']},
        {'region': 'us-east-1', 'error': us_east['error'], 'not_attempted': ['ws-a0000002', 'ws-a0000003']},
    ]
    assert result['totals']['failed_regions'] == 2 and result['totals']['not_attempted'] == 3 and result['totals']['stopped'] == 1


def test_desktops_the_plan_skipped_come_first_and_regions_without_a_call_still_report_them():
    gone = {'workspace_id': 'ws-gone00001', 'state': 'TERMINATED', 'running_mode': 'AUTO_STOP', 'reason': 'terminated'}
    gone2 = dict(gone, workspace_id='ws-gone00002')
    plan = plan_of({'us-east-1': region_plan('ws-a0000001', 'ws-gone00001', pre_skipped=[gone]),
                    'ap-southeast-2': region_plan('ws-gone00002', pre_skipped=[gone2])}, mode='inventory')
    result = stop_result({'us-east-1': module_result(stopped=['ws-a0000001'], skipped_entries=[skipped('ws-a0000009')])}, plan)
    assert [s['workspace_id'] for s in result['regions']['us-east-1']['skipped_workspaces']] == ['ws-gone00001', 'ws-a0000009']
    assert result['regions']['ap-southeast-2']['skipped_workspaces'] == [gone2]
    assert result['regions']['ap-southeast-2']['changed'] is False and result['regions']['ap-southeast-2']['error'] is None
    assert result['totals']['regions'] == 2 and result['totals']['skipped'] == 3


def test_no_region_no_outcome():
    result = stop_result({}, plan_of({}, not_found=['ws-nothere01'], selected=0))
    assert result['regions'] == {} and result['totals']['regions'] == 0 and result['totals']['not_found'] == 1
    assert stop_result(None, plan_of({}))['regions'] == {}


def test_check_mode_and_max_count_come_from_the_run_and_the_plan():
    result = stop_result({}, plan_of({}, exceeded=True), check_mode=True)
    assert result['check_mode'] is True and result['max_count_exceeded'] is True


def test_plan_and_result_end_to_end():
    """stop_plan's output is what stop_result reads."""
    desktops = [{'workspace_id': 'ws-a000000%d' % i, 'region': 'us-east-1', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP', 'tags': {}}
                for i in range(3)]
    plan = stop_plan(desktops)
    result = stop_result({'us-east-1': module_result(stopped=plan['regions']['us-east-1']['requested'])}, plan)
    assert result['totals']['stopped'] == 3 and result['totals']['selected'] == 3


@pytest.mark.parametrize('outcomes, plan, message', [
    ([], plan_of({}), 'must be a dictionary of region name'),
    ({}, None, 'plan must be the result of the fleetops.workspaces.stop_plan filter'),
    ({}, {'mode': 'inventory'}, 'plan must be the result'),
])
def test_bad_input_is_a_clear_error(outcomes, plan, message):
    with pytest.raises(AnsibleFilterError, match=message):
        stop_result(outcomes, plan)


# -- summary -----------------------------------------------------------------------------------------------------------
def test_summary_lines():
    plan = plan_of({'us-east-1': region_plan('ws-a0000001', 'ws-a0000002', 'ws-a0000003', 'ws-a0000004', 'ws-a0000005', 'ws-a0000006'),
                    'eu-west-1': region_plan('ws-b0000001')},
                   excluded=[{'workspace_id': 'ws-k%07d' % i, 'region': 'us-east-1', 'excluded_by': ['k']} for i in range(12)],
                   not_found=['ws-nothere01'])
    outcomes = {'us-east-1': module_result(stopped=['ws-a0000001'], already=['ws-a0000002'],
                                           skipped_entries=[skipped('ws-a0000003'), skipped('ws-a0000004', ALWAYS_ON), skipped('ws-a0000005')],
                                           failed=[failure('ws-a0000006')]),
                'eu-west-1': {'failed': True, 'msg': 'Rate exceeded'}}
    lines = stop_summary(stop_result(outcomes, plan))
    assert lines == [
        'WorkSpaces stop - selectors mode: 19 selected, 12 excluded by tag, 1 not found: ws-nothere01',
        'excluded by tag: ws-k0000000, ws-k0000001, ws-k0000002, ws-k0000003, ws-k0000004, ws-k0000005, ws-k0000006, ws-k0000007,'
        ' ws-k0000008, ws-k0000009 and 2 more',
        'eu-west-1: stopped 0, already stopped 0, skipped 0, missing 0, failed 0, REGION FAILED: Rate exceeded (1 desktops not attempted)',
        'us-east-1: stopped 1, already stopped 1, skipped 3 (%s: 2; %s: 1), missing 0, failed 1 (ws-a0000006)' % (CONNECTED, ALWAYS_ON),
        'total: stopped 1, already stopped 1, skipped 3, missing 0, failed 1, regions 2 (1 failed)',
    ]


def test_summary_in_check_mode_lists_what_would_be_stopped():
    plan = plan_of({'us-east-1': region_plan('ws-a0000001', 'ws-a0000002')}, mode='inventory')
    lines = stop_summary(stop_result({'us-east-1': module_result(stopped=['ws-a0000001', 'ws-a0000002'])}, plan, check_mode=True))
    assert lines == [
        'PREVIEW (check mode), nothing was stopped - inventory mode: 2 selected, 0 excluded by tag',
        'us-east-1: would stop 2, already stopped 0, skipped 0, missing 0, failed 0',
        '  us-east-1 would stop: ws-a0000001, ws-a0000002',
        'total: would stop 2, already stopped 0, skipped 0, missing 0, failed 0, regions 1 (0 failed)',
    ]


def test_inventory_mode_says_where_each_region_was_planned_from():
    recent = dict(region_plan('ws-a0000001'), read_again=False, inventory_age=14)
    old = dict(region_plan('ws-b0000001'), read_again=True, inventory_age=3605)
    unknown = dict(region_plan('ws-c0000001'), read_again=True, inventory_age=None)
    plan = plan_of({'us-east-1': recent, 'eu-west-1': old, 'ap-south-1': unknown}, mode='inventory')
    outcomes = {'us-east-1': module_result(stopped=['ws-a0000001']), 'eu-west-1': module_result(stopped=['ws-b0000001']),
                'ap-south-1': module_result(stopped=['ws-c0000001'])}
    result = stop_result(outcomes, plan)
    assert (result['regions']['us-east-1']['read_again'], result['regions']['us-east-1']['inventory_age']) == (False, 14)
    assert stop_summary(result)[1:4] == [
        'ap-south-1 (read again: the inventory is of unknown age): stopped 1, already stopped 0, skipped 0, missing 0, failed 0',
        'eu-west-1 (read again: the inventory is 3605 s old): stopped 1, already stopped 0, skipped 0, missing 0, failed 0',
        'us-east-1 (planned from the inventory, read 14 s before): stopped 1, already stopped 0, skipped 0, missing 0, failed 0',
    ]
    # Selectors mode says nothing of the kind.
    assert 'read_again' not in stop_result(outcomes, plan_of({'us-east-1': region_plan('ws-a0000001')}))['regions']['us-east-1']


def test_summary_of_nothing():
    assert stop_summary(stop_result({}, plan_of({}, selected=0))) == [
        'WorkSpaces stop - selectors mode: 0 selected, 0 excluded by tag',
        'nothing to stop',
        'total: stopped 0, already stopped 0, skipped 0, missing 0, failed 0, regions 0 (0 failed)',
    ]


def test_summary_of_something_else_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match='must be the result of the fleetops.workspaces.stop_result filter'):
        stop_summary({'regions': {}})
