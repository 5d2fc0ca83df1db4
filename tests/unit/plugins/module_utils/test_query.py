# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the query layer: option checks, matching, selector choice, hostnames (no AWS)."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.fleetops.workspaces.plugins.module_utils import query
from ansible_collections.fleetops.workspaces.plugins.module_utils import search
from ansible_collections.fleetops.workspaces.plugins.module_utils.info import INFO_ARGUMENT_SPEC

DIR_A = 'd-906732325d'
DIR_B = 'd-9067aa11bb'


def filters(**params):
    normalized, errors = query.normalize_filters(params)
    assert errors == []
    return normalized


def desktop(workspace_id='ws-aaaaaaaa1', **fields):
    base = {
        'workspace_id': workspace_id, 'directory_id': DIR_A, 'user_name': 'alice', 'state': 'AVAILABLE',
        'bundle_id': 'wsb-b0s22j3d7', 'running_mode': 'AUTO_STOP', 'region': 'us-east-1',
    }
    base.update(fields)
    return base


# --- normalize_filters ----------------------------------------------------------------------------
def test_defaults_mean_no_filter():
    f = filters()
    assert f['workspace_ids'] is None and f['directory_ids'] is None and f['states'] is None
    assert f['tags'] is None and f['exclude_tags'] is None
    assert f['include_tags'] is True and f['include_connection_status'] is False
    assert not query.matches_nothing(f)


def test_lists_are_deduplicated_in_order():
    f = filters(workspace_ids=['ws-bbbbbbbb2', 'ws-aaaaaaaa1', 'ws-bbbbbbbb2'], states=['STOPPED', 'AVAILABLE', 'STOPPED'])
    assert f['workspace_ids'] == ['ws-bbbbbbbb2', 'ws-aaaaaaaa1']
    assert f['states'] == ['STOPPED', 'AVAILABLE']


@pytest.mark.parametrize('option', query.LIST_FILTERS)
def test_empty_list_matches_nothing(option):
    assert query.matches_nothing(filters(**{option: []}))


def test_connection_states_imply_connection_status():
    assert filters(connection_states=['CONNECTED'])['include_connection_status'] is True


@pytest.mark.parametrize('params, fragment', [
    ({'workspace_ids': ['i-123']}, "'i-123' is not a WorkSpaces id"),
    ({'directory_ids': ['d-XYZ']}, "directory id 'd-XYZ' is not a WorkSpaces directory id"),
    ({'user_name': 'alice'}, "user_name 'alice' needs directory_ids"),
    ({'bundle_id': 'bundle-1'}, "bundle_id 'bundle-1' is not a WorkSpaces bundle id"),
    ({'states': ['RUNNING']}, "states: 'RUNNING' is not one of PENDING"),
    ({'running_modes': ['AUTOSTOP']}, "running_modes: 'AUTOSTOP' is not one of AUTO_STOP"),
    ({'connection_states': ['ONLINE']}, "connection_states: 'ONLINE' is not one of CONNECTED"),
    ({'tags': {'autostop': True}}, "the value of tag 'autostop' is the boolean True; tag values are strings, quote it"),
    ({'exclude_tags': {'x': ['a']}}, "exclude_tags: the value of tag 'x' must be a string"),
    ({'tags': 'team=finance'}, 'tags must be a dictionary'),
    ({'states': [{'name': 'STOPPED'}]}, "states must be a list of strings, got [{'name': 'STOPPED'}]"),
    ({'directory_ids': 'd-906732325d'}, "directory_ids must be a list of strings, got 'd-906732325d'"),
])
def test_bad_values_are_named(params, fragment):
    _normalized, errors = query.normalize_filters(params)
    assert len(errors) == 1
    assert fragment in errors[0]


def test_wsd_directories_and_numeric_tag_values_are_accepted():
    f = filters(directory_ids=['wsd-abcd1234'], tags={'cost_center': 1234, 'owner': None})
    assert f['directory_ids'] == ['wsd-abcd1234']
    assert f['tags'] == {'cost_center': '1234', 'owner': None}


