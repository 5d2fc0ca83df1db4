# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX's credential variables reach AWS: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the session token, which AWX 21.11
and later set as both AWS_SESSION_TOKEN and AWS_SECURITY_TOKEN, and older AWX and Tower as AWS_SECURITY_TOKEN only.

amazon.aws 10+ reads the session token only from AWS_SESSION_TOKEN; the collection also reads AWS_SECURITY_TOKEN.
The emulator logs which access key signed each call and whether a session token came with it.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

AWX_KEY = 'ASIAFLEETOPSAWXTEST1'
AWX_TOKEN = 'FwoGZXIvYXdzEJr-fleetops-awx-token'
FLEET = {'regions': {'us-east-1': {'workspaces': [
    {'workspace_id': 'ws-cred00001', 'directory_id': 'd-1234567890', 'user_name': 'alice', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'},
]}}}
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Find
      fleetops.workspaces.workspaces_info:
        region: us-east-1
        include_tags: true  # the tagging API gets the token too
    - name: Stop
      fleetops.workspaces.workspaces_stop:
        region: us-east-1
        workspace_ids: [ws-cred00001]
        wait: false
"""


def awx_env(token_var):
    env = {'AWS_ACCESS_KEY_ID': AWX_KEY, 'AWS_SECRET_ACCESS_KEY': 'fleetops-awx-secret-value'}
    for name in (token_var or '').split('+'):
        if name:
            env[name] = AWX_TOKEN
    return env


@pytest.mark.parametrize('token_var, sent', [('AWS_SECURITY_TOKEN', True), ('AWS_SESSION_TOKEN', True),
                                             ('AWS_SECURITY_TOKEN+AWS_SESSION_TOKEN', True), (None, False)])
def test_modules_send_the_session_token_of_either_variable(emulator, run_playbook, token_var, sent):
    emulator.seed(FLEET)
    emulator.reset_calls()
    run = run_playbook(PLAY, env=awx_env(token_var))
    assert run.rc == 0, run
    calls = emulator.calls()
    assert {c['operation'] for c in calls} >= {'DescribeWorkspaces', 'GetResources', 'StopWorkspaces'}
    assert {(c['access_key_id'], c['session_token_sent']) for c in calls} == {(AWX_KEY, sent)}
    assert AWX_TOKEN not in run.stdout + run.stderr


@pytest.mark.parametrize('token_var', ['AWS_SECURITY_TOKEN', 'AWS_SECURITY_TOKEN+AWS_SESSION_TOKEN'])
def test_inventory_plugin_sends_awx_session_token(emulator, ansible_env, tmp_path, token_var):
    emulator.seed(FLEET)
    emulator.reset_calls()
    source = tmp_path / 'awx.workspaces.yml'
    source.write_text('plugin: fleetops.workspaces.workspaces\nregions: [us-east-1]\n')
    env = dict(ansible_env)
    env.update(awx_env(token_var))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(source), '--list'],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'ws-cred00001' in proc.stdout and AWX_TOKEN not in proc.stdout + proc.stderr
    calls = emulator.calls()
    assert calls and {(c['access_key_id'], c['session_token_sent']) for c in calls} == {(AWX_KEY, True)}
