# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX path, end to end, with ansible-runner (what AWX runs inside the execution environment): a private data
directory with AWX's credential variables, the survey answers as extra vars, an inventory source using the inventory
plugin and the project's playbook; job slices run at the same time; the survey against the role's argument specs (the
execution environment definition: test_execution_environment.py)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import ansible_runner
import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(REPO, 'playbooks', 'stop_workspaces.yml')
SURVEY = os.path.join(REPO, 'docs', 'awx', 'survey.json')
ARGUMENT_SPECS = os.path.join(REPO, 'roles', 'stop', 'meta', 'argument_specs.yml')
IAM_POLICY = os.path.join(REPO, 'docs', 'iam-policy.json')
IAM_PREFIX = {'workspaces': 'workspaces', 'tagging': 'tag', 'ec2': 'ec2'}
READ_ONLY = ('Describe', 'Get', 'List')
MASKED = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'

# The inventory source of docs/awx.md. The plugin reads AWS_SESSION_TOKEN, else AWS_SECURITY_TOKEN (amazon.aws only reads the first).
INVENTORY_SOURCE = """\
plugin: fleetops.workspaces.workspaces
regions: [us-east-1, eu-west-1]
"""


def seed_fleet(emulator, per_region=6, keep=()):
    """``per_region`` desktops in us-east-1 and in eu-west-1 (ids ws-use000000.., ws-euw000000..)."""
    fleet = {}
    for region, prefix in (('us-east-1', 'use'), ('eu-west-1', 'euw')):
        fleet[region] = {'workspaces': [
            {'workspace_id': 'ws-%s%06d' % (prefix, i), 'tags': {'Team': 'blue', **({'fleetops:keep-running': 'yes'} if i in keep else {})}}
            for i in range(per_region)]}
    emulator.seed({'regions': fleet})
    emulator.reset_calls()
    return sorted(w['workspace_id'] for region in fleet.values() for w in region['workspaces'])


def survey_answers(**overrides):
    """The extra vars AWX sends for the survey: every question's default, as AWX types it, then ``overrides``."""
    with open(SURVEY, encoding='utf-8') as handle:
        spec = json.load(handle)['spec']
    answers = {q['variable']: q['default'] for q in spec}
    answers.update(overrides)
    return answers


# What AWX's "Amazon Web Services" credential injects for temporary credentials: both token variables since AWX 21.11,
# AWS_SECURITY_TOKEN alone in older AWX and Tower.
SESSION_TOKEN = 'fleetops-awx-session-token-FwoGZXIvYXdzEJr'
AWX_TOKEN_VARIABLES = {
    'awx-21.11+': ('AWS_SECURITY_TOKEN', 'AWS_SESSION_TOKEN'),
    'awx-older-or-tower': ('AWS_SECURITY_TOKEN',),
}


def private_data_dir(root, emulator, collections_path, extravars, cmdline=None, awx='awx-older-or-tower'):
    """An AWX-like ansible-runner private data directory; returns its path. ``awx``: which AWX generation's credential
    variables the job gets (a key of AWX_TOKEN_VARIABLES)."""
    root.mkdir()
    (root / 'env').mkdir()
    (root / 'project').mkdir()
    (root / 'inventory').mkdir()
    shutil.copy(PLAYBOOK, root / 'project' / 'stop_workspaces.yml')
    (root / 'inventory' / 'aws.workspaces.yml').write_text(INVENTORY_SOURCE)
    envvars = {
        # What AWX's "Amazon Web Services" credential injects.
        'AWS_ACCESS_KEY_ID': 'ASIAFLEETOPSTEMPKEY01',
        'AWS_SECRET_ACCESS_KEY': 'fleetops-awx-temporary-secret-key',
        **{variable: SESSION_TOKEN for variable in AWX_TOKEN_VARIABLES[awx]},
        # Test plumbing: the emulator as endpoint, this checkout as the collection, this virtualenv's Ansible.
        'AWS_ENDPOINT_URL': emulator.url,
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_HOME': str(root / 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': str(root / 'ansible-tmp'),
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        'ANSIBLE_INJECT_INVOCATION': 'true',  # lets the test see which (masked) arguments the modules received
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    }
    (root / 'env' / 'envvars').write_text(yaml.safe_dump(envvars))
    (root / 'env' / 'extravars').write_text(yaml.safe_dump(extravars))
    if cmdline:
        (root / 'env' / 'cmdline').write_text(cmdline)
    return str(root)