def test_empty_tag_dicts_are_no_filter():
    f = filters(tags={}, exclude_tags={})
    assert f['tags'] is None and f['exclude_tags'] is None
    assert query.needs_tags(filters(include_tags=False, tags={})) is False
    assert query.needs_tags(filters(include_tags=False, exclude_tags={'a': None})) is True


def test_argument_spec_covers_every_normalized_option():
    assert set(INFO_ARGUMENT_SPEC) == set(query.FILTER_ARGUMENT_SPEC) | {'concurrent_reads'}
    assert set(filters()) == set(query.FILTER_ARGUMENT_SPEC)
    assert query.FILTER_ARGUMENT_SPEC['states']['choices'] == list(query.WORKSPACE_STATES)


# --- tag matching ---------------------------------------------------------------------------------
def test_tags_match_all_needs_every_entry():
    tags = {'team': 'finance', 'owner': 'alice'}
    assert query.tags_match_all(tags, {'team': 'finance'})
    assert query.tags_match_all(tags, {'team': 'finance', 'owner': None})
    assert not query.tags_match_all(tags, {'team': 'finance', 'env': None})
    assert not query.tags_match_all(tags, {'team': 'Finance'})
    assert query.tags_match_all({}, None)
    assert not query.tags_match_all({}, {'team': None})


def test_null_value_matches_presence_even_of_an_empty_value():
    assert query.tag_matches({'exempt': ''}, 'exempt', None)
    assert not query.tag_matches({'exempt': ''}, 'exempt', 'yes')


def test_tags_match_any_for_exclusions():
    assert query.tags_match_any({'exempt': 'yes'}, {'exempt': None, 'team': 'ops'})
    assert query.tags_match_any({'team': 'ops'}, {'exempt': None, 'team': 'ops'})
    assert not query.tags_match_any({'team': 'finance'}, {'exempt': None, 'team': 'ops'})
    assert not query.tags_match_any({'team': 'ops'}, None)


def test_matches_tags_combines_include_and_exclude():
    f = filters(tags={'team': 'finance'}, exclude_tags={'exempt': None})
    assert query.matches_tags(desktop(tags={'team': 'finance'}), f)
    assert not query.matches_tags(desktop(tags={'team': 'finance', 'exempt': 'x'}), f)
    assert not query.matches_tags(desktop(tags={}), f)


def test_tag_filters_for_get_resources():
    assert query.tag_filters({'team': 'finance', 'owner': None}) == [{'Key': 'owner'}, {'Key': 'team', 'Values': ['finance']}]
    assert query.tag_filters(None) == []


# --- description and connection filters ----------------------------------------------------------
@pytest.mark.parametrize('params, field, good, bad', [
    ({'directory_ids': [DIR_A, DIR_B]}, 'directory_id', DIR_B, 'd-0000000000'),
    ({'directory_ids': [DIR_A], 'user_name': 'Alice'}, 'user_name', 'alice', 'bob'),
    ({'bundle_id': 'wsb-b0s22j3d7'}, 'bundle_id', 'wsb-b0s22j3d7', 'wsb-00000000'),
    ({'states': ['AVAILABLE', 'ERROR']}, 'state', 'ERROR', 'STOPPED'),
    ({'running_modes': ['AUTO_STOP', 'MANUAL']}, 'running_mode', 'MANUAL', 'ALWAYS_ON'),
])
def test_matches_description_per_filter(params, field, good, bad):
    f = filters(**params)
    assert query.matches_description(desktop(**{field: good}), f)
    assert not query.matches_description(desktop(**{field: bad}), f)


def test_matches_description_restricts_to_candidates():
    f = filters()
    assert query.matches_description(desktop('ws-aaaaaaaa1'), f, {'ws-aaaaaaaa1'})
    assert not query.matches_description(desktop('ws-aaaaaaaa1'), f, {'ws-bbbbbbbb2'})
    assert not query.matches_description(desktop('ws-aaaaaaaa1'), f, set())


def test_matches_connection_treats_no_entry_as_unknown():
    assert query.matches_connection(desktop(connection_state='CONNECTED'), None)
    assert query.matches_connection(desktop(connection_state=None), ['UNKNOWN'])
    assert not query.matches_connection(desktop(connection_state=None), ['DISCONNECTED'])
    assert query.matches_connection(desktop(connection_state='DISCONNECTED'), ['DISCONNECTED'])
    assert not query.matches_connection(desktop(connection_state='CONNECTED'), ['DISCONNECTED', 'UNKNOWN'])


