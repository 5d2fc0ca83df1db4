# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/awx/configure.yml, the configuration of AWX as code, is checked without an AWX: ``ansible-playbook
--syntax-check``, its survey play (the only one that makes no AWX call) run for real, and the shape of what it would
create against docs/awx.md. Nothing here talks to an AWX or pretends to.

The playbook uses the awx.awx collection. When it is installed it is used; otherwise (it is not part of the ansible
package) the syntax check runs against stand-in modules named by the ``mock_modules`` list of .ansible-lint, the list
ansible-lint lints the playbook with, so that a module outside that list fails the check.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CONFIGURE = os.path.join(REPO, 'docs', 'awx', 'configure.yml')
STUB = '''#!/usr/bin/python
DOCUMENTATION = """
module: {name}
short_description: Stand-in for awx.awx.{name} (syntax check only)
description: [Stand-in.]
options: {{}}
author: [fleetops.workspaces tests]
"""
from ansible.module_utils.basic import AnsibleModule
AnsibleModule(argument_spec={{}}).fail_json(msg="stand-in for awx.awx.{name}: never run")
'''


def mocked_modules():
    with open(os.path.join(REPO, '.ansible-lint'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['mock_modules']


def real_awx_collection(env):
    proc = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', 'awx.awx', '--format', 'json'], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode == 0 and any('awx.awx' in found for found in json.loads(proc.stdout or '{}').values())


@pytest.fixture
def awx_env(tmp_path, collections_path):
    """An environment where awx.awx resolves: the real collection if installed, else the stand-ins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'CONTROLLER_', 'TOWER_', 'AWS_'))}
    env.update(ANSIBLE_HOME=str(tmp_path / 'home'), ANSIBLE_NOCOLOR='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_COLLECTIONS_PATH=collections_path)
    if not real_awx_collection(env):
        modules = tmp_path / 'stand-ins' / 'ansible_collections' / 'awx' / 'awx' / 'plugins' / 'modules'
        modules.mkdir(parents=True)
        for fqcn in mocked_modules():
            assert fqcn.startswith('awx.awx.'), fqcn
            name = fqcn.split('.')[-1]
            (modules / ('%s.py' % name)).write_text(STUB.format(name=name))
        env['ANSIBLE_COLLECTIONS_PATH'] = os.pathsep.join([str(tmp_path / 'stand-ins'), collections_path])
    return env


def playbook(*args, env):
    return subprocess.run([os.path.join(BIN, 'ansible-playbook'), CONFIGURE, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False, cwd=REPO)


def read_configure():
    with open(CONFIGURE, encoding='utf-8') as handle:
        return handle.read()


def load_plays():
    with open(CONFIGURE, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def awx_tasks():
    """{module: [task arguments]} of the AWX play."""
    found = {}
    for play in load_plays():
        for task in play.get('tasks', []):
            for key, value in task.items():
                if key.startswith('awx.awx.'):
                    found.setdefault(key.split('.')[-1], []).append(value)
    return found


def test_syntax_check(awx_env):
    proc = playbook('--syntax-check', env=awx_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_awx_module_used_is_in_the_lint_stand_ins():
    used = {'awx.awx.%s' % name for name in awx_tasks()}
    assert used and used <= set(mocked_modules()), sorted(used - set(mocked_modules()))


def test_the_survey_play_reads_the_survey_files(awx_env):
    """The first play (tag surveys) reads docs/awx/survey.json as it is now and checks that it is a survey; no AWX call."""
    proc = playbook('--tags', 'surveys', env=dict(awx_env, ANSIBLE_CALLBACK_RESULT_FORMAT='json'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'ok=2' in proc.stdout and 'failed=0' in proc.stdout
    assert 'TASK [Execution environment' not in proc.stdout  # the AWX play's tasks did not run


def test_the_survey_play_refuses_a_broken_survey(awx_env, tmp_path):
    """The survey check can fail: the same playbook next to a survey without questions stops before any AWX task."""
    copy = tmp_path / 'awx'
    copy.mkdir()
    (copy / 'configure.yml').write_text(read_configure())
    (copy / 'survey.json').write_text(json.dumps({'name': 'x', 'description': 'y', 'spec': []}))
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), str(copy / 'configure.yml')], env=awx_env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode != 0 and 'not a valid survey specification' in proc.stdout, proc.stdout + proc.stderr
    assert 'awx.awx' not in proc.stdout.split('PLAY RECAP')[0]  # failed in the first play: no AWX task started


def test_objects_match_docs_awx():
    """What the playbook would create is what docs/awx.md describes."""
    plays = load_plays()
    tasks = awx_tasks()
    names = plays[1]['vars']['fleetops_awx_names']
    # The surveys are read from the JSON files at run time, never copied into the playbook.
    text = read_configure()
    assert "lookup('ansible.builtin.file', playbook_dir ~ '/survey.json')" in text and 'question_name' not in text
    # Inventory source from the project, with the plugin's file name, updated on launch, overwriting.
    (source,) = tasks['inventory_source']
    assert source['source'] == 'scm' and source['update_on_launch'] is True and source['overwrite'] is True
    assert plays[1]['vars']['fleetops_awx_inventory_file'].endswith('.workspaces.yml')
    # Two job templates: run and check (with diff), both with the survey, the credential and the failure notification.
    (templates,) = tasks['job_template']
    assert templates['survey_spec'] == '{{ fleetops_awx_stop_survey }}' and templates['survey_enabled'] is True
    assert templates['notification_templates_error'] == ['{{ fleetops_awx_names.notification }}']
    loop = plays[1]['tasks'][[i for i, t in enumerate(plays[1]['tasks']) if 'awx.awx.job_template' in t][0]]['loop']
    assert [(t['job_type'], t['diff_mode']) for t in loop] == [('run', False), ('check', True)]
    # The nightly schedule runs the real template with survey answers.
    (schedule,) = tasks['schedule']
    assert schedule['unified_job_template'] == '{{ fleetops_awx_names.stop }}' and 'RRULE:FREQ=' in plays[1]['vars']['fleetops_awx_schedule_rrule']
    assert set(plays[1]['vars']['fleetops_awx_schedule_answers']) <= {q['variable'] for q in survey_spec()['spec']}
    # The workflow: preview (check) -> approval -> stop (run), each on success.
    (workflow,) = tasks['workflow_job_template']
    nodes = {n['identifier']: n for n in workflow['schema']}
    assert nodes['preview']['unified_job_template']['name'] == '{{ fleetops_awx_names.preview }}'
    assert nodes['approve']['unified_job_template']['type'] == 'workflow_approval'
    assert nodes['stop']['unified_job_template']['name'] == '{{ fleetops_awx_names.stop }}'
    assert [n['identifier'] for n in nodes['preview']['related']['success_nodes']] == ['approve']
    assert [n['identifier'] for n in nodes['approve']['related']['success_nodes']] == ['stop']
    assert all(not n['related']['failure_nodes'] and not n['related']['always_nodes'] for n in nodes.values())
    assert workflow['notification_templates_error'] == ['{{ fleetops_awx_names.notification }}']
    assert names['preview'] != names['stop']


def survey_spec():
    with open(os.path.join(REPO, 'docs', 'awx', 'survey.json'), encoding='utf-8') as handle:
        return json.load(handle)
