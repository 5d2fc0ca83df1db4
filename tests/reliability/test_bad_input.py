# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, one table: every case fails with a message naming the bad value (and, where the collection can, what to
do), in bounded time, and the call log shows no mutating call; duplicate ids are de-duplicated, not an error.

The module cases that need nothing of their own (no environment, fault or fleet) run as the tasks of one playbook, each
task's result checked on its own: one ansible-playbook start-up instead of one per case. The others run one playbook each."""
from __future__ import annotations

import json

import pytest

from tests.functional.conftest import cases_play
from tests.functional.conftest import failures_without
from tests.reliability.conftest import REGION
from tests.reliability.conftest import explicit_fleet
from tests.reliability.conftest import module_play
from tests.reliability.conftest import mutating_calls
from tests.reliability.conftest import read_result
from tests.reliability.conftest import role_play
from tests.reliability.conftest import seed
from tests.reliability.conftest import sent_ids
from tests.reliability.conftest import stop_calls

STOP = 'fleetops.workspaces.workspaces_stop'
INFO = 'fleetops.workspaces.workspaces_info'
FLEET = [d['workspace_id'] for d in explicit_fleet(10, prefix='ws-bad')]  # ws-bad00000000 ... ws-bad00000009, tag Team=blue
BIG_FLEET = [d['workspace_id'] for d in explicit_fleet(501, prefix='ws-big')]
UNKNOWN = ['ws-none%07d' % i for i in range(1000)]
ROLE = {'workspaces_stop_regions': [REGION]}
NO_CREDENTIALS = {
    'env_remove': ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'),
    # Nothing else may provide credentials: no shared files, and no instance metadata (which is not on loopback).
    'env': {'AWS_SHARED_CREDENTIALS_FILE': '/nonexistent/credentials', 'AWS_CONFIG_FILE': '/nonexistent/config', 'AWS_EC2_METADATA_DISABLED': 'true'},
}


def case(case_id, kind, args, expect, **options):
    """One row: ``kind`` is stop/info (module task), role (the role's play) or inventory (ansible-inventory --list on
    ``args`` as configuration text); ``expect`` are fragments the error must contain ({port} is filled in); ``faults``
    are emulator fault settings made after seeding."""
    marks = options.pop('marks', ())
    return pytest.param(dict(kind=kind, args=args, expect=expect, **options), id=case_id, marks=marks)