# --- selector choice ------------------------------------------------------------------------------
def ids(n):
    return ['ws-%08d' % i for i in range(n)]


def test_describe_calls():
    assert [query.describe_calls(n) for n in (0, 1, 25, 26, 50, 51)] == [0, 1, 1, 2, 2, 3]


def test_explicit_ids_win_over_everything():
    f = filters(workspace_ids=['ws-aaaaaaaa1'], directory_ids=[DIR_A], bundle_id='wsb-b0s22j3d7')
    assert query.choose_selector(f) == (query.BY_IDS, ['ws-aaaaaaaa1'])
    assert query.choose_selector(f, [], from_tags=True) == (query.BY_IDS, [])


def test_directories_then_bundle_then_all():
    assert query.choose_selector(filters(directory_ids=[DIR_A, DIR_B], bundle_id='wsb-b0s22j3d7')) == (query.BY_DIRECTORIES, [DIR_A, DIR_B])
    assert query.choose_selector(filters(bundle_id='wsb-b0s22j3d7')) == (query.BY_BUNDLE, 'wsb-b0s22j3d7')
    assert query.choose_selector(filters()) == (query.ALL, None)


def test_tagged_ids_always_beat_the_whole_region():
    assert query.choose_selector(filters(tags={'a': None}), ids(1000), from_tags=True) == (query.BY_IDS, ids(1000))


@pytest.mark.parametrize('n_tagged, expected', [(25, query.BY_IDS), (26, query.BY_BUNDLE)])
def test_tagged_ids_against_a_bundle(n_tagged, expected):
    f = filters(tags={'a': None}, bundle_id='wsb-b0s22j3d7')
    assert query.choose_selector(f, ids(n_tagged), from_tags=True)[0] == expected


@pytest.mark.parametrize('n_tagged, expected', [(50, query.BY_IDS), (51, query.BY_DIRECTORIES)])
def test_tagged_ids_against_directories(n_tagged, expected):
    f = filters(tags={'a': None}, directory_ids=[DIR_A, DIR_B])
    assert query.choose_selector(f, ids(n_tagged), from_tags=True)[0] == expected


# --- desktop dicts --------------------------------------------------------------------------------
def test_to_desktop_snake_cases_and_adds_region_and_running_mode():
    raw = {
        'WorkspaceId': 'ws-aaaaaaaa1', 'DirectoryId': DIR_A, 'UserName': 'alice', 'State': 'AVAILABLE',
        'WorkspaceProperties': {'RunningMode': 'AUTO_STOP', 'RunningModeAutoStopTimeoutInMinutes': 60},
        'DataReplicationSettings': {'RecoverySnapshotTime': datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)},
    }
    d = search.to_desktop(raw, 'eu-west-1')
    assert d['workspace_id'] == 'ws-aaaaaaaa1' and d['user_name'] == 'alice'
    assert d['workspace_properties'] == {'running_mode': 'AUTO_STOP', 'running_mode_auto_stop_timeout_in_minutes': 60}
    assert d['running_mode'] == 'AUTO_STOP'
    assert d['region'] == 'eu-west-1'
    assert d['data_replication_settings']['recovery_snapshot_time'].startswith('2025-01-02T03:04:05')
    assert 'tags' not in d


def test_add_connection_status():
    stamp = datetime.datetime(2025, 1, 31, 17, 2, 11, tzinfo=datetime.timezone.utc)
    d = query.add_connection_status(desktop(), {'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': stamp})
    assert d['connection_state'] == 'DISCONNECTED'
    assert d['last_known_user_connection_timestamp'] == '2025-01-31T17:02:11+00:00'
    d = query.add_connection_status(desktop(), None)
    assert d['connection_state'] is None and d['last_known_user_connection_timestamp'] is None


