# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""workspaces_info through real ansible-playbook runs against the emulator: results and the AWS calls made."""
from __future__ import annotations

import json

DIR_A = 'd-1111111111'
DIR_B = 'd-2222222222'
DIR_C = 'd-3333333333'
BUNDLE_B = 'wsb-bbbbbbbb1'
EXEMPT = 'autostop:exempt'

FLEET = {
    'seed': 7,
    'regions': {
        'us-east-1': {
            'directories': [
                {'directory_id': DIR_A, 'count': 30, 'states': {'AVAILABLE': 2, 'STOPPED': 1}, 'running_modes': {'AUTO_STOP': 2, 'ALWAYS_ON': 1},
                 'connection_states': {'CONNECTED': 1, 'DISCONNECTED': 1, 'NONE': 1}, 'tags': {'team': 'finance'}, 'tag_fraction': 0.5},
                {'directory_id': DIR_B, 'count': 6, 'bundle_id': BUNDLE_B, 'running_modes': 'MANUAL', 'tags': {'team': 'ops'}},
            ],
            'workspaces': [
                {'workspace_id': 'ws-alicea0001', 'directory_id': DIR_A, 'user_name': 'alice', 'connection_state': 'CONNECTED'},
                {'workspace_id': 'ws-aliceb0001', 'directory_id': DIR_B, 'user_name': 'alice', 'bundle_id': BUNDLE_B},
                {'workspace_id': 'ws-exempt0001', 'directory_id': DIR_B, 'bundle_id': BUNDLE_B, 'tags': {'team': 'ops', EXEMPT: None}},
                {'workspace_id': 'ws-unknown001', 'directory_id': DIR_A, 'connection_state': 'UNKNOWN', 'state': 'ERROR'},
            ],
        },
        'eu-west-1': {'directories': [{'directory_id': DIR_C, 'count': 4}]},
    },
}


def ids(desktops):
    return sorted(d['workspace_id'] for d in desktops)


def info_playbook(outdir, cases, region='us-east-1'):
    """One workspaces_info task per case (params as inline JSON); every result is written to outdir/results.json."""
    tasks = []
    for index, (name, params) in enumerate(cases.items()):
        tasks.append(
            '    - name: %s\n'
            '      fleetops.workspaces.workspaces_info: %s\n'
            '      register: result_%d\n'
            '      ignore_errors: true\n' % (name, json.dumps(dict(params, region=region)), index)
        )
    everything = ', '.join('%s: result_%d' % (json.dumps(name), index) for index, name in enumerate(cases))
    tasks.append(
        '    - check_mode: false\n'
        '      save_json:\n'
        '        content: "{{ {%s} | to_json }}"\n'
        '        dest: %s/results.json\n' % (everything.replace('"', "'"), outdir)
    )
    return '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n' + ''.join(tasks)


def load(outdir, name):
    return json.loads((outdir / 'results.json').read_text())[name]


