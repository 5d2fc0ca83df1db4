# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
name: stop_summary
short_description: The readable summary of a stop run of the fleetops.workspaces.stop role
version_added: 0.1.0
author:
  - fleetops.workspaces contributors (@fleetops)
description:
  - Turns the result of a stop run (the fact C(workspaces_stop_result) of the role C(fleetops.workspaces.stop), as built by
    P(fleetops.workspaces.stop_result#filter)) into the lines the role prints and publishes for AWX.
  - "One header line (mode, how many desktops were selected, excluded by tag and not found), the first excluded IDs, one
    line per region (stopped, already stopped, skipped with the count per reason, missing, failed with the first IDs, the
    error of a failed region), in check mode the IDs each region would stop, and a total line."
options:
  _input:
    description: The result, as returned by P(fleetops.workspaces.stop_result#filter).
    type: dict
    required: true
seealso:
  - plugin: fleetops.workspaces.stop_result
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Show what the run did
  ansible.builtin.debug:
    msg: "{{ workspaces_stop_result | fleetops.workspaces.stop_summary }}"
"""

RETURN = r"""
_value:
  description: The summary, one line per list element.
  type: list
  elements: str
  sample:
    - "WorkSpaces stop - selectors mode: 6 selected, 1 excluded by tag"
    - "excluded by tag: ws-keep00001"
    - "us-east-1: stopped 2, already stopped 1, skipped 1 (a user is connected (ConnectionState CONNECTED): 1), missing 0, failed 0"
    - "total: stopped 2, already stopped 1, skipped 1, missing 0, failed 0, regions 1 (0 failed)"
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

FIRST = 10  # IDs shown in a line before "and N more"


def _first(ids):
    return ', '.join(str(i) for i in ids[:FIRST])


def _source(outcome):
    """Inventory mode: where the states the region was planned from come from."""
    if 'read_again' not in outcome:
        return ''
    age = outcome.get('inventory_age')
    if not outcome['read_again']:
        return ' (planned from the inventory, read %s s before)' % age
    return ' (read again: the inventory is %s)' % ('%s s old' % age if age is not None else 'of unknown age')


def _region_line(region, outcome, verb):
    summary = outcome['summary']
    line = '%s%s: %s %s, already stopped %s, skipped %s' % (
        region, _source(outcome), verb, summary['stopped'], summary['already_stopped'], summary['skipped'])
    skipped = outcome.get('skipped_workspaces') or []
    if skipped:
        reasons = {}
        for entry in skipped:
            reason = entry.get('reason')
            reasons[reason] = reasons.get(reason, 0) + 1
        line += ' (%s)' % '; '.join('%s: %d' % (reason, reasons[reason]) for reason in sorted(reasons, key=str))
    line += ', missing %s, failed %s' % (summary['missing'], summary['failed'])
    failed = outcome.get('failed_workspaces') or []
    if failed:
        line += ' (%s)' % _first([f['workspace_id'] for f in failed])
    if outcome.get('error') is not None:
        line += ', REGION FAILED: %s (%s desktops not attempted)' % (outcome['error'], summary['not_attempted'])
    return line


def stop_summary(result):
    """See DOCUMENTATION."""
    if not isinstance(result, Mapping) or not isinstance(result.get('totals'), Mapping) or not isinstance(result.get('regions'), Mapping):
        raise AnsibleFilterError('stop_summary: the input must be the result of the fleetops.workspaces.stop_result filter, got %r' % (result,))
    check_mode = bool(result.get('check_mode'))
    totals = result['totals']
    verb = 'would stop' if check_mode else 'stopped'
    header = '%s - %s mode: %s selected, %s excluded by tag' % (
        'PREVIEW (check mode), nothing was stopped' if check_mode else 'WorkSpaces stop', result.get('mode'), totals['selected'], totals['excluded'])
    not_found = result.get('not_found') or []
    if not_found:
        header += ', %d not found: %s' % (len(not_found), _first(not_found))
    lines = [header]
    excluded = result.get('excluded') or []
    if excluded:
        more = ' and %d more' % (len(excluded) - FIRST) if len(excluded) > FIRST else ''
        lines.append('excluded by tag: %s%s' % (_first([e['workspace_id'] for e in excluded]), more))
    regions = result['regions']
    for region in sorted(regions, key=str):
        lines.append(_region_line(region, regions[region], verb))
        if check_mode and regions[region].get('stopped'):
            lines.append('  %s would stop: %s' % (region, ', '.join(regions[region]['stopped'])))
    if not regions:
        lines.append('nothing to stop')
    lines.append('total: %s %s, already stopped %s, skipped %s, missing %s, failed %s, regions %s (%s failed)' % (
        verb, totals['stopped'], totals['already_stopped'], totals['skipped'], totals['missing'], totals['failed'], totals['regions'],
        totals['failed_regions']))
    return lines


class FilterModule:
    """fleetops.workspaces.stop_summary"""

    def filters(self):
        return {'stop_summary': stop_summary}