# --- hostnames ------------------------------------------------------------------------------------
def test_validate_hostnames():
    assert query.validate_hostnames(['computer_name', 'tag:Name', 'workspace_id']) == []
    errors = query.validate_hostnames(['dns-name', 'tag:'])
    assert "'dns-name' is not one of workspace_id" in errors[0]
    assert "'tag:' names no tag" in errors[1]
    assert 'at least one' in query.validate_hostnames([])[0]
    assert 'include_tags=false does not read' in query.validate_hostnames(['tag:Name'], include_tags=False)[0]
    assert query.validate_hostnames(['computer_name'], include_tags=False) == []


def test_hostname_for_takes_the_first_preference_with_a_value():
    d = desktop(computer_name=None, ip_address='10.0.0.5', tags={'Name': 'alice-pc'})
    assert query.hostname_for(d, ['computer_name', 'ip_address']) == '10.0.0.5'
    assert query.hostname_for(d, ['tag:Name', 'ip_address']) == 'alice-pc'
    assert query.hostname_for(d, ['tag:Owner', 'user_name']) == 'alice'
    assert query.hostname_for(d, ['computer_name']) == 'ws-aaaaaaaa1'
    assert query.hostname_for(desktop(), ['tag:Name']) == 'ws-aaaaaaaa1'


def test_assign_hostnames_falls_back_to_ids_for_shared_names():
    desktops = [
        desktop('ws-aaaaaaaa1', user_name='alice', directory_id=DIR_A),
        desktop('ws-bbbbbbbb2', user_name='alice', directory_id=DIR_B),
        desktop('ws-cccccccc3', user_name='bob'),
    ]
    names, duplicates = query.assign_hostnames(desktops, ['user_name'])
    assert names == {'ws-aaaaaaaa1': 'ws-aaaaaaaa1', 'ws-bbbbbbbb2': 'ws-bbbbbbbb2', 'ws-cccccccc3': 'bob'}
    assert duplicates == ['alice']


def test_region_group():
    assert query.region_group('us-east-1') == 'aws_workspaces_us_east_1'
    assert query.region_group('eu-west-2', 'vdi') == 'vdi_eu_west_2'


# --- find_workspaces over a fake boto3 client: which calls, how many ----------------------------
class FakeAWS:
    """Stands in for the retry-wrapped boto3 clients: serves a fixed fleet and records every call."""

    def __init__(self, fleet, tags, connections=None):
        self.fleet = fleet              # list of DescribeWorkspaces entries
        self.tags = tags                # {workspace_id: {key: value}}
        self.connections = connections or {}
        self.calls = []

    @staticmethod
    def _page(items, params, size):
        start = int(params.get('NextToken') or params.get('PaginationToken') or 0)
        page = items[start:start + size]
        token = str(start + size) if start + size < len(items) else None
        return page, token

    def describe_workspaces(self, aws_retry=False, **params):
        assert aws_retry is True
        self.calls.append(('DescribeWorkspaces', {k: v for k, v in params.items() if k != 'NextToken'}))
        assert len([k for k in ('WorkspaceIds', 'DirectoryId', 'BundleId') if k in params]) <= 1
        assert 'UserName' not in params or 'DirectoryId' in params
        items = [w for w in self.fleet
                 if w['WorkspaceId'] in params.get('WorkspaceIds', [w['WorkspaceId']])
                 and w['DirectoryId'] == params.get('DirectoryId', w['DirectoryId'])
                 and w['UserName'] == params.get('UserName', w['UserName'])
                 and w['BundleId'] == params.get('BundleId', w['BundleId'])]
        page, token = self._page(items, params, 25)
        return {'Workspaces': page, 'NextToken': token} if token else {'Workspaces': page}

    def get_resources(self, aws_retry=False, **params):
        assert aws_retry is True and params['ResourceTypeFilters'] == ['workspaces:workspace']
        self.calls.append(('GetResources', params.get('TagFilters')))
        items = [(w, t) for w, t in sorted(self.tags.items()) if t and all(
            f['Key'] in t and ('Values' not in f or t[f['Key']] in f['Values']) for f in params.get('TagFilters', []))]
        page, token = self._page(items, params, params['ResourcesPerPage'])
        mappings = [{'ResourceARN': 'arn:aws:workspaces:us-east-1:123456789012:workspace/' + w,
                     'Tags': [{'Key': k, 'Value': v} for k, v in t.items()]} for w, t in page]
        return {'ResourceTagMappingList': mappings, 'PaginationToken': token or ''}

    def describe_workspaces_connection_status(self, aws_retry=False, **params):
        assert aws_retry is True and len(params['WorkspaceIds']) <= 25
        self.calls.append(('DescribeWorkspacesConnectionStatus', len(params['WorkspaceIds'])))
        return {'WorkspacesConnectionStatus': [
            {'WorkspaceId': w, 'ConnectionState': self.connections[w]} for w in params['WorkspaceIds'] if w in self.connections]}

    def count(self, operation):
        return len([c for c in self.calls if c[0] == operation])


