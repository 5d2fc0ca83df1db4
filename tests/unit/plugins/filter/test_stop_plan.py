# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the stop_plan filter: selection, exclusion, grouping, max_count, inventory hosts (no AWS)."""
from __future__ import annotations

import datetime
import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.fleetops.workspaces.plugins.filter.stop_plan import FilterModule
from ansible_collections.fleetops.workspaces.plugins.filter.stop_plan import stop_plan

KEEP = 'fleetops:keep-running'


def described(workspace_id, region='us-east-1', state='AVAILABLE', mode='AUTO_STOP', tags=None, directory_id='d-1111111111', **extra):
    """A description as workspaces_info returns it (running mode in workspace_properties and copied to running_mode)."""
    entry = {'workspace_id': workspace_id, 'region': region, 'state': state, 'directory_id': directory_id, 'user_name': 'alice',
             'bundle_id': 'wsb-b0s22j3d7', 'workspace_properties': {'running_mode': mode, 'root_volume_size_gib': 80},
             'running_mode': mode, 'tags': {} if tags is None else tags}
    entry.update(extra)
    return entry


def host(workspace_id, region='us-east-1', state='AVAILABLE', mode='AUTO_STOP', tags=None, directory_id='d-1111111111'):
    """The hostvars the fleetops.workspaces.workspaces inventory plugin sets."""
    return {'workspace_id': workspace_id, 'region': region, 'state': state, 'running_mode': mode, 'directory_id': directory_id,
            'user_name': 'alice', 'workspace_tags': {} if tags is None else tags, 'ansible_host': '10.0.0.1'}


FLEET = [
    described('ws-blue00001', tags={'Team': 'blue'}),
    described('ws-blue00002', tags={'Team': 'blue', 'Env': 'prod'}),
    described('ws-keep00001', tags={'Team': 'blue', KEEP: ''}),
    described('ws-stopd0001', state='STOPPED', tags={'Team': 'blue'}),
    described('ws-red000001', directory_id='d-2222222222', tags={'Team': 'red'}),
    described('ws-blue00003', region='eu-west-1', tags={'Team': 'blue'}),
    described('ws-keep00002', region='eu-west-1', tags={KEEP: 'until-friday'}),
]


def test_filter_is_registered():
    assert FilterModule().filters() == {'stop_plan': stop_plan}