def run_job(pdd, ident='job'):
    return ansible_runner.run(private_data_dir=pdd, playbook='stop_workspaces.yml', ident=ident, quiet=True)


def stats_artifact(runner):
    """The set_stats data of the job (what AWX shows as the job's artifacts)."""
    stats = [e for e in runner.events if e.get('event') == 'playbook_on_stats']
    assert len(stats) == 1
    return stats[0]['event_data']['artifact_data']


def stop_requests(emulator):
    return [(c['region'], [r['WorkspaceId'] for r in c['params']['StopWorkspaceRequests']]) for c in emulator.calls(operation='StopWorkspaces')]


def policy_actions():
    with open(IAM_POLICY, encoding='utf-8') as handle:
        return {a for s in json.load(handle)['Statement'] for a in ([s['Action']] if isinstance(s['Action'], str) else s['Action'])}


def assert_policy_covers(emulator):
    called = {'%s:%s' % (IAM_PREFIX[c['service']], c['operation']) for c in emulator.calls()}
    assert called <= policy_actions(), sorted(called - policy_actions())


def job_output(runner):
    return runner.stdout.read() if runner.stdout else ''


# -- jobs ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('awx', sorted(AWX_TOKEN_VARIABLES))
def test_awx_job_inventory_mode(emulator, collections_path, tmp_path, awx):
    """Job template with the survey, inventory mode: status successful, rc 0, the stats artifact, the call log; with the
    credential variables of either AWX generation, every call (inventory and modules) carries the session token."""
    fleet = seed_fleet(emulator, per_region=4, keep=(3,))
    answers = survey_answers(workspaces_stop_hosts='aws_workspaces', workspaces_stop_tags='Team=blue')
    runner = run_job(private_data_dir(tmp_path / 'pdd', emulator, collections_path, answers, awx=awx))
    assert (runner.status, runner.rc) == ('successful', 0), job_output(runner)

    artifact = stats_artifact(runner)['workspaces_stop']
    assert artifact['mode'] == 'inventory' and artifact['check_mode'] is False
    assert artifact['totals']['stopped'] == 6 and artifact['totals']['excluded'] == 2 and artifact['totals']['failed'] == 0
    assert sorted(artifact['regions']) == ['eu-west-1', 'us-east-1']
    assert artifact['regions']['us-east-1']['stopped'] == 3 and artifact['regions']['us-east-1']['error'] is None
    assert sorted(artifact['excluded']) == ['ws-euw000003', 'ws-use000003']
    assert any(line.startswith('total: stopped 6') for line in artifact['summary'])
    assert runner.stats['failures'] == {}

    expected = [w for w in fleet if not w.endswith('000003')]
    assert sorted(stop_requests(emulator)) == [('eu-west-1', [w for w in expected if 'euw' in w]), ('us-east-1', [w for w in expected if 'use' in w])]
    assert {w['workspace_id']: w['state'] for w in emulator.workspaces()} == {w: ('AVAILABLE' if w.endswith('000003') else 'STOPPED') for w in fleet}
    assert_policy_covers(emulator)

    # The play's stats name each stopped desktop as changed (AWX's host summaries), none as failed.
    assert set(expected) <= set(runner.stats['changed'])

    # The credential's token reached the inventory plugin and the modules (as their no_log session_token): every call sent it.
    assert {(c['access_key_id'], c['session_token_sent']) for c in emulator.calls()} == {('ASIAFLEETOPSTEMPKEY01', True)}
    assert SESSION_TOKEN not in json.dumps(list(runner.events))
    stop_events = stop_region_events(runner)
    assert len(stop_events) == 2
    assert all(e['event_data']['res']['invocation']['module_args']['session_token'] == MASKED for e in stop_events)
    # Inventory mode: the module gets the hosts' IDs and reads them again (the inventory may be old), and is asked for no
    # descriptions back.
    for event in stop_events:
        res = event['event_data']['res']
        args = res['invocation']['module_args']
        assert args['return_workspaces'] is False and args['workspaces'] is None
        assert 'workspaces' not in res
    assert sorted(w for e in stop_events for w in e['event_data']['res']['invocation']['module_args']['workspace_ids']) == expected


