# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin's strict_permissions (as amazon.aws's aws_ec2): a region that refuses access fails the inventory by
default, and is skipped with a warning naming it when strict_permissions is false; a region that cannot be read for any
other reason is never dropped when it was named. The emulator's access_denied fault refuses one region's calls with
AccessDeniedException (IAM's message), as an organisation's service control policy does."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')
FLEET = {'regions': {
    'us-east-1': {'workspaces': [{'workspace_id': 'ws-perm00001'}, {'workspace_id': 'ws-perm00002'}]},
    'eu-west-1': {'workspaces': [{'workspace_id': 'ws-perm00101'}]},
    'ap-southeast-2': {'workspaces': [{'workspace_id': 'ws-perm00201'}]},
}}


def inventory(ansible_env, tmp_path, config, env=None):
    """ansible-inventory --list as an AWX inventory update runs it: a source that fails to parse fails the command
    (AWX sets ANSIBLE_INVENTORY_UNPARSED_FAILED; without it ansible-inventory only warns and lists nothing)."""
    source = tmp_path / 'perm.workspaces.yml'
    source.write_text(yaml.safe_dump(dict({'plugin': 'fleetops.workspaces.workspaces'}, **config)))
    full_env = dict(ansible_env, ANSIBLE_INVENTORY_UNPARSED_FAILED='true', **(env or {}))
    proc = subprocess.run([ANSIBLE_INVENTORY, '-i', str(source), '--list'], env=full_env,
                          capture_output=True, text=True, timeout=300, check=False)
    return proc, (json.loads(proc.stdout) if proc.returncode == 0 else None)


def denied_calls(emulator, region):
    return [c for c in emulator.calls() if c['region'] == region and c['outcome'] == 'AccessDeniedException']


@pytest.mark.parametrize('regions', [[], ['us-east-1', 'eu-west-1', 'ap-southeast-2']], ids=['all-enabled-regions', 'named-regions'])
def test_a_region_that_refuses_access_is_skipped_with_a_warning(emulator, ansible_env, tmp_path, regions):
    emulator.seed(FLEET)
    emulator.set_faults(access_denied=['eu-west-1'])
    emulator.reset_calls()
    proc, listing = inventory(ansible_env, tmp_path, {'regions': regions, 'strict_permissions': False})
    assert proc.returncode == 0, proc.stderr
    assert sorted(listing['_meta']['hostvars']) == ['ws-perm00001', 'ws-perm00002', 'ws-perm00201']
    assert 'aws_workspaces_eu_west_1' not in listing
    # The warning names the region and AWS's code; ansible-inventory prints warnings on stderr (wrapped at 80 columns).
    warning = ' '.join(proc.stderr.split())
    assert 'Skipping region eu-west-1: access denied (AccessDeniedException)' in warning, proc.stderr
    assert 'us-east-1' not in warning and 'ap-southeast-2' not in warning
    assert denied_calls(emulator, 'eu-west-1')  # the region was asked, and refused
    if not regions:
        assert emulator.calls(operation='DescribeRegions')


@pytest.mark.parametrize('config', [{'regions': []}, {'regions': [], 'strict_permissions': True}], ids=['default', 'true'])
def test_strict_permissions_by_default_fails_naming_the_region(emulator, ansible_env, tmp_path, config):
    emulator.seed(FLEET)
    emulator.set_faults(access_denied=['eu-west-1'])
    proc, _listing = inventory(ansible_env, tmp_path, config)
    assert proc.returncode != 0
    message = ' '.join(proc.stderr.split())
    assert 'Failed to list WorkSpaces in eu-west-1' in message and 'AccessDeniedException' in message, proc.stderr
    assert 'strict_permissions: false' in message
    assert proc.stdout.strip() == '' or 'ws-perm00001' not in proc.stdout


def test_every_region_refusing_access_fails_even_when_not_strict(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    emulator.set_faults(access_denied=['us-east-1', 'eu-west-1'])
    proc, _listing = inventory(ansible_env, tmp_path, {'regions': ['us-east-1', 'eu-west-1'], 'strict_permissions': False})
    assert proc.returncode != 0
    assert 'every region refused access (us-east-1, eu-west-1)' in ' '.join(proc.stderr.split()), proc.stderr


@pytest.mark.waits
def test_only_refusals_are_skipped_a_failing_named_region_fails_the_inventory(emulator, ansible_env, tmp_path):
    """A named region whose calls fail for another reason (here: a server error on every call, after every retry) is not
    skipped, whatever strict_permissions says."""
    emulator.seed(FLEET)
    emulator.set_faults(errors={'GetResources': 1.0}, error_statuses=[500])
    proc, _listing = inventory(ansible_env, tmp_path, {'regions': ['us-east-1'], 'strict_permissions': False})
    assert proc.returncode != 0
    assert 'Failed to list WorkSpaces in us-east-1' in ' '.join(proc.stderr.split()), proc.stderr
    assert len(emulator.calls(operation='GetResources')) > 1  # retried before failing


def test_an_unreachable_named_region_fails_the_inventory(ansible_env, tmp_path):
    """A named region whose endpoint cannot be reached is never dropped (strict_permissions is about refusals only)."""
    proc, _listing = inventory(ansible_env, tmp_path, {'regions': ['us-east-1'], 'strict_permissions': False},
                               env={'AWS_ENDPOINT_URL': 'http://127.0.0.1:9'})
    assert proc.returncode != 0
    assert 'Failed to list WorkSpaces in us-east-1' in ' '.join(proc.stderr.split()), proc.stderr