# -- selectors mode (descriptions) -------------------------------------------------------------------------------------
def test_descriptions_are_grouped_by_region_and_reduced_to_what_the_module_plans_from():
    plan = stop_plan(FLEET, exclude_tags={KEEP: None})
    assert plan['mode'] == 'selectors'
    assert plan['selected'] == 7
    assert list(plan['regions']) == ['eu-west-1', 'us-east-1'] and plan['stop_regions'] == ['eu-west-1', 'us-east-1']
    us_east = plan['regions']['us-east-1']
    assert us_east['requested'] == ['ws-blue00001', 'ws-blue00002', 'ws-red000001', 'ws-stopd0001']
    assert us_east['workspaces'] == [
        {'workspace_id': 'ws-blue00001', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'},
        {'workspace_id': 'ws-blue00002', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'},
        {'workspace_id': 'ws-red000001', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'},
        {'workspace_id': 'ws-stopd0001', 'state': 'STOPPED', 'running_mode': 'AUTO_STOP'},
    ]
    assert 'workspace_ids' not in us_east and us_east['skipped_workspaces'] == []
    # STOPPED desktops are handed to the module (it reports them as already stopped, with no call) but not counted.
    assert plan['candidates'] == 4 and plan['max_count'] == 500 and plan['max_count_exceeded'] is False
    assert plan['not_found'] == [] and plan['errors'] == []
    json.dumps(plan)  # plain data only


def test_running_mode_is_read_from_workspace_properties_when_not_copied():
    entry = described('ws-abcdefgh1')
    del entry['running_mode']
    plan = stop_plan([entry])
    assert plan['regions']['us-east-1']['workspaces'] == [{'workspace_id': 'ws-abcdefgh1', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'}]


def test_one_list_of_descriptions_per_region_is_accepted():
    per_region = [[d for d in FLEET if d['region'] == 'us-east-1'], [d for d in FLEET if d['region'] == 'eu-west-1'], []]
    assert stop_plan(per_region, exclude_tags={KEEP: None}) == stop_plan(FLEET, exclude_tags={KEEP: None})
    assert stop_plan(iter(per_region)) == stop_plan(FLEET)  # Jinja's map() hands the filter a generator


def test_exclusion_wins_and_names_the_tags_it_matched_in_order():
    plan = stop_plan(FLEET, workspace_ids=['ws-keep00001', 'ws-keep00002', 'ws-blue00002'], exclude_tags={'Env': 'prod', KEEP: None})
    assert plan['selected'] == 3
    assert plan['excluded'] == [
        {'workspace_id': 'ws-keep00002', 'region': 'eu-west-1', 'excluded_by': [KEEP]},
        {'workspace_id': 'ws-blue00002', 'region': 'us-east-1', 'excluded_by': ['Env']},
        {'workspace_id': 'ws-keep00001', 'region': 'us-east-1', 'excluded_by': [KEEP]},
    ]
    assert plan['regions'] == {} and plan['stop_regions'] == [] and plan['candidates'] == 0
    both = stop_plan([described('ws-abcdefgh1', tags={KEEP: 'x', 'Env': 'prod'})], exclude_tags={KEEP: None, 'Env': None})
    assert both['excluded'][0]['excluded_by'] == [KEEP, 'Env']


@pytest.mark.parametrize('exclude, tags, excluded', [
    ({KEEP: None}, {KEEP: ''}, True),            # null matches any value, the empty one too
    ({KEEP: None}, {KEEP: 'yes'}, True),
    ({KEEP: 'yes'}, {KEEP: 'no'}, False),        # a value matches that value only
    ({KEEP: 'yes'}, {KEEP: 'yes'}, True),
    ({KEEP: None}, {'Other': 'x'}, False),
    ({}, {KEEP: ''}, False),                     # {} excludes nothing
])
def test_exclude_tag_values(exclude, tags, excluded):
    plan = stop_plan([described('ws-abcdefgh1', tags=tags)], exclude_tags=exclude)
    assert bool(plan['excluded']) is excluded
    assert plan['stop_regions'] == ([] if excluded else ['us-east-1'])


def test_selectors_narrow_the_desktops():
    assert stop_plan(FLEET, regions=['eu-west-1'])['selected'] == 2
    assert stop_plan(FLEET, directory_ids=['d-2222222222'])['regions']['us-east-1']['requested'] == ['ws-red000001']
    assert stop_plan(FLEET, tags={'Team': 'blue', 'Env': None})['selected'] == 1
    assert stop_plan(FLEET, tags={'Team': 'red'}, regions=['eu-west-1'])['selected'] == 0


def test_requested_ids_found_nowhere_are_not_found_in_selectors_mode():
    plan = stop_plan(FLEET, workspace_ids=['ws-red000001', 'ws-nothere01', 'ws-keep00002'], exclude_tags={KEEP: None})
    assert plan['not_found'] == ['ws-nothere01']  # an excluded desktop was found
    assert plan['regions']['us-east-1']['requested'] == ['ws-red000001']


@pytest.mark.parametrize('state, counted', [
    ('AVAILABLE', True), ('ERROR', True), ('STARTING', True), ('SUSPENDED', True), (None, True),
    ('STOPPED', False), ('STOPPING', False), ('TERMINATING', False), ('TERMINATED', False),
])
def test_max_count_counts_the_desktops_not_already_stopped(state, counted):
    plan = stop_plan([described('ws-abcdefgh1', state=state), described('ws-abcdefgh2')], max_count=1)
    assert plan['candidates'] == (2 if counted else 1)
    assert plan['max_count_exceeded'] is counted


def test_max_count_is_a_limit_not_a_ceiling_minus_one():
    desktops = [described('ws-abcdefg%02d' % i) for i in range(3)]
    assert stop_plan(desktops, max_count=3)['max_count_exceeded'] is False
    assert stop_plan(desktops, max_count='2')['max_count_exceeded'] is True  # text, as an AWX survey may send it
    assert stop_plan(desktops, max_count=0)['max_count_exceeded'] is True


def test_max_count_counts_every_region_and_never_excluded_desktops():
    plan = stop_plan(FLEET, exclude_tags={KEEP: None}, max_count=3)
    assert plan['candidates'] == 4 and plan['max_count_exceeded'] is True
    assert stop_plan(FLEET, exclude_tags={KEEP: None}, max_count=4)['max_count_exceeded'] is False


def test_descriptions_without_tags_are_an_error_when_tags_are_checked():
    untagged = described('ws-abcdefgh1')
    del untagged['tags']
    assert stop_plan([untagged, described('ws-abcdefgh2')], exclude_tags={KEEP: None})['errors'] == [
        '1 desktops have no tags in their description, so exclude_tags / tags cannot be checked for them: ws-abcdefgh1. Describe them '
        'with fleetops.workspaces.workspaces_info and include_tags=true.']
    assert stop_plan([untagged], tags={'Team': None})['errors']
    assert stop_plan([untagged])['errors'] == []


def test_duplicate_descriptions_count_once():
    plan = stop_plan([FLEET[0], FLEET[0], [FLEET[0]]])
    assert plan['selected'] == 1 and plan['regions']['us-east-1']['requested'] == ['ws-blue00001']


# -- inventory mode (host names and hostvars) ------------------------------------------------------------------------
class CountingHostvars(dict):
    """A dict of host -> hostvars that records which hostvars were read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = set()

    def __getitem__(self, name):
        return ReadRecorder(super().__getitem__(name), self.read)


class ReadRecorder(dict):
    def __init__(self, data, read):
        super().__init__(data)
        self._read = read

    def __getitem__(self, key):
        self._read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._read.add(key)
        return super().get(key, default)


INVENTORY = {
    'localhost': {'ansible_connection': 'local'},
    'alice': host('ws-blue00001', tags={'Team': 'blue'}),
    'bob': host('ws-keep00001', tags={'Team': 'blue', KEEP: ''}),
    'carol': host('ws-stopd0001', state='STOPPED', tags={'Team': 'blue'}),
    'dave': host('ws-gone00001', state='TERMINATED', tags={'Team': 'blue'}),
    'erin': host('ws-blue00003', region='eu-west-1', tags={'Team': 'blue'}),
    'frank': host('ws-gone00002', region='ap-southeast-2', state='TERMINATED'),
    'grace': host('ws-alwayson1', mode='ALWAYS_ON', tags={'Team': 'red'}),
}


def test_inventory_hosts_are_read_from_their_hostvars():
    hostvars = CountingHostvars(INVENTORY)
    plan = stop_plan(list(INVENTORY), hostvars=hostvars, exclude_tags={KEEP: None})
    assert plan['mode'] == 'inventory'
    assert plan['selected'] == 7 and [e['workspace_id'] for e in plan['excluded']] == ['ws-keep00001']
    # Only the needed hostvars are read, never user_name, ansible_host or the rest.
    assert hostvars.read == {'workspace_id', 'region', 'directory_id', 'state', 'running_mode', 'workspace_tags', 'workspace_described_at'}
    us_east = plan['regions']['us-east-1']
    # Every host is handed to the module, whatever state the inventory saw (it reads them again), except TERMINATED ones.
    assert us_east['requested'] == ['ws-alwayson1', 'ws-blue00001', 'ws-gone00001', 'ws-stopd0001']
    assert us_east['workspace_ids'] == ['ws-alwayson1', 'ws-blue00001', 'ws-stopd0001']
    assert 'workspaces' not in us_east
    # No workspace_described_at hostvar: the age of the inventory is unknown, so the module reads the desktops again.
    assert us_east['read_again'] is True and us_east['inventory_age'] is None
    assert us_east['skipped_workspaces'] == [{'workspace_id': 'ws-gone00001', 'state': 'TERMINATED', 'running_mode': 'AUTO_STOP',
                                              'reason': 'state TERMINATED cannot be stopped (as the inventory saw it; not read again)'}]
    # A region whose hosts are all TERMINATED is in the plan (for the report) but gets no module call.
    assert plan['regions']['ap-southeast-2']['workspace_ids'] == [] and plan['regions']['ap-southeast-2']['requested'] == ['ws-gone00002']
    assert plan['stop_regions'] == ['eu-west-1', 'us-east-1']
    assert plan['candidates'] == 3  # alice, erin, grace (ALWAYS_ON desktops count: their running mode may have changed)
    assert plan['not_found'] == [] and plan['errors'] == []


def test_inventory_mode_narrowed_by_selectors_and_ids_never_not_found():
    plan = stop_plan(list(INVENTORY), hostvars=INVENTORY, workspace_ids=['ws-blue00001', 'ws-blue00003', 'ws-nothere01'], regions=['eu-west-1'])
    assert plan['selected'] == 1 and plan['regions']['eu-west-1']['workspace_ids'] == ['ws-blue00003']
    assert plan['not_found'] == []
    assert stop_plan(list(INVENTORY), hostvars=INVENTORY, tags={'Team': 'red'})['regions']['us-east-1']['requested'] == ['ws-alwayson1']


def test_hosts_without_workspace_id_mean_selectors_mode_and_an_empty_plan():
    plan = stop_plan(['localhost'], hostvars=INVENTORY, workspace_ids=['ws-blue00001'])
    assert plan['mode'] == 'selectors' and plan['selected'] == 0 and plan['regions'] == {} and plan['stop_regions'] == []
    assert stop_plan(['unknown-host'], hostvars=INVENTORY)['mode'] == 'selectors'


def test_inventory_hosts_without_region_or_tags_are_errors():
    hostvars = {'h%d' % i: host('ws-abcdefg%02d' % i) for i in range(12)}
    for i in range(11):
        del hostvars['h%d' % i]['region']
    del hostvars['h11']['workspace_tags']
    errors = stop_plan(list(hostvars), hostvars=hostvars, exclude_tags={KEEP: None})['errors']
    assert errors[0].startswith('11 hosts have a workspace_id but no region hostvar: h0, h1, h2, h3, h4, h5, h6, h7, h8, h9. ')
    assert errors[1].startswith('1 hosts have no workspace_tags hostvar, so workspaces_stop_exclude_tags / workspaces_stop_tags cannot be checked')
    assert 'h11' in errors[1] and len(errors) == 2
    # Without tag filters the missing tags do not matter.
    assert len(stop_plan(list(hostvars), hostvars=hostvars, exclude_tags={})['errors']) == 1
    assert len(stop_plan(list(hostvars), hostvars=hostvars, tags={'Team': None})['errors']) == 2


def test_real_hostvars_of_an_inventory(tmp_path):
    """The HostVars object of ansible-core (lazy, templating on access), as the role passes it."""
    inventory_file = tmp_path / 'hosts.yml'
    inventory_file.write_text(json.dumps({'all': {'hosts': {name: dict(v) for name, v in INVENTORY.items()}}}))
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    hostvars = HostVars(inventory=inventory, variable_manager=variable_manager, loader=loader)
    expected = stop_plan(list(INVENTORY), hostvars=INVENTORY, exclude_tags={KEEP: None})
    assert stop_plan(list(INVENTORY), hostvars=hostvars, exclude_tags={KEEP: None}) == expected


# -- inventory mode: planning from a recent inventory (max_age) ---------------------------------------------------------
def ago(seconds):
    """workspace_described_at of a read ``seconds`` ago (negative: in the future), as the inventory plugin writes it."""
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return when.replace(microsecond=0).isoformat()


def read_at(ages):
    """INVENTORY with workspace_described_at set per host (``ages``: host -> seconds ago; others 10 s ago)."""
    hostvars = {}
    for name, variables in INVENTORY.items():
        variables = dict(variables)
        if 'workspace_id' in variables:
            variables['workspace_described_at'] = ago(ages.get(name, 10))
        hostvars[name] = variables
    return hostvars


def test_recent_inventory_is_planned_from_without_reading_again():
    plan = stop_plan(list(INVENTORY), hostvars=read_at({}), exclude_tags={KEEP: None}, max_age=120)
    us_east = plan['regions']['us-east-1']
    assert us_east['read_again'] is False and 9 <= us_east['inventory_age'] <= 12
    assert 'workspace_ids' not in us_east
    # The descriptions the module plans from: what the inventory saw, TERMINATED hosts still reported as skipped here.
    assert us_east['workspaces'] == [
        {'workspace_id': 'ws-alwayson1', 'state': 'AVAILABLE', 'running_mode': 'ALWAYS_ON'},
        {'workspace_id': 'ws-blue00001', 'state': 'AVAILABLE', 'running_mode': 'AUTO_STOP'},
        {'workspace_id': 'ws-stopd0001', 'state': 'STOPPED', 'running_mode': 'AUTO_STOP'}]
    assert [s['workspace_id'] for s in us_east['skipped_workspaces']] == ['ws-gone00001']
    assert plan['regions']['ap-southeast-2']['workspaces'] == [] and plan['stop_regions'] == ['eu-west-1', 'us-east-1']
    # Everything else is the plan made from IDs.
    by_ids = stop_plan(list(INVENTORY), hostvars=read_at({}), exclude_tags={KEEP: None}, max_age=0)
    assert by_ids['regions']['us-east-1']['workspace_ids'] == [d['workspace_id'] for d in us_east['workspaces']]
    for key in ('selected', 'excluded', 'candidates', 'stop_regions', 'errors'):
        assert plan[key] == by_ids[key], key


@pytest.mark.parametrize('ages, max_age, read_again', [
    ({}, 0, True),                              # 0: always read again
    ({'alice': 121}, 120, True),                # one host of the region older than max_age: the whole region is read again
    ({'alice': 119}, 120, False),
    ({'alice': -30}, 120, False),               # a little in the future (clock skew between execution nodes)
    ({'alice': -3600}, 120, True),              # far in the future: a clock is wrong, do not trust it
    ({'erin': 5000}, 120, False),               # another region's age does not matter
])
def test_each_region_is_read_again_unless_all_its_hosts_are_recent_enough(ages, max_age, read_again):
    plan = stop_plan(list(INVENTORY), hostvars=read_at(ages), max_age=max_age)
    us_east = plan['regions']['us-east-1']
    assert us_east['read_again'] is read_again
    assert ('workspace_ids' in us_east) is read_again and ('workspaces' in us_east) is not read_again


def test_a_read_a_little_in_the_future_is_recent_and_zero_seconds_old():
    hostvars = read_at({name: -30 for name in INVENTORY})
    us_east = stop_plan(list(INVENTORY), hostvars=hostvars, max_age=120)['regions']['us-east-1']
    assert us_east['read_again'] is False and us_east['inventory_age'] == 0


@pytest.mark.parametrize('described_at', [None, 'yesterday', 42, '2026-13-45T00:00:00+00:00'])
def test_a_missing_or_unreadable_read_time_means_read_again(described_at):
    hostvars = read_at({})
    hostvars['alice']['workspace_described_at'] = described_at
    us_east = stop_plan(list(INVENTORY), hostvars=hostvars, max_age=3600)['regions']['us-east-1']
    assert us_east['read_again'] is True and us_east['inventory_age'] is None and 'ws-blue00001' in us_east['workspace_ids']


def test_a_read_time_without_zone_is_utc():
    hostvars = read_at({})
    naive = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0) - datetime.timedelta(seconds=30)
    hostvars['alice']['workspace_described_at'] = naive.isoformat()
    us_east = stop_plan(list(INVENTORY), hostvars=hostvars, max_age=60)['regions']['us-east-1']
    assert us_east['read_again'] is False and 29 <= us_east['inventory_age'] <= 32


# -- bad input ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('items, kwargs, message', [
    (['alice'], {}, 'no hostvars was given'),
    ([{'state': 'AVAILABLE'}], {}, 'is not a WorkSpaces description'),
    ([42], {}, 'neither a host name nor a WorkSpaces description'),
    ('ws-abcdefgh1', {}, 'the input must be a list'),
    ([], {'tags': 'Team=blue'}, 'tags must be a dictionary'),
    ([], {'exclude_tags': ['x']}, 'exclude_tags must be a dictionary'),
    ([], {'regions': 'us-east-1'}, 'regions must be a list'),
    ([], {'max_count': 'many'}, 'max_count must be an integer'),
    ([], {'max_age': 'soon'}, r"max_age must be a whole number of seconds \(0: always read again\), got 'soon'"),
    ([], {'max_age': -1}, r'max_age must be 0 \(always read again\) or more seconds, got -1'),
])
def test_bad_input_is_a_clear_error(items, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        stop_plan(items, **kwargs)


def test_empty_and_null_options_are_unset():
    assert stop_plan(None, regions=None, workspace_ids=None, directory_ids=None, tags=None, exclude_tags=None)['selected'] == 0
    assert stop_plan(FLEET, regions=[], tags={}, exclude_tags={})['selected'] == 7