def test_every_filter_narrows_the_result(emulator, run_playbook, outdir):
    emulator.seed(FLEET)
    truth = emulator.workspaces(region='us-east-1')
    by_id = {d['workspace_id']: d for d in truth}
    some = ids(truth)[3:6]

    def expect(predicate):
        expected = sorted(w for w, d in by_id.items() if predicate(d))
        assert 0 < len(expected) < len(truth), 'the fleet must make this filter narrow the result'
        return expected

    cases = {
        'all': ({'include_tags': True}, sorted(by_id)),
        'plain': ({}, sorted(by_id)),
        'ids': ({'workspace_ids': some + ['ws-doesnotexist']}, some),
        'directory': ({'directory_ids': [DIR_B]}, expect(lambda d: d['directory_id'] == DIR_B)),
        'user': ({'directory_ids': [DIR_A, DIR_B], 'user_name': 'alice'}, expect(lambda d: d['user_name'] == 'alice')),
        'user_one_dir': ({'directory_ids': [DIR_B], 'user_name': 'alice'}, ['ws-aliceb0001']),
        'ids_and_directory': ({'workspace_ids': ['ws-alicea0001', 'ws-aliceb0001'], 'directory_ids': [DIR_A]}, ['ws-alicea0001']),
        'bundle': ({'bundle_id': BUNDLE_B}, expect(lambda d: d['bundle_id'] == BUNDLE_B)),
        'tag_value': ({'tags': {'team': 'finance'}}, expect(lambda d: d['tags'].get('team') == 'finance')),
        'tag_key': ({'tags': {EXEMPT: None}}, ['ws-exempt0001']),
        'exclude': ({'exclude_tags': {EXEMPT: None, 'team': 'finance'}},
                    expect(lambda d: EXEMPT not in d['tags'] and d['tags'].get('team') != 'finance')),
        'states': ({'states': ['STOPPED', 'ERROR']}, expect(lambda d: d['state'] in ('STOPPED', 'ERROR'))),
        'running_modes': ({'running_modes': ['ALWAYS_ON']}, expect(lambda d: d['running_mode'] == 'ALWAYS_ON')),
        'connected': ({'connection_states': ['CONNECTED']}, expect(lambda d: d['connection_state'] == 'CONNECTED')),
        'unknown': ({'connection_states': ['UNKNOWN']}, expect(lambda d: d['connection_state'] in (None, 'UNKNOWN'))),
        'combined': ({'directory_ids': [DIR_A], 'states': ['AVAILABLE'], 'running_modes': ['AUTO_STOP'], 'connection_states': ['DISCONNECTED']},
                     expect(lambda d: d['directory_id'] == DIR_A and d['state'] == 'AVAILABLE' and d['running_mode'] == 'AUTO_STOP'
                            and d['connection_state'] == 'DISCONNECTED')),
        'empty_ids': ({'workspace_ids': []}, []),
        'no_tags': ({'include_tags': False, 'directory_ids': [DIR_B]}, expect(lambda d: d['directory_id'] == DIR_B)),
    }
    run = run_playbook(info_playbook(outdir, {name: params for name, (params, _expected) in cases.items()}))
    assert run.rc == 0, run

    for name, (_params, expected) in cases.items():
        result = load(outdir, name)
        assert 'failed' not in result or not result['failed'], (name, result)
        assert ids(result['workspaces']) == expected, name
        assert result['count'] == len(expected), name
        assert result['changed'] is False
        assert [d['workspace_id'] for d in result['workspaces']] == expected, '%s: not sorted by id' % name

    everything = load(outdir, 'all')['workspaces']
    for desktop in everything:
        real = by_id[desktop['workspace_id']]
        assert desktop['region'] == 'us-east-1'
        assert desktop['running_mode'] == real['running_mode'] == desktop['workspace_properties']['running_mode']
        assert (desktop['state'], desktop['directory_id'], desktop['user_name'], desktop['bundle_id']) == \
            (real['state'], real['directory_id'], real['user_name'], real['bundle_id'])
        assert desktop['tags'] == real['tags']
        assert 'connection_state' not in desktop
    assert load(outdir, 'tag_key')['workspaces'][0]['tags'] == {'team': 'ops', EXEMPT: ''}

    for desktop in load(outdir, 'unknown')['workspaces']:
        assert desktop['connection_state'] == by_id[desktop['workspace_id']]['connection_state']
    assert {d['connection_state'] for d in load(outdir, 'unknown')['workspaces']} == {None, 'UNKNOWN'}
    connected = load(outdir, 'connected')['workspaces']
    assert all(d['last_known_user_connection_timestamp'] for d in connected)
    assert all('tags' not in d for d in load(outdir, 'no_tags')['workspaces'])
    assert all('tags' not in d for d in load(outdir, 'plain')['workspaces'])  # tags only when asked for
    assert all('idle_minutes' in d for d in connected)


def test_plain_listing_reads_no_tags_and_connection_status(emulator, run_playbook, outdir):
    emulator.seed(FLEET)
    truth = {d['workspace_id']: d for d in emulator.workspaces(region='eu-west-1')}
    run = run_playbook(info_playbook(outdir, {'eu': {'include_connection_status': True}}, region='eu-west-1'))
    assert run.rc == 0, run
    found = load(outdir, 'eu')['workspaces']
    assert ids(found) == sorted(truth)
    for desktop in found:
        assert 'tags' not in desktop
        assert desktop['connection_state'] == truth[desktop['workspace_id']]['connection_state']
        assert desktop['region'] == 'eu-west-1'
    assert emulator.counts() == {'DescribeWorkspaces': 1, 'DescribeWorkspacesConnectionStatus': 1}