def stop_region_events(runner):
    """The item results of the role's per-region stop task (the module run by the role's planner)."""
    return [e for e in runner.events if e.get('event') == 'runner_item_on_ok'
            and e['event_data'].get('task_action') == 'fleetops.workspaces.role_planner' and 'invocation' in e['event_data']['res']]


def test_awx_preview_job_selector_mode(emulator, collections_path, tmp_path):
    """The "preview" job template: check mode (job type Check), selector mode from the survey; nothing is stopped."""
    seed_fleet(emulator, per_region=3)
    answers = survey_answers(workspaces_stop_regions='us-east-1, eu-west-1', workspaces_stop_workspace_ids='ws-use000000\n ws-euw000001',
                             workspaces_stop_wait='false')
    runner = run_job(private_data_dir(tmp_path / 'pdd', emulator, collections_path, answers, cmdline='--check --diff'))
    assert (runner.status, runner.rc) == ('successful', 0), job_output(runner)
    artifact = stats_artifact(runner)['workspaces_stop']
    assert artifact['check_mode'] is True and artifact['mode'] == 'selectors'
    assert artifact['totals']['stopped'] == 2  # would stop
    assert [c['operation'] for c in emulator.calls() if not c['operation'].startswith(READ_ONLY)] == []
    # The job's inventory source lists each region (one GetResources, one DescribeWorkspaces without IDs); then the role reads
    # each region once (workspaces_info by ID) and workspaces_stop plans from those descriptions, reduced to what it needs.
    assert emulator.counts() == {'GetResources': 2 + 2, 'DescribeWorkspaces': 2 + 2, 'DescribeWorkspacesConnectionStatus': 2}
    assert len([c for c in emulator.calls(operation='DescribeWorkspaces') if c['params'].get('WorkspaceIds')]) == 2
    stop_events = stop_region_events(runner)
    assert len(stop_events) == 2
    for event in stop_events:
        args = event['event_data']['res']['invocation']['module_args']
        assert args['workspace_ids'] is None and args['return_workspaces'] is False
        assert [sorted(d) for d in args['workspaces']] == [['running_mode', 'state', 'workspace_id']]
    assert {w['state'] for w in emulator.workspaces()} == {'AVAILABLE'}
    assert_policy_covers(emulator)


def test_awx_job_slices_stop_each_desktop_exactly_once(emulator, collections_path, tmp_path):
    """Two slices of one sliced job template at the same time, each with half of the inventory. AWX runs each slice
    as its own ansible-runner process; so does this test (two ``ansible-runner run`` processes in parallel)."""
    fleet = seed_fleet(emulator, per_region=6)
    answers = survey_answers(workspaces_stop_hosts='aws_workspaces', workspaces_stop_wait='false')
    procs = []
    for index, limit in enumerate(('aws_workspaces[0:5]', 'aws_workspaces[6:11]')):
        pdd = private_data_dir(tmp_path / ('slice%d' % index), emulator, collections_path, answers)
        cmd = [os.path.join(BIN, 'ansible-runner'), 'run', pdd, '--playbook', 'stop_workspaces.yml', '--limit', limit, '--ident', 'slice', '--quiet']
        procs.append((pdd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))  # pylint: disable=consider-using-with
    per_slice = []
    for pdd, proc in procs:
        output = proc.communicate(timeout=300)[0]
        artifacts = os.path.join(pdd, 'artifacts', 'slice')
        with open(os.path.join(artifacts, 'status'), encoding='utf-8') as status, open(os.path.join(artifacts, 'rc'), encoding='utf-8') as rc:
            assert (status.read().strip(), rc.read().strip(), proc.returncode) == ('successful', '0', 0), output + read_stdout(artifacts)
        per_slice.append(artifact_events_stats(artifacts)['workspaces_stop']['totals'])

    sent = [w for _region, ids in stop_requests(emulator) for w in ids]
    assert sorted(sent) == fleet  # every desktop exactly once, across both slices
    assert [t['stopped'] for t in per_slice] == [6, 6] and [t['selected'] for t in per_slice] == [6, 6]
    assert_policy_covers(emulator)


def read_stdout(artifacts):
    path = os.path.join(artifacts, 'stdout')
    if not os.path.exists(path):
        return ''
    with open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read()[-6000:]