def make_fleet():
    """60 desktops in DIR_A (alice owns ws-00000000), 40 in DIR_B; every third tagged team=finance, every tenth exempt."""
    fleet, tags, connections = [], {}, {}
    for i in range(100):
        workspace_id = 'ws-%08d' % i
        fleet.append({
            'WorkspaceId': workspace_id, 'DirectoryId': DIR_A if i < 60 else DIR_B, 'UserName': 'alice' if i == 0 else 'user%d' % i,
            'BundleId': 'wsb-b0s22j3d7' if i % 2 else 'wsb-00000000', 'State': 'STOPPED' if i % 4 == 0 else 'AVAILABLE',
            'WorkspaceProperties': {'RunningMode': 'ALWAYS_ON' if i % 5 == 0 else 'AUTO_STOP'},
        })
        tags[workspace_id] = {}
        if i % 3 == 0:
            tags[workspace_id]['team'] = 'finance'
        if i % 10 == 0:
            tags[workspace_id]['exempt'] = ''
        connections[workspace_id] = 'CONNECTED' if i % 2 else 'DISCONNECTED'
    return FakeAWS(fleet, tags, connections)


def run(aws, **params):
    return search.find_workspaces(aws, aws, 'us-east-1', filters(**params))


def test_whole_region_with_tags():
    aws = make_fleet()
    found = run(aws)
    assert len(found) == 100 and [d['workspace_id'] for d in found] == sorted(d['workspace_id'] for d in found)
    assert aws.count('DescribeWorkspaces') == 4 and aws.count('GetResources') == 1
    assert found[0]['tags'] == {'team': 'finance', 'exempt': ''} and found[1]['tags'] == {}
    assert 'connection_state' not in found[0]


def test_no_tags_means_no_tagging_call():
    aws = make_fleet()
    found = run(aws, include_tags=False)
    assert aws.count('GetResources') == 0 and 'tags' not in found[0]


def test_tag_filter_describes_only_the_tagged_ids():
    aws = make_fleet()
    found = run(aws, tags={'team': 'finance'}, include_tags=False)
    assert [d['workspace_id'] for d in found] == ['ws-%08d' % i for i in range(0, 100, 3)]
    assert aws.calls[0] == ('GetResources', [{'Key': 'team', 'Values': ['finance']}])
    assert aws.count('DescribeWorkspaces') == 2  # 34 ids, not 4 pages of the region
    assert all('WorkspaceIds' in params for op, params in aws.calls if op == 'DescribeWorkspaces')


def test_tag_filter_with_no_match_describes_nothing():
    aws = make_fleet()
    assert run(aws, tags={'team': 'nobody'}) == []
    assert aws.calls == [('GetResources', [{'Key': 'team', 'Values': ['nobody']}])]


def test_tag_filter_with_one_directory_keeps_the_directory_query():
    aws = make_fleet()
    found = run(aws, tags={'team': 'finance'}, directory_ids=[DIR_B])
    assert [d['workspace_id'] for d in found] == ['ws-%08d' % i for i in range(60, 100) if i % 3 == 0]
    assert [params.get('DirectoryId') for op, params in aws.calls if op == 'DescribeWorkspaces'] == [DIR_B, DIR_B]