def test_api_calls_are_batched_and_minimal(emulator, run_playbook, outdir):
    """130 tagged + 45 untagged desktops: pages of 25 / 100, describe by ids after a tag filter, status only for matches."""
    emulator.seed({'seed': 3, 'regions': {'us-east-1': {'directories': [
        {'directory_id': DIR_A, 'count': 130, 'tags': {'team': 'finance'}, 'connection_states': {'CONNECTED': 1, 'DISCONNECTED': 1}},
        {'directory_id': DIR_B, 'count': 45},
    ]}}})
    cases = {
        'region': {'include_connection_status': True, 'include_tags': True},
        'tagged': {'tags': {'team': 'finance'}, 'connection_states': ['DISCONNECTED']},
        'directory': {'directory_ids': [DIR_B], 'include_tags': False},
        'users': {'directory_ids': [DIR_A, DIR_B], 'user_name': 'user0007', 'include_tags': False},
    }
    expected_calls = {
        # 175 desktops: 7 pages; 130 tagged: 2 GetResources pages; 175 statuses: 7 batches.
        'region': {'DescribeWorkspaces': 7, 'GetResources': 2, 'DescribeWorkspacesConnectionStatus': 7},
        # GetResources first (filtered), then the 130 ids by id (6 calls, not 7 pages), statuses of those 130 only.
        'tagged': {'GetResources': 2, 'DescribeWorkspaces': 6, 'DescribeWorkspacesConnectionStatus': 6},
        'directory': {'DescribeWorkspaces': 2},
        'users': {'DescribeWorkspaces': 2},
    }
    results = {}
    for name, params in cases.items():
        emulator.reset_calls()
        run = run_playbook(info_playbook(outdir, {name: params}), check=(name == 'region'))
        assert run.rc == 0, run
        results[name] = load(outdir, name)
        assert emulator.counts() == expected_calls[name], name
        calls = emulator.calls()
        assert all(c['region'] == 'us-east-1' for c in calls)
        if name == 'tagged':
            assert calls[0]['operation'] == 'GetResources'
            assert calls[0]['params']['TagFilters'] == [{'Key': 'team', 'Values': ['finance']}]
            assert all('WorkspaceIds' in c['params'] for c in calls if c['operation'] == 'DescribeWorkspaces')
        if name == 'users':
            # One call per directory; sorted: with concurrent_reads the two directories are read at once, in either order.
            assert sorted((c['params']['DirectoryId'], c['params']['UserName']) for c in calls) == [(DIR_A, 'user0007'), (DIR_B, 'user0007')]
        assert all(len(c['params'].get('WorkspaceIds', [])) <= 25 for c in calls)

    assert results['region']['count'] == 175
    tagged = results['tagged']['workspaces']
    assert 0 < len(tagged) < 130 and all(d['connection_state'] == 'DISCONNECTED' and d['tags'] == {'team': 'finance'} for d in tagged)
    assert results['directory']['count'] == 45
    assert ids(results['users']['workspaces']) == sorted(
        d['workspace_id'] for d in emulator.workspaces(region='us-east-1') if d['user_name'] == 'user0007')
    assert results['users']['count'] == 2


def test_bad_values_fail_before_any_call(emulator, run_playbook, outdir):
    emulator.seed(FLEET)
    emulator.reset_calls()
    run = run_playbook(info_playbook(outdir, {
        'bad': {'workspace_ids': ['i-0123'], 'directory_ids': ['d-XYZ'], 'tags': {'autostop': True}},
        'user_without_directory': {'user_name': 'alice'},
        'bad_state': {'states': ['RUNNING']},
        'bad_idle': {'min_idle_minutes': -5},
    }))
    assert run.rc == 0, run
    bad = load(outdir, 'bad')
    assert bad['failed'] is True
    assert "'i-0123' is not a WorkSpaces id" in bad['msg']
    assert "directory id 'd-XYZ' is not a WorkSpaces directory id" in bad['msg']
    assert "quote it" in bad['msg']
    assert "user_name 'alice' needs directory_ids" in load(outdir, 'user_without_directory')['msg']
    assert 'RUNNING' in load(outdir, 'bad_state')['msg']
    assert 'min_idle_minutes must be a whole number of minutes, 0 (off) or more, got -5' in load(outdir, 'bad_idle')['msg']
    assert emulator.counts() == {}