CASES = [
    # ids
    case('stop-malformed-id', STOP, {'workspace_ids': [FLEET[0], 'WS-BAD00000001']},
         ["workspace id 'WS-BAD00000001' is not a WorkSpaces id", 'ids look like ws-0fr8qcgzm', 'nothing was stopped']),
    case('stop-id-with-trailing-space', STOP, {'workspace_ids': [FLEET[0] + ' ']},
         ["workspace id '%s ' is not a WorkSpaces id" % FLEET[0], 'ws- then 8 to 63 lower-case letters or digits']),
    case('role-malformed-id', 'role', dict(ROLE, workspaces_stop_workspace_ids=[FLEET[0], 'ws_bad0000002']),
         ["workspace id 'ws_bad0000002' is not a WorkSpaces id", 'Invalid variables for the fleetops.workspaces.stop role, nothing was changed']),
    case('stop-duplicate-ids', STOP, {'workspace_ids': [FLEET[0], FLEET[1], FLEET[0], FLEET[0]], 'wait': False}, [],
         dedupe=[FLEET[0], FLEET[1]]),
    case('role-duplicate-ids-as-survey-text', 'role',
         dict(ROLE, workspaces_stop_workspace_ids='%s,%s, %s' % (FLEET[2], FLEET[2], FLEET[3]), workspaces_stop_wait=False), [],
         dedupe=[FLEET[2], FLEET[3]]),
    # limits
    case('role-max-count-exceeded', 'role', dict(ROLE, workspaces_stop_tags={'Team': 'blue'}, workspaces_stop_max_count=3),
         ['10 WorkSpaces would be stopped', 'workspaces_stop_max_count is 3', 'raise workspaces_stop_max_count to at least 10']),
    case('role-more-ids-than-max-count', 'role', dict(ROLE, workspaces_stop_workspace_ids=BIG_FLEET),
         ['501 WorkSpaces would be stopped', 'workspaces_stop_max_count is 500; nothing was changed'], fleet=BIG_FLEET),
    case('stop-1000-unknown-ids', STOP, {'workspace_ids': UNKNOWN},
         ['1000 requested WorkSpaces do not exist in region us-east-1', UNKNOWN[0], 'and 990 more', 'ignore_missing=true']),
    # options and types
    case('stop-unknown-option', STOP, {'workspace_ids': FLEET[:1], 'wait_timout': 30},
         ['Unsupported parameters for (fleetops.workspaces.workspaces_stop) module: wait_timout', 'wait_timeout']),
    case('stop-timeout-not-a-number', STOP, {'workspace_ids': FLEET[:1], 'wait_timeout': 'ten'},
         ["argument 'wait_timeout' is of type str", 'ten', 'int']),
    case('stop-bool-not-a-bool', STOP, {'workspace_ids': FLEET[:1], 'skip_connected': 'sometimes'},
         ["argument 'skip_connected'", 'sometimes', 'bool']),
    case('stop-ids-as-mapping', STOP, {'workspace_ids': {'id': FLEET[0]}},
         ["argument 'workspace_ids' is of type dict", 'list']),
    case('role-bool-not-a-bool', 'role', dict(ROLE, workspaces_stop_tags={'Team': 'blue'}, workspaces_stop_wait='maybe'),
         ['workspaces_stop_wait', 'maybe']),
    case('stop-negative-timeout', STOP, {'workspace_ids': FLEET[:1], 'wait_timeout': -30},
         ['wait_timeout must be a positive number of seconds, got -30', 'nothing was stopped']),
    case('role-negative-timeout', 'role', dict(ROLE, workspaces_stop_tags={'Team': 'blue'}, workspaces_stop_wait_timeout='-1'),
         ['workspaces_stop_wait_timeout must be a positive number of seconds, got -1']),
    # selection
    case('role-empty-selector-as-survey-text', 'role',
         dict(workspaces_stop_regions='us-east-1', workspaces_stop_workspace_ids='', workspaces_stop_directory_ids=' , ', workspaces_stop_tags=''),
         ['No WorkSpaces selected, nothing was changed (no AWS call was made)', 'workspaces_stop_allow_all=true']),
    case('role-tags-as-list', 'role', dict(ROLE, workspaces_stop_tags=['Team=blue']),
         ['workspaces_stop_tags must be a dictionary of tag keys and values', "['Team=blue']"]),
    case('info-tags-as-list', INFO, {'tags': ['Team', 'blue']}, ["argument 'tags' is of type list", 'dict']),
    case('info-malformed-directory-id', INFO, {'directory_ids': ['d-XYZ']},
         ["directory id 'd-XYZ' is not a WorkSpaces directory id", 'ids look like d-906732325d', 'nothing was queried']),
    case('role-unknown-region', 'role', {'workspaces_stop_regions': ['mars-east-1'], 'workspaces_stop_workspace_ids': FLEET[:1]},
         ['1 requested WorkSpaces were not found in mars-east-1', FLEET[0], 'check the ids and workspaces_stop_regions']),
    case('stop-unknown-region', STOP, {'workspace_ids': FLEET[:1], 'region': 'mars-east-1'},
         ['do not exist in region mars-east-1', 'Check the ids and the region']),
    # inventory configuration
    case('inventory-unknown-key', 'inventory', 'plugin: fleetops.workspaces.workspaces\nregoins: [us-east-1]\n',
         ["unknown option(s) 'regoins' (did you mean 'regions'?)", 'ansible-doc -t inventory fleetops.workspaces.workspaces']),
    case('inventory-bad-state', 'inventory', 'plugin: fleetops.workspaces.workspaces\nregions: [us-east-1]\nstates: [RUNNING]\n',
         ['RUNNING', 'AVAILABLE']),
    # endpoint and credentials
    case('stop-unreachable-endpoint', STOP, {'workspace_ids': FLEET[:1]},
         ['Could not connect to the endpoint URL', 'http://127.0.0.1:{port}/', 'nothing was stopped'], env={'AWS_ENDPOINT_URL': 'http://127.0.0.1:{port}'},
         max_seconds=60),
    case('role-unreachable-endpoint', 'role', dict(ROLE, workspaces_stop_tags={'Team': 'blue'}),
         ['Could not connect to the endpoint URL', 'http://127.0.0.1:{port}/'], env={'AWS_ENDPOINT_URL': 'http://127.0.0.1:{port}'}, max_seconds=60),
    case('stop-missing-credentials', STOP, {'workspace_ids': FLEET[:1]}, ['Unable to locate credentials', 'nothing was stopped'], **NO_CREDENTIALS),
    case('stop-missing-credentials-says-what-to-do', STOP, {'workspace_ids': FLEET[:1]}, ['AWS_ACCESS_KEY_ID', 'profile'], **NO_CREDENTIALS),
    case('stop-expired-credentials', STOP, {'workspace_ids': FLEET[:1]},
         ['ExpiredTokenException', 'The security token included in the request is expired', 'nothing was stopped'],
         env={'AWS_SESSION_TOKEN': 'expired-session-token'}, faults={'expired_token_from_call': 1}, max_seconds=60),
]


def shares_a_run(param):
    """A module case that needs no environment, fault, fleet or de-duplication check of its own."""
    row = param.values[0]
    return row['kind'] in (STOP, INFO) and not set(row) & {'env', 'env_remove', 'faults', 'fleet', 'dedupe', 'max_seconds'}


SHARED_RUN = [p for p in CASES if shares_a_run(p)]
OWN_RUN = [p for p in CASES if not shares_a_run(p)]


