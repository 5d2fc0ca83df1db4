# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection metadata agrees with what the tests run against: amazon.aws's bounds, the action groups, no Galaxy claim."""
from __future__ import annotations

import json
import os
import re

import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

import ansible_collections.amazon.aws as amazon_aws

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_yaml(*path):
    with open(os.path.join(REPO, *path), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def amazon_aws_under_test():
    """The amazon.aws every test runs with (both ansible-core venvs use the main venv's ansible package)."""
    with open(os.path.join(list(amazon_aws.__path__)[0], 'MANIFEST.json'), encoding='utf-8') as handle:
        return json.load(handle)['collection_info']['version']


def test_galaxy_bounds_amazon_aws_to_the_tested_major():
    spec = load_yaml('galaxy.yml')['dependencies']['amazon.aws']
    tested = amazon_aws_under_test()
    major = int(tested.split('.', 1)[0])
    assert meets_requirements(tested, spec), (tested, spec)
    # Bounded on both sides to that major: the previous and the next major are refused.
    assert not meets_requirements('%d.99.0' % (major - 1), spec)
    assert not meets_requirements('%d.0.0' % (major + 1), spec)


def test_execution_environment_pins_the_tested_amazon_aws():
    collections = {c['name']: c for c in load_yaml('execution-environment.yml')['dependencies']['galaxy']['collections']}
    assert collections['amazon.aws']['version'] == amazon_aws_under_test()


def test_action_groups():
    groups = load_yaml('meta', 'runtime.yml')['action_groups']
    # Every AWS module (not the roles' private planner, role_planner) is in both groups and has the action plugin that
    # applies group/aws (ansible-core's fixed list does not name this collection).
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, 'plugins', 'modules'))
                     if name.endswith('.py') and name not in ('__init__.py', 'role_planner.py'))
    assert sorted(groups['workspaces']) == modules
    assert sorted(groups['aws']) == modules
    actions = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, 'plugins', 'action')) if name.endswith('.py'))
    assert actions == sorted(modules + ['role_planner'])


def test_readme_claims_no_galaxy_release():
    for path in ('README.md', os.path.join('docs', 'docsite', 'rst', 'getting_started.rst'), os.path.join('docs', 'awx.md')):
        with open(os.path.join(REPO, path), encoding='utf-8') as handle:
            text = handle.read()
        assert not re.search(r'ansible-galaxy collection install fleetops\.workspaces\b(?![-.\w])', text), path
