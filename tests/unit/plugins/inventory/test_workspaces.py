# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the workspaces inventory plugin: host variables, groups, hostnames, option checks (no AWS)."""
from __future__ import annotations

import datetime

import pytest

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 trusts every template
    def trust_as_template(value):
        return value

from ansible_collections.fleetops.workspaces.plugins.inventory import workspaces as plugin_module
from ansible_collections.fleetops.workspaces.plugins.inventory.workspaces import InventoryModule
from ansible_collections.fleetops.workspaces.plugins.module_utils import query

DIR_A = 'd-906732325d'
DIR_B = 'd-9067aa11bb'


def desktop(workspace_id, region='us-east-1', **fields):
    base = {
        'workspace_id': workspace_id, 'region': region, 'directory_id': DIR_A, 'user_name': 'alice', 'state': 'AVAILABLE',
        'bundle_id': 'wsb-b0s22j3d7', 'computer_name': 'WSAMZN-' + workspace_id[-4:].upper(), 'ip_address': '10.0.0.1',
        'running_mode': 'AUTO_STOP', 'workspace_properties': {'running_mode': 'AUTO_STOP'},
        'modification_states': [], 'root_volume_encryption_enabled': False,
    }
    base.update(fields)
    return base


@pytest.fixture
def plugin():
    inventory_plugin = InventoryModule()
    inventory_plugin.inventory = InventoryData()
    inventory_plugin.loader = DataLoader()
    inventory_plugin.templar = Templar(loader=inventory_plugin.loader)  # set by parse()
    inventory_plugin._options = {
        'hostnames': ['workspace_id'], 'strict': True, 'compose': {}, 'groups': {}, 'keyed_groups': [],
        'leading_separator': True, 'use_extra_vars': False, 'regions': [], 'concurrent_reads': 4,
    }
    inventory_plugin._options.update({name: spec.get('default') for name, spec in query.FILTER_ARGUMENT_SPEC.items()})
    return inventory_plugin


def hostvars(plugin, name):
    return plugin.inventory.get_host(name).get_vars()


def test_host_vars_are_the_documented_subset():
    variables = plugin_module.host_vars(desktop('ws-aaaaaaaa1', tags={'team': 'ops'}, connection_state=None,
                                                last_known_user_connection_timestamp=None, idle_minutes=None))
    connection = {'connection_state', 'last_known_user_connection_timestamp', 'idle_minutes'}
    assert set(variables) == set(plugin_module.HOSTVAR_KEYS) | {'workspace_tags'} | connection
    assert variables['workspace_tags'] == {'team': 'ops'}
    assert 'tags' not in variables and 'ansible_host' not in variables


def test_read_time_is_a_hostvar_in_utc_whole_seconds():
    variables = plugin_module.host_vars(desktop('ws-aaaaaaaa1', described_at='2026-11-26T02:10:04+00:00'))
    assert variables['workspace_described_at'] == '2026-11-26T02:10:04+00:00'
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert plugin_module.described_at(datetime.datetime(2026, 11, 26, 3, 10, 4, 999999, tzinfo=paris)) == '2026-11-26T02:10:04+00:00'
    # Without an argument: now, bracketed by two clock reads (whole seconds, so the lower bracket is truncated too).
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    now = datetime.datetime.fromisoformat(plugin_module.described_at())
    after = datetime.datetime.now(datetime.timezone.utc)
    assert now.tzinfo is not None and before <= now <= after


def test_host_vars_without_tags_or_connection_and_missing_fields():
    variables = plugin_module.host_vars(desktop('ws-aaaaaaaa1', state='PENDING', computer_name=None, ip_address=None))
    assert set(variables) == set(plugin_module.HOSTVAR_KEYS)
    assert variables['ip_address'] is None


def test_populate_groups_by_region_and_sets_vars(plugin):
    plugin._populate([desktop('ws-aaaaaaaa1'), desktop('ws-bbbbbbbb2', region='eu-west-1', tags={'team': 'ops'})])
    groups = plugin.inventory.groups
    assert set(groups['aws_workspaces'].child_groups[i].name for i in range(2)) == {'aws_workspaces_us_east_1', 'aws_workspaces_eu_west_1'}
    assert [h.name for h in groups['aws_workspaces_us_east_1'].get_hosts()] == ['ws-aaaaaaaa1']
    assert [h.name for h in groups['aws_workspaces'].get_hosts()] == ['ws-aaaaaaaa1', 'ws-bbbbbbbb2']
    assert hostvars(plugin, 'ws-bbbbbbbb2')['workspace_tags'] == {'team': 'ops'}
    assert hostvars(plugin, 'ws-bbbbbbbb2')['region'] == 'eu-west-1'
    assert 'ansible_host' not in hostvars(plugin, 'ws-aaaaaaaa1')
    assert 'modification_states' not in hostvars(plugin, 'ws-aaaaaaaa1')


