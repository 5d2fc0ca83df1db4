# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``module_defaults: group/aws`` reaches this collection's modules as it reaches amazon.aws's.

The environment of these plays carries no AWS variable at all: the region, endpoint and keys can only come from the
play's module defaults. The emulator's call log shows which access key signed each call and in which region.
"""
from __future__ import annotations

import pytest

KEY = 'AKIAGROUPAWSDEFAULTS'
FLEET = {'regions': {'eu-west-1': {'workspaces': [
    {'workspace_id': 'ws-grpaws001', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'},
    {'workspace_id': 'ws-grpaws002', 'state': 'STOPPED', 'running_mode': 'AUTO_STOP'},
]}}}
NO_AWS_ENV = {'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '', 'AWS_ENDPOINT_URL': '', 'AWS_REGION': '', 'AWS_DEFAULT_REGION': ''}


def play(group, url, outdir, task_region=''):
    return """
    - hosts: localhost
      gather_facts: false
      module_defaults:
        %(group)s:
          region: eu-west-1
          endpoint_url: %(url)s
          access_key: %(key)s
          secret_key: group-aws-secret
      tasks:
        - name: An amazon.aws module (moto serves EC2)
          amazon.aws.aws_region_info:
          register: regions
        - name: Ours, side by side
          fleetops.workspaces.workspaces_info:%(task_region)s
          register: found
        - name: Ours, acting
          fleetops.workspaces.workspaces_stop:
            workspace_ids: [ws-grpaws001, ws-grpaws002]
            wait: false
          register: stopped
        - name: Keep the results
          save_json:
            content: >-
              {{ {'regions': regions.regions | length, 'found': found.workspaces | map(attribute='workspace_id') | list,
                  'changed': stopped.changed} | to_json }}
            dest: %(out)s/result.json
    """ % {'group': group, 'url': url, 'key': KEY, 'out': outdir, 'task_region': task_region}


@pytest.mark.parametrize('group', ['group/aws', 'group/amazon.aws.aws'])
def test_group_aws_defaults_reach_amazon_aws_and_our_modules(emulator, run_playbook, outdir, read_json, group):
    emulator.seed(FLEET)
    emulator.reset_calls()
    run = run_playbook(play(group, emulator.url, outdir), env=NO_AWS_ENV)
    assert run.rc == 0, run
    result = read_json(outdir / 'result.json')
    assert result['regions'] > 0 and result['found'] == ['ws-grpaws001', 'ws-grpaws002'] and result['changed'] is True

    calls = emulator.calls()
    assert {c['operation'] for c in calls} >= {'DescribeRegions', 'DescribeWorkspaces', 'StopWorkspaces'}
    # Every call, amazon.aws's and ours, was signed with the key of the module defaults and sent to their region.
    assert {(c['access_key_id'], c['region']) for c in calls} == {(KEY, 'eu-west-1')}
    assert [r['WorkspaceId'] for c in emulator.calls(operation='StopWorkspaces') for r in c['params']['StopWorkspaceRequests']] == ['ws-grpaws001']
    assert 'group-aws-secret' not in run.stdout + run.stderr


def test_task_arguments_and_our_group_win_over_group_aws(emulator, run_playbook, outdir, read_json):
    """Precedence, lowest first: group/aws, group/fleetops.workspaces.workspaces, the task's own arguments."""
    emulator.seed({'regions': {'us-east-1': {'workspaces': [{'workspace_id': 'ws-grpaws101'}]},
                               'eu-west-1': {'workspaces': [{'workspace_id': 'ws-grpaws201'}]},
                               'us-west-2': {'workspaces': [{'workspace_id': 'ws-grpaws301'}]}}})
    emulator.reset_calls()
    run = run_playbook("""
    - hosts: localhost
      gather_facts: false
      module_defaults:
        group/aws:
          region: eu-west-1
          endpoint_url: %(url)s
          access_key: %(key)s
          secret_key: group-aws-secret
        group/fleetops.workspaces.workspaces:
          region: us-west-2
      tasks:
        - name: Our group's region
          fleetops.workspaces.workspaces_info:
          register: ours
        - name: The task's region
          fleetops.workspaces.workspaces_info:
            region: us-east-1
          register: task
        - name: Keep the results
          save_json:
            content: >-
              {{ {'ours': ours.workspaces | map(attribute='workspace_id') | list,
                  'task': task.workspaces | map(attribute='workspace_id') | list} | to_json }}
            dest: %(out)s/result.json
    """ % {'url': emulator.url, 'key': KEY, 'out': outdir}, env=NO_AWS_ENV)
    assert run.rc == 0, run
    assert read_json(outdir / 'result.json') == {'ours': ['ws-grpaws301'], 'task': ['ws-grpaws101']}
    assert {(c['access_key_id'], c['region']) for c in emulator.calls()} == {(KEY, 'us-west-2'), (KEY, 'us-east-1')}


def test_without_module_defaults_our_modules_get_no_credentials(emulator, run_playbook, outdir):
    """The control: the same play without module defaults reaches nothing (no region, no endpoint in the environment)."""
    emulator.seed(FLEET)
    emulator.reset_calls()
    run = run_playbook(play('group/fleetops.workspaces.unrelated_group_name_is_not_defined', emulator.url, outdir)
                       .replace('group/fleetops.workspaces.unrelated_group_name_is_not_defined', 'fleetops.workspaces.workspaces_stop'),
                       env=NO_AWS_ENV)
    assert run.rc != 0, run
    assert emulator.calls() == []
