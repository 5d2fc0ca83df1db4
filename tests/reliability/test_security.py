# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security: secrets (module options or AWX-style environment variables) never appear in any output, -vvvv included, nor
in ansible-runner's job artifacts; the secret options are no_log; the IAM policy allows exactly what the collection calls
(every test of this suite also checks, after it ran, that nothing else was called: conftest.only_allowed_operations)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest
import yaml

from tests.functional.conftest import BIN
from tests.functional.conftest import REPO
from tests.functional.test_awx_runner import private_data_dir
from tests.functional.test_awx_runner import run_job
from tests.functional.test_awx_runner import seed_fleet
from tests.functional.test_awx_runner import survey_answers
from tests.reliability.conftest import ALLOWED_OPERATIONS
from tests.reliability.conftest import REGION
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import role_play
from tests.reliability.conftest import seed
from tests.reliability.conftest import stop_calls

MASKED = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
IAM_PREFIX = {'workspaces': 'workspaces', 'tagging': 'tag', 'ec2': 'ec2'}
SECRET_OPTION = 'fleetops-secret-option-8Kq2vX9pLmN4'
TOKEN_OPTION = 'fleetops-token-option-FwoGZXIvYXdzEOPT'
SECRET_ENV = 'fleetops-secret-env-Zr7TqW3eYu1o'
TOKEN_ENV = 'fleetops-security-token-env-FwoGZXIvYXdzEENV'
MODULES = ('workspaces_stop', 'workspaces_info')


def leaks(text, secrets):
    return [s for s in secrets if s in text]


def test_secret_options_and_environment_never_appear_in_vvvv_output(emulator, run_playbook, outdir, closed_port):
    desktops = explicit_fleet(6, tags={'Team': 'blue'})
    seed(emulator, desktops)
    ids = [d['workspace_id'] for d in desktops]
    # The secrets come from a vars file, as from a vault: written literally into a playbook they would be shown by
    # ansible-core itself, which quotes the playbook's source lines around any failing task in its error messages.
    secrets_file = outdir / 'secrets.yml'
    secrets_file.write_text('test_secret_key: %s\ntest_session_token: %s\n' % (SECRET_OPTION, TOKEN_OPTION))
    secrets = {'secret_key': '{{ test_secret_key }}', 'session_token': '{{ test_session_token }}'}
    play = textwrap.dedent("""
    - hosts: localhost
      gather_facts: false
      vars_files:
        - %(secrets_file)s
      tasks:
        - name: Stop with credentials given as options
          fleetops.workspaces.workspaces_stop: %(stop)s
        - name: List with credentials given as options
          fleetops.workspaces.workspaces_info: %(info)s
        - name: A task failing its argument validation still masks the secrets
          fleetops.workspaces.workspaces_stop: %(bad_type)s
          ignore_errors: true
        - name: A task failing on an unreachable endpoint still masks the secrets
          fleetops.workspaces.workspaces_stop: %(unreachable)s
          ignore_errors: true
        - name: A task failing on missing desktops still masks the secrets
          fleetops.workspaces.workspaces_stop: %(missing)s
          ignore_errors: true
    """) % {
        'secrets_file': secrets_file,
        'stop': json.dumps(dict(secrets, access_key='AKIAFLEETOPSOPTION01', workspace_ids=ids[:3], wait=False)),
        'info': json.dumps(dict(secrets, access_key='AKIAFLEETOPSOPTION01', tags={'Team': 'blue'})),
        'bad_type': json.dumps(dict(secrets, workspace_ids=ids[3:], wait_timeout='ten')),
        'unreachable': json.dumps(dict(secrets, workspace_ids=ids[3:], endpoint_url='http://127.0.0.1:%d' % closed_port)),
        'missing': json.dumps(dict(secrets, workspace_ids=['ws-missing000'])),
    }
    # AWX's credential variables are in the environment too (the role turns AWS_SECURITY_TOKEN into session_token).
    # ANSIBLE_INJECT_INVOCATION puts every module's (masked) arguments into its result, so -vvvv prints them.
    env = {'AWS_SECRET_ACCESS_KEY': SECRET_ENV, 'AWS_SECURITY_TOKEN': TOKEN_ENV, 'ANSIBLE_INJECT_INVOCATION': 'true'}
    every_secret = [SECRET_OPTION, TOKEN_OPTION, SECRET_ENV, TOKEN_ENV]

    run = run_playbook(play, args=('-vvvv',), env=env)
    assert run.rc == 0, run
    assert sorted(w for dummy_seq, dummy_outcome, batch in stop_calls(emulator) for w in batch) == sorted(ids[:3])  # the options were used
    assert MASKED in run.stdout  # -vvvv shows the module arguments, masked
    assert leaks(run.stdout + run.stderr, every_secret) == []

    # The role, in selector mode, at -vvvv, with the AWX variables only.
    role = run_playbook(role_play(outdir / 'result.json'), args=('-vvvv',), env=env, extra_vars={
        'workspaces_stop_regions': [REGION], 'workspaces_stop_tags': {'Team': 'blue'}, 'workspaces_stop_wait': False})
    assert role.rc == 0, role
    assert MASKED in role.stdout  # session_token was passed (from AWS_SECURITY_TOKEN) and masked
    assert leaks(role.stdout + role.stderr, every_secret) == []
    assert leaks((outdir / 'result.json').read_text(), every_secret) == []