def test_exclude_tags_and_description_filters():
    aws = make_fleet()
    found = run(aws, directory_ids=[DIR_A], exclude_tags={'exempt': None}, states=['AVAILABLE'], running_modes=['AUTO_STOP'])
    expected = [i for i in range(60) if i % 10 and i % 4 and i % 5]
    assert [d['workspace_id'] for d in found] == ['ws-%08d' % i for i in expected]
    assert aws.count('DescribeWorkspaces') == 3 and aws.count('GetResources') == 1


def test_user_name_goes_to_each_directory_query():
    aws = make_fleet()
    found = run(aws, directory_ids=[DIR_A, DIR_B], user_name='alice', include_tags=False)
    assert [d['workspace_id'] for d in found] == ['ws-00000000']
    assert [params for op, params in aws.calls] == [{'DirectoryId': DIR_A, 'UserName': 'alice'}, {'DirectoryId': DIR_B, 'UserName': 'alice'}]


def test_bundle_selector():
    aws = make_fleet()
    found = run(aws, bundle_id='wsb-b0s22j3d7', include_tags=False)
    assert len(found) == 50 and aws.calls[0] == ('DescribeWorkspaces', {'BundleId': 'wsb-b0s22j3d7'})


def test_connection_status_only_for_the_matching_desktops():
    aws = make_fleet()
    found = run(aws, directory_ids=[DIR_B], connection_states=['CONNECTED'], include_tags=False)
    assert [d['workspace_id'] for d in found] == ['ws-%08d' % i for i in range(61, 100, 2)]
    assert all(d['connection_state'] == 'CONNECTED' for d in found)
    assert [c for c in aws.calls if c[0] == 'DescribeWorkspacesConnectionStatus'] == [
        ('DescribeWorkspacesConnectionStatus', 25), ('DescribeWorkspacesConnectionStatus', 15)]


def test_nothing_left_means_no_tag_or_connection_call():
    aws = make_fleet()
    assert run(aws, workspace_ids=['ws-99999999'], include_connection_status=True) == []
    assert [c[0] for c in aws.calls] == ['DescribeWorkspaces']


def test_empty_list_makes_no_call():
    aws = make_fleet()
    assert run(aws, workspace_ids=[]) == []
    assert aws.calls == []


NOW = datetime.datetime(2026, 12, 2, 6, 0, 0, tzinfo=datetime.timezone.utc)


def test_add_connection_status_has_idle_minutes_by_the_given_clock():
    stamp = datetime.datetime(2026, 12, 2, 5, 15, 30, tzinfo=datetime.timezone.utc)
    d = query.add_connection_status(desktop(), {'ConnectionState': 'DISCONNECTED', 'LastKnownUserConnectionTimestamp': stamp}, NOW)
    assert d['idle_minutes'] == 44
    d = query.add_connection_status(desktop(), {'ConnectionState': 'DISCONNECTED'}, NOW)
    assert d['idle_minutes'] is None and d['last_known_user_connection_timestamp'] is None


def test_min_idle_minutes_implies_connection_status_and_is_validated():
    filters, errors = query.normalize_filters({'min_idle_minutes': 30})
    assert errors == [] and filters['include_connection_status'] and filters['min_idle_minutes'] == 30
    assert not query.normalize_filters({})[0]['include_connection_status']
    for bad in (-1, True, '5'):
        errors = query.normalize_filters({'min_idle_minutes': bad})[1]
        assert errors and repr(bad) in errors[0] and 'min_idle_minutes' in errors[0]


def test_matches_idle_is_the_stop_decision():
    def with_status(state, minutes=None):
        d = desktop()
        entry = {'ConnectionState': state} if state else None
        if entry and minutes is not None:
            entry['LastKnownUserConnectionTimestamp'] = NOW - datetime.timedelta(minutes=minutes)
        return query.add_connection_status(d, entry, NOW)
    assert query.matches_idle(with_status('DISCONNECTED', 30), 30, NOW)
    assert not query.matches_idle(with_status('DISCONNECTED', 29), 30, NOW)
    assert query.matches_idle(with_status('DISCONNECTED'), 30, NOW)          # never connected
    assert not query.matches_idle(with_status('CONNECTED', 300), 30, NOW)
    assert not query.matches_idle(with_status(None), 30, NOW)                # no entry: unknown, not idle
    assert query.matches_idle(with_status(None), 0, NOW)
