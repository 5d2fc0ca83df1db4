# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory under faults: with 30% throttling and 5% server errors on every call, ``ansible-inventory --list`` over
two regions lists every desktop exactly once, in its region's group, or fails with a message naming the region. It is
never silently partial."""
from __future__ import annotations

import json

from tests.reliability.conftest import errors_in
from tests.reliability.conftest import fault_summary
from tests.reliability.conftest import sized

DESKTOPS = sized(600, 2000)  # over both regions
REGIONS = {'us-east-1': ('use', 'd-1000000001'), 'eu-west-1': ('euw', 'd-2000000002')}  # user prefix, directory
THROTTLE_RATE = 0.3
ERROR_RATE = 0.05


def _plain(value):
    return value['__ansible_unsafe'] if set(value) == {'__ansible_unsafe'} else value


def hosts_of(listing, group):
    """Every host of a group through its child groups, as a list (so that a host listed twice shows)."""
    found = list(listing.get(group, {}).get('hosts', []))
    for child in listing.get(group, {}).get('children', []):
        found += hosts_of(listing, child)
    return found


def test_inventory_under_throttling_and_server_errors_lists_every_desktop_once_or_names_the_region(emulator, run_cli, tmp_path,
                                                                                                   report_metrics):
    per_region = DESKTOPS // len(REGIONS)
    emulator.seed({'seed': 5, 'regions': {
        region: {'directories': [{'directory_id': directory, 'count': per_region, 'user_prefix': prefix, 'tags': {'Team': prefix}}]}
        for region, (prefix, directory) in REGIONS.items()}})
    truth = {w['workspace_id']: w['region'] for w in emulator.workspaces()}
    assert len(truth) == DESKTOPS
    emulator.reset_calls()
    emulator.set_faults(throttle_rate=THROTTLE_RATE, error_rate=ERROR_RATE, fault_seed=20251202)

    config = tmp_path / 'faults.workspaces.yml'
    config.write_text('plugin: fleetops.workspaces.workspaces\nregions: [%s]\ninclude_connection_status: true\n' % ', '.join(REGIONS))
    # As in an AWX inventory update: a source that fails to parse fails the update.
    proc, seconds = run_cli(['ansible-inventory', '-i', str(config), '--list'], env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'}, timeout=1800)
    calls = emulator.calls()
    faults = fault_summary(calls)
    report_metrics(desktops=DESKTOPS, rc=proc.returncode, seconds=round(seconds, 1), calls=len(calls),
                   faults_injected=sum(1 for c in calls if c['injected']), per_operation=faults)
    assert sum(f['throttled'] for f in faults.values()) > 0 and sum(f['server_errors'] for f in faults.values()) > 0, faults

    if proc.returncode != 0:
        # Failing is allowed, but only saying which region could not be read.
        output = proc.stdout + proc.stderr
        assert any(region in output for region in REGIONS), 'the inventory failed without naming the region: %s' % errors_in(output)
        return
    listing = json.loads(proc.stdout, object_hook=_plain)
    hostvars = listing['_meta']['hostvars']
    assert set(hostvars) == set(truth), 'missing: %s; unexpected: %s' % (sorted(set(truth) - set(hostvars))[:10], sorted(set(hostvars) - set(truth))[:10])
    every = hosts_of(listing, 'aws_workspaces')
    assert len(every) == len(set(every)) == DESKTOPS, 'a desktop is listed more than once'
    for region in REGIONS:
        group = hosts_of(listing, 'aws_workspaces_' + region.replace('-', '_'))
        assert sorted(group) == sorted(w for w, r in truth.items() if r == region)
    assert all(hostvars[w]['region'] == r and hostvars[w]['workspace_id'] == w for w, r in truth.items())