def test_awx_job_at_vvvv_keeps_secrets_out_of_output_and_job_artifacts(emulator, collections_path, tmp_path, report_metrics):
    seed_fleet(emulator, per_region=3)
    answers = survey_answers(workspaces_stop_hosts='aws_workspaces', workspaces_stop_wait='false')
    pdd = private_data_dir(tmp_path / 'pdd', emulator, collections_path, answers, cmdline='-vvvv')
    with open(os.path.join(pdd, 'env', 'envvars'), encoding='utf-8') as handle:
        envvars = yaml.safe_load(handle)
    secrets = [envvars['AWS_SECRET_ACCESS_KEY'], envvars['AWS_SECURITY_TOKEN']]
    runner = run_job(pdd)
    assert (runner.status, runner.rc) == ('successful', 0)
    assert len(stop_calls(emulator)) == 2  # the job did its work (one call per region)

    assert leaks(runner.stdout.read(), secrets) == []
    artifacts = os.path.join(pdd, 'artifacts')
    scanned, runner_env_records = 0, []
    for directory, dummy_dirs, files in os.walk(artifacts):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
            scanned += 1
            if not leaks(text, secrets):
                continue
            # ansible-runner itself records the environment it was given (AWX's credential included) in
            # artifacts/<ident>/command, readable by its owner only; the collection writes nothing there.
            assert name == 'command' and os.path.dirname(os.path.dirname(path)) == artifacts, 'secret found in %s' % path
            record = json.loads(text)
            assert leaks(json.dumps({k: v for k, v in record.items() if k != 'env'}), secrets) == [], path
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
            runner_env_records.append(path)
    assert scanned > 20  # job_events, stdout, status, rc, fact cache...
    report_metrics(files_scanned=scanned, secrets_only_in_runner_command_file=len(runner_env_records))


SPEC_SCRIPT = """
import json
import sys

from ansible.module_utils import basic
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
captured = {}


class Captured(Exception):
    pass


def capture(self, argument_spec, **kwargs):
    captured.update(argument_spec)
    raise Captured()


basic.AnsibleModule.__init__ = capture
module = __import__('ansible_collections.fleetops.workspaces.plugins.modules.' + sys.argv[2], fromlist=['main'])
try:
    module.main()
except Captured:
    pass
print(json.dumps({name: {'no_log': bool(spec.get('no_log')), 'aliases': spec.get('aliases') or []} for name, spec in captured.items()}))
"""


@pytest.mark.parametrize('module', MODULES)
def test_secret_options_are_no_log_in_the_argument_spec_and_documented(module, collections_path, tmp_path):
    """The argument spec the module really builds (AnsibleAWSModule's common options merged with the module's own)."""
    script = tmp_path / 'spec.py'
    script.write_text(SPEC_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), collections_path, module], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    spec = json.loads(proc.stdout)
    assert spec['secret_key']['no_log'] is True and spec['session_token']['no_log'] is True
    for name, option in spec.items():
        if any(word in ' '.join([name] + option['aliases']) for word in ('secret', 'token', 'password')):
            assert option['no_log'] is True, name

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_HOME=str(tmp_path / 'ansible-home'))
    doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '--json', 'fleetops.workspaces.' + module], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert doc.returncode == 0, doc.stderr
    options = json.loads(doc.stdout)['fleetops.workspaces.' + module]['doc']['options']
    assert 'aws_secret_access_key' in options['secret_key']['aliases'] and 'aws_session_token' in options['session_token']['aliases']


def test_iam_policy_allows_exactly_the_operations_the_collection_may_call():
    with open(os.path.join(REPO, 'docs', 'iam-policy.json'), encoding='utf-8') as handle:
        policy = json.load(handle)
    by_statement = [set([s['Action']] if isinstance(s['Action'], str) else s['Action']) for s in policy['Statement']]
    actions = set().union(*by_statement)
    assert actions == {'%s:%s' % (IAM_PREFIX[service], operation) for service, operation in ALLOWED_OPERATIONS}
    assert all(s['Effect'] == 'Allow' for s in policy['Statement'])
    # StopWorkspaces, the only mutating action, is limited to WorkSpaces desktops; everything else is read-only.
    for statement, listed in zip(policy['Statement'], by_statement):
        if 'workspaces:StopWorkspaces' in listed:
            assert listed == {'workspaces:StopWorkspaces'} and statement['Resource'] == 'arn:aws:workspaces:*:*:workspace/*'
        else:
            assert all(action.split(':')[1].startswith(('Describe', 'Get', 'List')) for action in listed), listed
