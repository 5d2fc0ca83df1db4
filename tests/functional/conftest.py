# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for functional tests: real ansible-playbook / ansible-inventory runs against the emulator."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """An ansible_collections tree whose fleetops/workspaces is this checkout (a symlink: edits are live)."""
    root = tmp_path_factory.mktemp('collections')
    (root / 'ansible_collections' / 'fleetops').mkdir(parents=True)
    os.symlink(REPO, root / 'ansible_collections' / 'fleetops' / 'workspaces')
    return str(root)


@pytest.fixture
def ansible_env(collections_path, emulator, tmp_path):
    """Environment for ansible commands: the emulator as AWS endpoint, dummy credentials, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'ANSIBLE_'))}
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'true',
        # save_json (tests/plugins/action): the playbooks' way to hand a registered result to the test, without copy's
        # two module runs per file.
        'ANSIBLE_ACTION_PLUGINS': os.path.join(REPO, 'tests', 'plugins', 'action'),
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_STDOUT_CALLBACK': 'default',
        'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json',
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        'AWS_ACCESS_KEY_ID': 'AKIAFLEETOPSTESTKEY0',
        'AWS_SECRET_ACCESS_KEY': 'fleetops-test-secret',
        'AWS_ENDPOINT_URL': emulator.url,
        'AWS_DEFAULT_REGION': 'us-east-1',
        'AWS_REGION': 'us-east-1',
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    return env


class PlaybookRun:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def __repr__(self):
        return 'PlaybookRun(rc=%s)\n--- stdout\n%s\n--- stderr\n%s' % (self.rc, self.stdout[-6000:], self.stderr[-3000:])


@pytest.fixture
def run_playbook(ansible_env, tmp_path):
    """Run a playbook (YAML text or a path) with ansible-playbook; returns rc/stdout/stderr.

    The playbook's registered results can be written out with ``save_json: content="{{ x | to_json }}"``
    (tests/plugins/action) and read back with :func:`read_json`.
    """
    counter = {'n': 0}

    local_inventory = tmp_path / 'localhost.ini'
    local_inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)

    def run(playbook, extra_vars=None, check=False, diff=False, args=(), env=None, inventory=None, timeout=600):
        counter['n'] += 1
        inventory = inventory or str(local_inventory)
        if '\n' in playbook:
            path = tmp_path / ('play%d.yml' % counter['n'])
            path.write_text(textwrap.dedent(playbook))
            playbook = str(path)
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, playbook]
        if extra_vars:
            cmd += ['-e', json.dumps(extra_vars)]
        if check:
            cmd.append('--check')
        if diff:
            cmd.append('--diff')
        cmd += list(args)
        full_env = dict(ansible_env)
        full_env.update(env or {})
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=str(tmp_path), check=False)
        return PlaybookRun(proc)

    return run


@pytest.fixture
def outdir(tmp_path):
    """A directory for playbooks to write their registered results into (as JSON)."""
    path = tmp_path / 'out'
    path.mkdir()
    return path


def _read_json(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


@pytest.fixture(name='read_json')
def read_json_fixture():
    """``read_json(path)``: load a JSON file a playbook wrote."""
    return _read_json


def cases_play(cases, dest):
    """One play running each of ``cases`` (``[(case_id, module, args)]``) as its own task, errors ignored, then saving
    ``{case_id: registered result}`` to ``dest``: a table of module cases for the price of one ansible-playbook run."""
    tasks = ['    - name: Case %s\n      %s: %s\n      register: case_%d\n      ignore_errors: true\n' % (case_id, module, json.dumps(args), index)
             for index, (case_id, module, args) in enumerate(cases)]
    saved = ', '.join("'%s': case_%d" % (case_id, index) for index, (case_id, dummy_module, dummy_args) in enumerate(cases))
    tasks.append('    - name: Save\n      save_json:\n        content: "{{ {%s} | to_json }}"\n        dest: %s\n' % (saved, dest))
    return '- hosts: localhost\n  gather_facts: false\n  tasks:\n' + ''.join(tasks)


def run_cases(run_playbook, outdir, cases):
    """Run :func:`cases_play`; returns ``{case_id: result}`` (each case's registered result)."""
    dest = outdir / 'cases.json'
    run = run_playbook(cases_play(cases, dest))
    assert run.rc == 0, run  # every case's error is ignored
    result = _read_json(dest)
    assert sorted(result) == sorted(case_id for case_id, dummy_module, dummy_args in cases)
    return result


def failures_without(results, expected):
    """The cases of ``results`` that did not fail with their expected fragment(s) (``{case_id: [fragment, ...]}``), each
    with its message: empty when every case failed as expected."""
    missing = {}
    for case_id, fragments in expected.items():
        result = results[case_id]
        message = result.get('msg', '') if result.get('failed') is True else '(did not fail) %s' % result
        absent = [f for f in fragments if f not in message]
        if absent:
            missing[case_id] = {'missing': absent, 'message': message[-2000:]}
    return missing
