# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
name: stop_result
short_description: Combine the per-region results of a stop run of the fleetops.workspaces.stop role into one result
version_added: 0.1.0
author:
  - fleetops.workspaces contributors (@fleetops)
description:
  - Builds the fact C(workspaces_stop_result) of the role C(fleetops.workspaces.stop), in one Python pass, from the plan
    (P(fleetops.workspaces.stop_plan#filter)) and the result of M(fleetops.workspaces.workspaces_stop) in each region.
  - "Every desktop of the plan ends in one outcome of its region: stopped, already stopped, skipped (with the reason),
    missing, failed, or not attempted when the region's call failed as a whole (an API error, invalid parameters, a timeout
    of the background job)."
positional: plan, check_mode
options:
  _input:
    description:
      - The result of M(fleetops.workspaces.workspaces_stop) for each region of the plan, by region name. A result may also be
        that of M(ansible.builtin.async_status) for the module run in the background, or of a task that failed to start it.
      - A region of RV(fleetops.workspaces.stop_plan#filter:_value.regions) without a result counts as not run (nothing was
        handed to the module there).
    type: dict
    required: true
  plan:
    description: The plan, as returned by P(fleetops.workspaces.stop_plan#filter).
    type: dict
    required: true
  check_mode:
    description: Whether the run was a preview (check mode).
    type: bool
    default: false
seealso:
  - plugin: fleetops.workspaces.stop_plan
    plugin_type: filter
  - plugin: fleetops.workspaces.stop_summary
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Stop the planned desktops of each region
  fleetops.workspaces.workspaces_stop:
    region: "{{ item }}"
    workspaces: "{{ plan.regions[item].workspaces }}"
    return_workspaces: false
  loop: "{{ plan.stop_regions }}"
  register: runs
  ignore_errors: true

- name: Combine the outcomes
  ansible.builtin.set_fact:
    stop_result: >-
      {{ dict(runs.results | map(attribute='item') | zip(runs.results))
         | fleetops.workspaces.stop_result(plan, check_mode=ansible_check_mode) }}
"""

RETURN = r"""
_value:
  description: The result of the run, as documented for the fact C(workspaces_stop_result) of the role C(fleetops.workspaces.stop).
  type: dict
  contains:
    check_mode:
      description: O(check_mode).
      type: bool
    mode:
      description: The plan's RV(fleetops.workspaces.stop_plan#filter:_value.mode).
      type: str
    excluded:
      description: The plan's RV(fleetops.workspaces.stop_plan#filter:_value.excluded).
      type: list
      elements: dict
    not_found:
      description: The plan's RV(fleetops.workspaces.stop_plan#filter:_value.not_found).
      type: list
      elements: str
    regions:
      description:
        - Per region, the outcome lists C(requested), C(stopped), C(already_stopped), C(skipped_workspaces), C(missing),
          C(failed_workspaces), C(not_attempted), C(changed), C(error) (the message of a region that failed as a whole, else
          V(null)) and C(summary) (the length of each list).
        - In inventory mode also the plan's C(read_again) and C(inventory_age) (see
          RV(fleetops.workspaces.stop_plan#filter:_value.regions)), whether the desktops were read again before the stop.
      type: dict
    failed_workspaces:
      description: Every failed desktop (C(workspace_id), C(error_code), C(error_message), C(state)) with its C(region), by region.
      type: list
      elements: dict
    failed_regions:
      description: The regions that failed as a whole, with C(region), C(error) and C(not_attempted).
      type: list
      elements: dict
    max_count_exceeded:
      description: The plan's RV(fleetops.workspaces.stop_plan#filter:_value.max_count_exceeded).
      type: bool
    totals:
      description:
        - Counts over all regions, C(selected), C(excluded), C(not_found), C(requested), C(stopped), C(already_stopped),
          C(skipped), C(missing), C(failed), C(not_attempted), C(regions) and C(failed_regions).
      type: dict
  sample:
    check_mode: false
    mode: selectors
    excluded: []
    not_found: []
    regions:
      eu-west-1:
        requested: [ws-1ab2cd3ef]
        stopped: [ws-1ab2cd3ef]
        already_stopped: []
        skipped_workspaces: []
        missing: []
        failed_workspaces: []
        not_attempted: []
        changed: true
        error:
        summary: {requested: 1, stopped: 1, already_stopped: 0, skipped: 0, missing: 0, failed: 0, not_attempted: 0}
    failed_workspaces: []
    failed_regions: []
    max_count_exceeded: false
    totals: {selected: 1, excluded: 0, not_found: 0, requested: 1, stopped: 1, already_stopped: 0, skipped: 0, missing: 0,
             failed: 0, not_attempted: 0, regions: 1, failed_regions: 0}
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

OUTCOMES = ('stopped', 'already_stopped', 'skipped_workspaces', 'missing', 'failed_workspaces')
SUMMARY_KEYS = (('stopped', 'stopped'), ('already_stopped', 'already_stopped'), ('skipped', 'skipped_workspaces'),
                ('missing', 'missing'), ('failed', 'failed_workspaces'), ('not_attempted', 'not_attempted'))


def _ids(entries):
    return [e['workspace_id'] if isinstance(e, Mapping) else e for e in entries]


def region_result(requested, run, pre_skipped=()):
    """One region's outcome: the module's lists, the plan's pre-skipped desktops first, and what a failed call did not attempt."""
    run = run if isinstance(run, Mapping) else {}
    lists = {key: list(run.get(key) or []) for key in OUTCOMES}
    lists['skipped_workspaces'] = list(pre_skipped) + lists['skipped_workspaces']
    failed_call = bool(run.get('failed'))
    not_attempted = []
    if failed_call:
        accounted = set()
        for key in OUTCOMES:
            accounted.update(_ids(lists[key]))
        seen = set()
        for workspace_id in requested:
            if workspace_id not in accounted and workspace_id not in seen:
                seen.add(workspace_id)
                not_attempted.append(workspace_id)
    result = {'requested': list(requested)}
    result.update(lists)
    result['not_attempted'] = not_attempted
    result['changed'] = bool(run.get('changed', False))
    result['error'] = (run.get('msg') or 'failed without a message') if failed_call and not lists['failed_workspaces'] else None
    summary = {'requested': len(requested)}
    for name, key in SUMMARY_KEYS:
        summary[name] = len(result[key])
    result['summary'] = summary
    return result


def stop_result(outcomes, plan, check_mode=False):
    """See DOCUMENTATION."""
    if outcomes is None:
        outcomes = {}
    if not isinstance(outcomes, Mapping):
        raise AnsibleFilterError('stop_result: the input must be a dictionary of region name to the workspaces_stop result, got %r' % (outcomes,))
    if not isinstance(plan, Mapping) or not isinstance(plan.get('regions'), Mapping):
        raise AnsibleFilterError('stop_result: plan must be the result of the fleetops.workspaces.stop_plan filter, got %r' % (plan,))

    plan_regions = plan['regions']
    regions = {}
    for region in sorted(set(plan_regions) | set(outcomes), key=str):
        entry = plan_regions.get(region) or {}
        if region not in outcomes and not entry.get('skipped_workspaces'):
            continue  # nothing was handed to the module there and nothing was skipped: not a region of the run
        regions[region] = region_result(entry.get('requested') or [], outcomes.get(region), entry.get('skipped_workspaces') or [])
        for key in ('read_again', 'inventory_age'):
            if key in entry:
                regions[region][key] = entry[key]

    failed, failed_regions = [], []
    for region, outcome in regions.items():
        for failure in outcome['failed_workspaces']:
            failed.append(dict(failure, region=region))
        if outcome['error'] is not None:
            failed_regions.append({'region': region, 'error': outcome['error'], 'not_attempted': outcome['not_attempted']})

    excluded = list(plan.get('excluded') or [])
    not_found = list(plan.get('not_found') or [])
    totals = {
        'selected': int(plan.get('selected') or 0),
        'excluded': len(excluded),
        'not_found': len(not_found),
    }
    for name in ('requested', 'stopped', 'already_stopped', 'skipped', 'missing', 'failed', 'not_attempted'):
        totals[name] = sum(r['summary'][name] for r in regions.values())
    totals['regions'] = len(regions)
    totals['failed_regions'] = len(failed_regions)
    return {
        'check_mode': bool(check_mode),
        'mode': plan.get('mode'),
        'excluded': excluded,
        'not_found': not_found,
        'regions': regions,
        'failed_workspaces': failed,
        'failed_regions': failed_regions,
        'max_count_exceeded': bool(plan.get('max_count_exceeded')),
        'totals': totals,
    }


class FilterModule:
    """fleetops.workspaces.stop_result"""

    def filters(self):
        return {'stop_result': stop_result}