def seed_bad_fleet(emulator, big=False):
    seed(emulator, explicit_fleet(10, prefix='ws-bad', tags={'Team': 'blue'}) + (
        [dict(d, tags={'Team': 'blue'}) for d in explicit_fleet(501, prefix='ws-big')] if big else []))


def test_bad_module_input_fails_clearly_before_any_stop(emulator, run_cli, tmp_path, report_metrics):
    """Every module case of SHARED_RUN, one task each in one playbook (errors ignored): each task failed with its own
    message, and the whole run made no mutating call."""
    seed_bad_fleet(emulator)
    results = tmp_path / 'results.json'
    play = tmp_path / 'play.yml'
    play.write_text(cases_play([(p.id, p.values[0]['kind'], p.values[0]['args']) for p in SHARED_RUN], results))
    inventory = tmp_path / 'localhost.ini'
    inventory.write_text('localhost ansible_connection=local\n')
    proc, seconds = run_cli(['ansible-playbook', '-i', str(inventory), str(play)], timeout=300 * 5)
    report_metrics(case='shared-run (%d cases)' % len(SHARED_RUN), rc=proc.returncode, seconds=round(seconds, 1))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]  # every task's error is ignored, then saved

    assert mutating_calls(emulator.calls()) == []
    by_case = read_result(results)
    assert sorted(by_case) == sorted(p.id for p in SHARED_RUN)
    assert failures_without(by_case, {p.id: p.values[0]['expect'] for p in SHARED_RUN}) == {}


def fill(text, values):
    for key, value in values.items():
        text = text.replace('{%s}' % key, str(value))
    return text


@pytest.mark.parametrize('row', OWN_RUN)
def test_bad_input_fails_clearly_before_any_stop(row, request, emulator, run_cli, tmp_path, report_metrics):
    seed_bad_fleet(emulator, big=bool(row.get('fleet')))
    values = {}
    if any('{port}' in v for v in list(row.get('env', {}).values()) + row['expect']):
        values['port'] = request.getfixturevalue('closed_port')
    if row.get('faults'):
        emulator.set_faults(**row['faults'])
    env = {k: fill(v, values) for k, v in row.get('env', {}).items()}
    expect = [fill(fragment, values) for fragment in row['expect']]

    inventory = tmp_path / 'localhost.ini'
    inventory.write_text('localhost ansible_connection=local\n')
    # No wall-clock assertion (the machine may be loaded): a case that hangs or retries for minutes hits this guard
    # (subprocess.TimeoutExpired) and fails; how long each case took goes to the metrics.
    guard = row.get('max_seconds', 300) * 5
    result_path = tmp_path / 'result.json'
    if row['kind'] == 'inventory':
        config = tmp_path / 'bad.workspaces.yml'
        config.write_text(row['args'])
        env['ANSIBLE_INVENTORY_UNPARSED_FAILED'] = 'true'  # as in an AWX inventory update: a source that fails to parse fails
        proc, seconds = run_cli(['ansible-inventory', '-i', str(config), '--list'], env=env, env_remove=row.get('env_remove', ()), timeout=guard)
    else:
        play = tmp_path / 'play.yml'
        play.write_text(role_play(result_path) if row['kind'] == 'role' else module_play(row['kind'], row['args'], result_path))
        args = ['ansible-playbook', '-i', str(inventory), str(play)]
        if row['kind'] == 'role':
            args += ['-e', json.dumps(row['args'])]
        proc, seconds = run_cli(args, env=env, env_remove=row.get('env_remove', ()), timeout=guard)
    output = proc.stdout + proc.stderr
    result = read_result(result_path) if row['kind'] not in ('role', 'inventory') else {}
    report_metrics(case=request.node.callspec.id, rc=proc.returncode, seconds=round(seconds, 1))

    if row.get('dedupe'):
        # Duplicates are not an error: each desktop is asked for once.
        assert proc.returncode == 0 and not result.get('failed'), output[-4000:]
        assert sorted(sent_ids(stop_calls(emulator))) == sorted(row['dedupe'])
        if result:
            assert result['summary']['requested'] == len(row['dedupe']) and sorted(result['stopped']) == sorted(row['dedupe'])
        return

    # Nothing was changed: no mutating call reached the emulator.
    assert mutating_calls(emulator.calls()) == []
    if row.get('faults', {}).get('expired_token_from_call'):
        # The collection did call AWS, and every call was refused as expired (the emulator's expired_token fault).
        calls = emulator.calls()
        assert calls and {c['fault'] for c in calls} == {'expired_token'}, calls
    if row['kind'] in (STOP, INFO):
        assert proc.returncode == 0, output[-4000:]  # the play ignores the task's error and saves its result
        assert result.get('failed') is True, result
        message = result['msg']
    else:
        assert proc.returncode != 0, output[-4000:]
        message = output
    for fragment in expect:
        assert fragment in message, 'missing %r in the error:\n%s' % (fragment, message[-3000:])
