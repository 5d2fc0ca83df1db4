# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspaces inventory plugin through real ansible-inventory / ansible-playbook runs against the emulator."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time

import yaml

ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')
PLUGIN = 'fleetops.workspaces.workspaces'
DIR_A = 'd-aaaaaaaaaa'
DIR_B = 'd-bbbbbbbbbb'
DIR_C = 'd-cccccccccc'
EXEMPT = 'autostop:exempt'
HOSTVARS = {'workspace_id', 'region', 'directory_id', 'user_name', 'state', 'running_mode', 'bundle_id', 'computer_name',
            'ip_address', 'workspace_properties', 'workspace_tags', 'workspace_described_at'}
CONNECTION_VARS = {'connection_state', 'last_known_user_connection_timestamp', 'idle_minutes'}

FLEET = {
    'seed': 11,
    'regions': {
        'us-east-1': {
            'directories': [
                {'directory_id': DIR_A, 'count': 8, 'states': {'AVAILABLE': 3, 'STOPPED': 1}, 'running_modes': {'AUTO_STOP': 3, 'ALWAYS_ON': 1},
                 'connection_states': {'CONNECTED': 1, 'DISCONNECTED': 1}, 'tags': {'team': 'finance'}, 'tag_fraction': 0.5},
            ],
            'workspaces': [
                {'workspace_id': 'ws-bob0000001', 'directory_id': DIR_B, 'user_name': 'bob', 'computer_name': 'WSAMZN-BOB',
                 'tags': {'Name': 'bob-desk', 'team': 'ops'}, 'connection_state': None},
                {'workspace_id': 'ws-alice00001', 'directory_id': DIR_B, 'user_name': 'alice', 'computer_name': 'WSAMZN-ALICE'},
                {'workspace_id': 'ws-exempt0001', 'directory_id': DIR_B, 'user_name': 'carol', 'tags': {EXEMPT: None}},
            ],
        },
        'eu-west-1': {
            'directories': [{'directory_id': DIR_C, 'count': 3, 'tags': {'team': 'ops'}, 'running_modes': 'MANUAL'}],
            'workspaces': [{'workspace_id': 'ws-alice00002', 'directory_id': DIR_C, 'user_name': 'alice', 'computer_name': 'WSAMZN-ALICE2',
                            'tags': {'team': 'ops', 'note': '{{ 6 * 7 }}'}}],  # AWS data is never templated
        },
    },
}


def write_config(tmp_path, config, name='fleet.workspaces.yml'):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({'plugin': PLUGIN}, **config)))
    return str(path)


def _plain(value):
    """ansible-inventory writes strings from inventory plugins, untrusted as templates, as {"__ansible_unsafe": "..."}."""
    return value['__ansible_unsafe'] if set(value) == {'__ansible_unsafe'} else value


def inventory(ansible_env, source, *args, env=None):
    """ansible-inventory --list (JSON) for one source; returns (proc, parsed list or None)."""
    full_env = dict(ansible_env, **(env or {}))
    proc = subprocess.run([ANSIBLE_INVENTORY, '-i', source, '--list', *args], env=full_env, capture_output=True, text=True,
                          timeout=300, check=False)
    return proc, (json.loads(proc.stdout, object_hook=_plain) if proc.returncode == 0 else None)


def hosts_of(listing, group):
    """Every host of a group, through its child groups too."""
    found = set(listing.get(group, {}).get('hosts', []))
    for child in listing.get(group, {}).get('children', []):
        found |= hosts_of(listing, child)
    return found


def counts_by_region(emulator):
    per_region = {}
    for call in emulator.calls():
        region_counts = per_region.setdefault(call['region'], {})
        region_counts[call['operation']] = region_counts.get(call['operation'], 0) + 1
    return per_region


