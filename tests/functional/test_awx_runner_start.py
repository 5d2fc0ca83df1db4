# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX path of the morning job "Start WorkSpaces", end to end with ansible-runner, as test_awx_runner.py does for
stopping: AWX's credential variables, the answers of docs/awx/survey-start.json, the inventory source, the playbook; and
the start docs (test_awx_runner.py checks the start survey against the start role's argument specs with the stop one's)."""
from __future__ import annotations

import json
import os
import shutil

import ansible_runner
import yaml

from tests.functional.test_awx_runner import MASKED
from tests.functional.test_awx_runner import private_data_dir
from tests.functional.test_awx_runner import stats_artifact
from tests.functional.test_awx_runner import stop_region_events
from tests.functional.test_role_start import policy_actions

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, 'playbooks', 'start_workspaces.yml')
SURVEY = os.path.join(REPO, 'docs', 'awx', 'survey-start.json')
ARGUMENT_SPECS = os.path.join(REPO, 'roles', 'start', 'meta', 'argument_specs.yml')
IAM_PREFIX = {'workspaces': 'workspaces', 'tagging': 'tag', 'ec2': 'ec2'}


def survey_answers(**overrides):
    with open(SURVEY, encoding='utf-8') as handle:
        answers = {q['variable']: q['default'] for q in json.load(handle)['spec']}
    answers.update(overrides)
    return answers


def test_awx_start_job_inventory_mode(emulator, collections_path, tmp_path):
    fleet = {}
    for region, prefix in (('us-east-1', 'use'), ('eu-west-1', 'euw')):
        fleet[region] = {'workspaces': [
            {'workspace_id': 'ws-%s%06d' % (prefix, i), 'state': 'STOPPED',
             'tags': {'Schedule': 'office-hours', **({'fleetops:keep-stopped': 'yes'} if i == 3 else {})}} for i in range(4)]}
    emulator.seed({'regions': fleet})
    emulator.reset_calls()
    answers = survey_answers(workspaces_start_hosts='aws_workspaces', workspaces_start_tags='Schedule=office-hours')
    pdd = private_data_dir(tmp_path / 'pdd', emulator, collections_path, answers)
    shutil.copy(PLAYBOOK, os.path.join(pdd, 'project', 'start_workspaces.yml'))
    runner = ansible_runner.run(private_data_dir=pdd, playbook='start_workspaces.yml', ident='morning', quiet=True)
    assert (runner.status, runner.rc) == ('successful', 0), runner.stdout.read() if runner.stdout else ''

    artifact = stats_artifact(runner)['workspaces_start']
    assert artifact['mode'] == 'inventory' and artifact['check_mode'] is False
    assert artifact['totals']['started'] == 6 and artifact['totals']['excluded'] == 2 and artifact['totals']['failed'] == 0
    assert any(line.startswith('total: started 6') for line in artifact['summary'])
    started = sorted(r['WorkspaceId'] for c in emulator.calls(operation='StartWorkspaces') for r in c['params']['StartWorkspaceRequests'])
    assert started == sorted(w['workspace_id'] for r in fleet.values() for w in r['workspaces'] if not w['workspace_id'].endswith('3'))
    assert emulator.counts()['StartWorkspaces'] == 2 and 'StopWorkspaces' not in emulator.counts()
    assert set(started) <= set(runner.stats['changed'])
    # AWX's AWS_SECURITY_TOKEN reached the start module as its (no_log) session_token; the calls are the start policy's
    events = stop_region_events(runner)
    assert len(events) == 2 and all(e['event_data']['res']['invocation']['module_args']['session_token'] == MASKED for e in events)
    called = {'%s:%s' % (IAM_PREFIX[c['service']], c['operation']) for c in emulator.calls()}
    assert called <= policy_actions(), sorted(called - policy_actions())


def test_start_docs_name_every_variable_and_the_survey():
    with open(ARGUMENT_SPECS, encoding='utf-8') as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    with open(os.path.join(REPO, 'roles', 'start', 'README.md'), encoding='utf-8') as handle:
        readme = handle.read()
    assert [v for v in options if v not in readme] == []
    with open(os.path.join(REPO, 'docs', 'awx.md'), encoding='utf-8') as handle:
        awx = handle.read()
    for needle in ('Start WorkSpaces', 'docs/awx/survey-start.json', 'docs/iam-policy-start.json', 'Morning start', 'workspaces_start_used_within_days'):
        assert needle in awx, needle