def test_populate_without_desktops_still_creates_the_group(plugin):
    plugin._populate([])
    assert 'aws_workspaces' in plugin.inventory.groups
    assert plugin.inventory.hosts == {}


def test_hostnames_preference_and_shared_names(plugin, monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin, 'warn', warnings.append)
    plugin._options['hostnames'] = ['user_name']
    plugin._populate([
        desktop('ws-aaaaaaaa1', user_name='alice'),
        desktop('ws-bbbbbbbb2', user_name='alice', directory_id=DIR_B),
        desktop('ws-cccccccc3', user_name='bob'),
    ])
    assert sorted(plugin.inventory.hosts) == ['bob', 'ws-aaaaaaaa1', 'ws-bbbbbbbb2']
    assert warnings == ['Several desktops would be named alice; each of them is named by its workspace ID instead']


def test_constructed_keyed_groups_groups_and_compose(plugin):
    # Ansible trusts the templates of an inventory configuration file; these stand for such a file.
    plugin._options['keyed_groups'] = [
        {'key': trust_as_template('running_mode'), 'prefix': 'mode'},
        {'key': trust_as_template("workspace_tags.team | default('none')"), 'prefix': 'team'},
    ]
    plugin._options['groups'] = {'stopped': trust_as_template("state == 'STOPPED'")}
    plugin._options['compose'] = {'owner': trust_as_template('user_name | upper')}
    plugin._populate([
        desktop('ws-aaaaaaaa1', tags={'team': 'ops'}),
        desktop('ws-bbbbbbbb2', state='STOPPED', running_mode='MANUAL', tags={}),
    ])
    groups = plugin.inventory.groups
    assert [h.name for h in groups['mode_AUTO_STOP'].get_hosts()] == ['ws-aaaaaaaa1']
    assert [h.name for h in groups['mode_MANUAL'].get_hosts()] == ['ws-bbbbbbbb2']
    assert [h.name for h in groups['team_ops'].get_hosts()] == ['ws-aaaaaaaa1']
    assert [h.name for h in groups['team_none'].get_hosts()] == ['ws-bbbbbbbb2']
    assert [h.name for h in groups['stopped'].get_hosts()] == ['ws-bbbbbbbb2']
    assert hostvars(plugin, 'ws-aaaaaaaa1')['owner'] == 'ALICE'


def test_bad_filters_fail_before_any_query(plugin):
    plugin._options.update({'states': ['RUNNING'], 'user_name': 'alice', 'hostnames': ['dns-name'], 'concurrent_reads': 0})
    with pytest.raises(AnsibleParserError) as error:
        plugin._filters()
    message = str(error.value)
    assert "states: 'RUNNING' is not one of" in message
    assert "user_name 'alice' needs directory_ids" in message
    assert "hostnames: 'dns-name' is not one of" in message
    assert 'concurrent_reads must be a whole number from 1 (one read at a time) to 10, got 0' in message


def test_filters_are_normalized(plugin):
    plugin._options.update({'directory_ids': [DIR_A, DIR_A], 'tags': {'team': None}})
    filters = plugin._filters()
    assert filters['directory_ids'] == [DIR_A] and filters['tags'] == {'team': None}


def test_unknown_keys_name_the_closest_option():
    definitions = {'plugin': {}, 'regions': {}, 'exclude_tags': {}, 'assume_role_arn': {'aliases': ['iam_role_arn']}}
    config = {'plugin': 'x', 'regions': [], 'iam_role_arn': 'arn', 'exclude_tag': {}, 'zzz': 1}
    assert plugin_module.unknown_keys(config, definitions) == ["'exclude_tag' (did you mean 'exclude_tags'?)", "'zzz'"]
    assert plugin_module.unknown_keys({'plugin': 'x'}, definitions) == []


def test_workspaces_regions_keeps_enabled_regions_where_workspaces_is_offered():
    assert plugin_module.workspaces_regions(['us-east-1', 'eu-north-1', 'eu-west-1'], ['eu-west-1', 'us-east-1']) == ['us-east-1', 'eu-west-1']
    assert plugin_module.workspaces_regions(['us-east-1', 'eu-north-1'], []) == ['us-east-1', 'eu-north-1']


@pytest.mark.parametrize('path, expected', [
    ('inv/aws.workspaces.yml', True), ('inv/workspaces.yaml', True), ('inv/aws_ec2.yml', False), ('inv/workspaces.json', False),
])
def test_verify_file(tmp_path, path, expected):
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('plugin: fleetops.workspaces.workspaces\n')
    assert InventoryModule().verify_file(str(target)) is expected
