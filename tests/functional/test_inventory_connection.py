# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory hosts are API objects, not SSH targets: the ``compose`` recipe of docs/inventory.md gives them
``ansible_connection: local``, so a play with ``gather_facts: true`` over ``aws_workspaces`` runs on the controller and never
starts ssh. ssh is replaced by a recorder that notes every start (and fails), so the test sees any attempt."""
from __future__ import annotations

import json
import os
import re
import textwrap

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET = {'regions': {'eu-west-1': {'workspaces': [{'workspace_id': 'ws-conn00001'}, {'workspace_id': 'ws-conn00002'}]}}}


def recipe():
    """The recipe of docs/inventory.md: the inventory file whose compose sets ansible_connection, and the play that sets
    ansible_python_interpreter."""
    with open(os.path.join(REPO, 'docs', 'inventory.md'), encoding='utf-8') as handle:
        text = handle.read()
    blocks = [(textwrap.dedent(b), yaml.safe_load(b)) for b in re.findall(r'```yaml\n(.*?)```', text, re.S)]
    sources = [data for _text, data in blocks if isinstance(data, dict) and 'ansible_connection' in (data.get('compose') or {})]
    plays = [raw for raw, data in blocks if isinstance(data, list) and 'ansible_python_interpreter' in (data[0].get('vars') or {})]
    assert len(sources) == 1 and len(plays) == 1, 'docs/inventory.md must have one compose recipe and one play for it'
    return sources[0], plays[0]


@pytest.fixture
def fake_ssh(tmp_path):
    log = tmp_path / 'ssh-attempts.log'
    script = tmp_path / 'ssh'
    script.write_text('#!/bin/sh\necho "$@" >> %s\necho "ssh: connect to host: refused by the test" >&2\nexit 255\n' % log)
    script.chmod(0o755)
    return str(script), log


RECORD = """
    - name: Record where each host's task ran
      ansible.builtin.copy:
        content: "{{ {'connection': ansible_connection, 'hostname': ansible_facts.hostname | default(None), 'id': workspace_id} | to_json }}"
        dest: "%s/{{ inventory_hostname }}.json"
        mode: "0600"
"""


@pytest.mark.parametrize('with_recipe', [True, False], ids=['recipe', 'control-without-recipe'])
def test_gather_facts_over_the_inventory_does_not_ssh(emulator, run_playbook, tmp_path, outdir, fake_ssh, with_recipe):
    emulator.seed(FLEET)
    documented_source, documented_play = recipe()
    config = documented_source if with_recipe else {'plugin': 'fleetops.workspaces.workspaces', 'regions': ['eu-west-1']}
    assert config['plugin'] == 'fleetops.workspaces.workspaces'
    config['regions'] = ['eu-west-1']  # the recipe's other keys are kept as documented
    source = tmp_path / 'conn.workspaces.yml'
    source.write_text(yaml.safe_dump(config))
    ssh, attempts = fake_ssh
    # The documented play, with one more task that records what each host saw. The interpreter is not forced from the
    # environment (the fixtures' default): the play's own ansible_python_interpreter is what runs the modules.
    play = documented_play.rstrip() + '\n' + RECORD % outdir
    run = run_playbook(play, inventory=str(source), env={'ANSIBLE_SSH_EXECUTABLE': ssh, 'ANSIBLE_PYTHON_INTERPRETER': 'auto_silent'})
    if with_recipe:
        assert run.rc == 0, run
        assert not attempts.exists(), attempts.read_text()
        assert 'UNREACHABLE' not in run.stdout
        seen = {p.stem: json.loads(p.read_text()) for p in outdir.iterdir()}
        assert sorted(seen) == ['ws-conn00001', 'ws-conn00002']
        assert all(s['connection'] == 'local' and s['hostname'] for s in seen.values()), seen
    else:
        # Without the recipe Ansible tries ssh to every ws-... name: what the recipe avoids.
        assert run.rc != 0 and 'UNREACHABLE' in run.stdout, run
        assert attempts.exists() and 'ws-conn00001' in attempts.read_text() and 'ws-conn00002' in attempts.read_text()
        assert list(outdir.iterdir()) == []