def artifact_events_stats(artifacts):
    """artifact_data of the playbook_on_stats event in artifacts/<ident>/job_events (the set_stats data AWX shows)."""
    events_dir = os.path.join(artifacts, 'job_events')
    for name in os.listdir(events_dir):
        with open(os.path.join(events_dir, name), encoding='utf-8') as handle:
            event = json.load(handle)
        if event.get('event') == 'playbook_on_stats':
            return event['event_data']['artifact_data']
    raise AssertionError('no playbook_on_stats event in %s' % events_dir)


# -- survey and execution environment ------------------------------------------------------------------------------------
@pytest.mark.parametrize('role, survey_file, condition, keep', [
    ('stop', 'survey.json', 'min_idle_minutes', 'fleetops:keep-running'),
    ('start', 'survey-start.json', 'used_within_days', 'fleetops:keep-stopped'),
])
def test_survey_matches_the_playbook_and_the_role(role, survey_file, condition, keep):
    with open(os.path.join(REPO, 'docs', 'awx', survey_file), encoding='utf-8') as handle:
        survey = json.load(handle)
    with open(os.path.join(REPO, 'roles', role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    with open(os.path.join(REPO, 'playbooks', '%s_workspaces.yml' % role), encoding='utf-8') as handle:
        playbook_text = handle.read()
    prefix = 'workspaces_%s_' % role
    variables = [q['variable'] for q in survey['spec']]
    assert len(variables) == len(set(variables))
    # Only what an operator decides per run (selection, opt-out tags, the maximum), each a role variable (or the play's
    # hosts, documented in the playbook's header); tuning knobs are template extra vars, not questions.
    assert set(variables) == {prefix + v for v in ('hosts', 'regions', 'workspace_ids', 'directory_ids', 'tags', 'exclude_tags',
                                                   'allow_all', condition, 'max_count')}
    assert set(variables) - {prefix + 'hosts'} <= set(options) and prefix + 'hosts' in playbook_text
    for question in survey['spec']:
        assert question['type'] in ('text', 'textarea', 'integer', 'multiplechoice', 'multiselect'), question
        assert question['question_name'] and question['question_description']
        if question['type'] == 'multiplechoice':
            assert question['default'] in question['choices']
        option = options.get(question['variable'])
        if option is None:
            continue
        default = option.get('default')
        if option['type'] == 'int':
            assert question['type'] == 'integer' and question['default'] == default, question
        elif option['type'] == 'bool':
            assert question['choices'] and {c.lower() for c in question['choices']} == {'true', 'false'}
            assert question['default'] == str(default).lower(), question
    exclude = next(q for q in survey['spec'] if q['variable'] == prefix + 'exclude_tags')
    assert exclude['required'] and exclude['default'] == keep


def test_collection_declares_its_python_requirements_for_ansible_builder():
    """ansible-builder's introspection of this collection finds boto3 and botocore (meta/execution-environment.yml)."""
    scripts = os.path.join(os.path.dirname(__import__('ansible_builder').__file__), '_target_scripts')
    sys.path.insert(0, scripts)
    try:
        import introspect  # pylint: disable=import-outside-toplevel,import-error
    finally:
        sys.path.remove(scripts)
    python, system = introspect.process_collection(REPO)
    assert {line.split('>')[0].split('=')[0] for line in python} >= {'boto3', 'botocore'}
    assert system == []
    with open(os.path.join(REPO, 'meta', 'execution-environment.yml'), encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    assert meta == {'version': 1, 'dependencies': {'python': 'requirements.txt'}}


@pytest.mark.parametrize('path', ['docs/awx.md', 'roles/stop/README.md'])
def test_docs_exist_and_name_the_awx_credential_variables(path):
    with open(os.path.join(REPO, path), encoding='utf-8') as handle:
        text = handle.read()
    if path == 'docs/awx.md':
        for needle in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SECURITY_TOKEN', 'job slicing', 'check', 'execution-environment.yml',
                       'docs/awx/survey.json', 'schedule', 'container engine'):
            assert needle.lower() in text.lower(), needle
    else:
        with open(ARGUMENT_SPECS, encoding='utf-8') as handle:
            options = yaml.safe_load(handle)['argument_specs']['main']['options']
        for variable in options:
            assert variable in text, variable