def test_two_regions_groups_host_vars_and_calls(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    truth = {d['workspace_id']: d for d in emulator.workspaces()}
    source = write_config(tmp_path, {
        'regions': ['us-east-1', 'eu-west-1'],
        'exclude_tags': {EXEMPT: None},
        'include_connection_status': True,
        'keyed_groups': [{'key': "workspace_tags.team | default('none')", 'prefix': 'team'}],
        'groups': {'connected': "connection_state == 'CONNECTED'", 'unused_2h': 'idle_minutes is not none and idle_minutes >= 120'},
        'compose': {'owner': 'user_name | upper'},
    })
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    proc, listing = inventory(ansible_env, source)
    after = datetime.datetime.now(datetime.timezone.utc)
    assert proc.returncode == 0, proc.stderr
    hostvars = listing['_meta']['hostvars']
    # When each desktop was read (the start of its region's read), for the role's workspaces_stop_inventory_max_age.
    assert all(before <= datetime.datetime.fromisoformat(v['workspace_described_at']) <= after for v in hostvars.values())

    expected = {w for w, d in truth.items() if EXEMPT not in d['tags']}
    assert set(hostvars) == expected and 'ws-exempt0001' in truth
    assert set(listing['aws_workspaces']['children']) == {'aws_workspaces_us_east_1', 'aws_workspaces_eu_west_1'}
    assert hosts_of(listing, 'aws_workspaces') == expected
    for region in ('us-east-1', 'eu-west-1'):
        group = 'aws_workspaces_' + region.replace('-', '_')
        assert hosts_of(listing, group) == {w for w in expected if truth[w]['region'] == region}

    for workspace_id, variables in hostvars.items():
        real = truth[workspace_id]
        assert set(variables) == HOSTVARS | CONNECTION_VARS | {'owner'}, workspace_id
        assert variables['owner'] == real['user_name'].upper()
        assert (variables['region'], variables['directory_id'], variables['state'], variables['running_mode'], variables['user_name']) == \
            (real['region'], real['directory_id'], real['state'], real['running_mode'], real['user_name'])
        assert variables['workspace_tags'] == real['tags']
        assert variables['connection_state'] == real['connection_state']
        # the last connection as AWS reported it (ISO 8601 UTC) and the whole minutes since then when it was read
        # (a connected user's is the time of the read: 0 minutes; the emulator's dump has when the session began)
        stamp = variables['last_known_user_connection_timestamp']
        assert (stamp is None) == (real['last_known_user_connection_timestamp'] is None) == (variables['idle_minutes'] is None)
        if stamp:
            assert stamp.endswith('+00:00')
            if real['connection_state'] == 'CONNECTED':
                assert variables['idle_minutes'] == 0
            else:
                assert abs(datetime.datetime.fromisoformat(stamp).timestamp() - real['last_known_user_connection_timestamp']) < 0.001
                assert variables['idle_minutes'] >= 60  # the emulator's default: last connected 1 hour to 7 days ago
        assert variables['ip_address'] == real['ip_address'] and variables['computer_name'] == real['computer_name']
    assert hostvars['ws-bob0000001']['connection_state'] is None

    assert hosts_of(listing, 'team_finance') == {w for w in expected if truth[w]['tags'].get('team') == 'finance'}
    assert hosts_of(listing, 'team_ops') == {w for w in expected if truth[w]['tags'].get('team') == 'ops'}
    assert hosts_of(listing, 'connected') == {w for w in expected if truth[w]['connection_state'] == 'CONNECTED'}
    assert hosts_of(listing, 'connected') and hosts_of(listing, 'team_finance')
    assert hosts_of(listing, 'unused_2h') == {w for w, v in hostvars.items() if (v['idle_minutes'] or 0) >= 120}
    assert hosts_of(listing, 'unused_2h')

    assert counts_by_region(emulator) == {
        'us-east-1': {'DescribeWorkspaces': 1, 'GetResources': 1, 'DescribeWorkspacesConnectionStatus': 1},
        'eu-west-1': {'DescribeWorkspaces': 1, 'GetResources': 1, 'DescribeWorkspacesConnectionStatus': 1},
    }


def test_filters_select_hosts(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    truth = {d['workspace_id']: d for d in emulator.workspaces()}
    cases = {
        'states': ({'states': ['STOPPED']}, lambda d: d['state'] == 'STOPPED'),
        'modes_and_tags': ({'running_modes': ['AUTO_STOP'], 'tags': {'team': 'finance'}},
                           lambda d: d['running_mode'] == 'AUTO_STOP' and d['tags'].get('team') == 'finance'),
        'user': ({'directory_ids': [DIR_B, DIR_C], 'user_name': 'alice', 'include_tags': False}, lambda d: d['user_name'] == 'alice'),
        'disconnected': ({'connection_states': ['DISCONNECTED'], 'include_tags': False}, lambda d: d['connection_state'] == 'DISCONNECTED'),
    }
    for name, (config, predicate) in cases.items():
        expected = {w for w, d in truth.items() if predicate(d)}
        assert 0 < len(expected) < len(truth), name
        proc, listing = inventory(ansible_env, write_config(tmp_path, dict(config, regions=['us-east-1', 'eu-west-1']), name + '.workspaces.yml'))
        assert proc.returncode == 0, (name, proc.stderr)
        assert set(listing['_meta']['hostvars']) == expected, name
        if config.get('include_tags') is False:
            assert all('workspace_tags' not in v for v in listing['_meta']['hostvars'].values())


def test_min_idle_minutes_selects_the_unused_desktops(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    truth = {d['workspace_id']: d for d in emulator.workspaces()}
    read_at = time.time()

    def idle_for(d):  # minutes since the last connection by the emulator's ground truth (None: never connected)
        last = d['last_known_user_connection_timestamp']
        return None if last is None else (read_at - last) / 60

    def idle(d, margin):  # the decision of min_idle_minutes=180, with a margin around the threshold
        if d['connection_state'] not in ('DISCONNECTED', 'UNKNOWN'):
            return False
        return idle_for(d) is None or idle_for(d) >= 180 + margin

    proc, listing = inventory(ansible_env, write_config(tmp_path, {'regions': ['us-east-1', 'eu-west-1'], 'min_idle_minutes': 180},
                                                        'idle.workspaces.yml'))
    assert proc.returncode == 0, proc.stderr
    found = set(listing['_meta']['hostvars'])
    surely = {w for w, d in truth.items() if idle(d, 2)}
    maybe = {w for w, d in truth.items() if idle(d, -2)}
    assert surely and surely <= found <= maybe and maybe != set(truth)
    assert all(v['idle_minutes'] is None or v['idle_minutes'] >= 180 for v in listing['_meta']['hostvars'].values())


def test_hostnames_preferences_and_shared_names(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    source = write_config(tmp_path, {'regions': ['us-east-1', 'eu-west-1'], 'hostnames': ['tag:Name', 'user_name']})
    proc, listing = inventory(ansible_env, source)
    assert proc.returncode == 0, proc.stderr
    names = set(listing['_meta']['hostvars'])
    assert 'bob-desk' in names and 'carol' in names
    # alice has a desktop in each region: neither is named alice, both by their workspace id
    assert 'alice' not in names and {'ws-alice00001', 'ws-alice00002'} <= names
    assert 'Several desktops would be named alice' in proc.stderr
    assert listing['_meta']['hostvars']['bob-desk']['workspace_id'] == 'ws-bob0000001'


def test_bad_configuration_fails_before_any_call(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    emulator.reset_calls()
    strict = {'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': 'true'}
    proc, _listing = inventory(ansible_env, write_config(tmp_path, {'regions': ['us-east-1'], 'exclude_tag': {EXEMPT: None}}), env=strict)
    assert proc.returncode != 0
    assert "unknown option(s) 'exclude_tag' (did you mean 'exclude_tags'?)" in proc.stderr

    source = write_config(tmp_path, {'regions': ['us-east-1'], 'user_name': 'alice', 'hostnames': ['dns-name']}, 'bad.workspaces.yml')
    proc, _listing = inventory(ansible_env, source, env=strict)
    assert proc.returncode != 0
    assert "user_name 'alice' needs directory_ids" in proc.stderr
    assert "hostnames: 'dns-name' is not one of" in proc.stderr
    assert emulator.counts() == {}


def test_cache_serves_the_second_run(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    source = write_config(tmp_path, {
        'regions': ['eu-west-1'], 'cache': True, 'cache_plugin': 'ansible.builtin.jsonfile', 'cache_connection': str(tmp_path / 'cache'),
    })
    proc, first = inventory(ansible_env, source)
    assert proc.returncode == 0, proc.stderr
    assert emulator.counts() == {'DescribeWorkspaces': 1, 'GetResources': 1}
    emulator.reset_calls()
    time.sleep(1.1)  # a read now would have another workspace_described_at
    proc, second = inventory(ansible_env, source)
    assert proc.returncode == 0, proc.stderr
    # Served from the cache, workspace_described_at included: the time of the read, not of the cache hit.
    assert second == first and len(first['_meta']['hostvars']) == 4
    assert emulator.counts() == {}
    proc, _third = inventory(ansible_env, source, '--flush-cache')
    assert proc.returncode == 0, proc.stderr
    assert emulator.counts() == {'DescribeWorkspaces': 1, 'GetResources': 1}


def test_all_enabled_regions_where_workspaces_is_offered(emulator, ansible_env, tmp_path):
    emulator.seed(FLEET)
    proc, listing = inventory(ansible_env, write_config(tmp_path, {'include_tags': False}))
    assert proc.returncode == 0, proc.stderr
    assert set(listing['_meta']['hostvars']) == {d['workspace_id'] for d in emulator.workspaces()}
    per_region = counts_by_region(emulator)
    assert per_region.pop('us-east-1') == {'DescribeRegions': 1, 'DescribeWorkspaces': 1}
    assert 'eu-west-1' in per_region and 'ap-southeast-2' in per_region
    assert 'eu-north-1' not in per_region  # enabled, but WorkSpaces is not offered there
    assert all(counts == {'DescribeWorkspaces': 1} for counts in per_region.values())


def test_hosts_are_usable_from_a_playbook(emulator, run_playbook, tmp_path, outdir):
    """Delegated to the controller, without connection variables or reserved-name warnings; tag values not templated."""
    emulator.seed(FLEET)
    source = write_config(tmp_path, {'regions': ['eu-west-1'], 'include_connection_status': True})
    run = run_playbook(
        """
        - hosts: aws_workspaces_eu_west_1
          gather_facts: false
          tasks:
            - name: Record what a task delegated to the controller sees
              delegate_to: localhost
              vars:
                host: "{{ hostvars[inventory_hostname].ansible_host | default(None) }}"
              ansible.builtin.copy:
                content: "{{ {'id': workspace_id, 'region': region, 'tags': workspace_tags, 'host': host} | to_json }}"
                dest: "%s/{{ inventory_hostname }}.json"
        """ % outdir,
        inventory=source,
    )
    assert run.rc == 0, run
    assert 'reserved name' not in run.stderr + run.stdout
    seen = {p.stem: json.loads(p.read_text()) for p in outdir.iterdir()}
    truth = {d['workspace_id']: d for d in emulator.workspaces(region='eu-west-1')}
    assert set(seen) == set(truth)
    assert seen['ws-alice00002']['tags'] == {'team': 'ops', 'note': '{{ 6 * 7 }}'}
    for workspace_id, facts in seen.items():
        assert facts == {'id': workspace_id, 'region': 'eu-west-1', 'tags': truth[workspace_id]['tags'], 'host': None}
