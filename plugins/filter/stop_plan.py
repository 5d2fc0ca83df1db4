# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
name: stop_plan
short_description: Plan a stop run of the fleetops.workspaces.stop role, in one pass over the desktops
version_added: 0.1.0
author:
  - fleetops.workspaces contributors (@fleetops)
description:
  - "Computes, in one Python pass, what the role C(fleetops.workspaces.stop) does between selecting desktops and stopping them:
    the selected desktops, those excluded by tag, the desktops to hand to M(fleetops.workspaces.workspaces_stop) in each region,
    the requested IDs found nowhere, and the count checked against O(max_count)."
  - "Two kinds of input. Inventory hosts: host names (for example C(ansible_play_batch)) with O(hostvars); only the hosts
    with a C(workspace_id) hostvar (the hosts of the P(fleetops.workspaces.workspaces#inventory) inventory plugin) count, and
    only their C(workspace_id), C(region), C(directory_id), C(state), C(running_mode), C(workspace_tags) and
    C(workspace_described_at) hostvars are read.
    Descriptions: the RV(fleetops.workspaces.workspaces_info#module:workspaces) lists of
    M(fleetops.workspaces.workspaces_info), one list or a list of such lists (one per region)."
  - "A desktop is selected when it matches every selector that is set (O(regions), O(workspace_ids), O(directory_ids),
    O(tags)); it is excluded when it carries any tag of O(exclude_tags); the exclusion always wins."
  - The filter makes no AWS call and changes nothing.
options:
  _input:
    description:
      - Inventory host names (strings), with O(hostvars); or desktop descriptions as returned by
        M(fleetops.workspaces.workspaces_info) (dictionaries), or lists of them.
    type: list
    elements: raw
    required: true
  hostvars:
    description:
      - The C(hostvars) magic variable, to read the hostvars of the host names of O(_input).
      - Required when O(_input) holds host names.
    type: raw
  regions:
    description: Keep only desktops of these regions. Empty or unset keeps every region.
    type: list
    elements: str
    default: []
  workspace_ids:
    description:
      - Keep only desktops with these IDs. Empty or unset keeps every desktop.
      - With descriptions, the IDs found in none of them are returned in RV(_value.not_found).
    type: list
    elements: str
    default: []
  directory_ids:
    description: Keep only desktops of these directories. Empty or unset keeps every directory.
    type: list
    elements: str
    default: []
  tags:
    description:
      - Keep only desktops carrying all of these tags. A null value matches the key with any value.
    type: dict
    default: {}
  exclude_tags:
    description:
      - Desktops carrying any of these tags are excluded, whatever selected them. A null value matches the key with any value.
    type: dict
    default: {}
  max_count:
    description:
      - The most desktops a run may stop. RV(_value.max_count_exceeded) tells whether more selected, not excluded desktops
        are not already C(STOPPED), C(STOPPING), C(TERMINATING) or C(TERMINATED).
    type: int
    default: 500
  max_age:
    description:
      - Inventory mode, the age in seconds up to which the inventory's description of the desktops is recent enough to plan the
        stop from (RV(_value.regions.workspaces)); older, or without a C(workspace_described_at) hostvar, the plan hands their
        IDs (RV(_value.regions.workspace_ids)) to M(fleetops.workspaces.workspaces_stop), which reads them again first.
      - Decided per region, on the oldest read of its desktops. V(0) always reads again.
      - "What planning from a recent inventory risks: a desktop the inventory saw C(STOPPED) (or C(ALWAYS_ON)) and that was
        started (or switched) since is reported as already stopped (or skipped) and left running. A desktop the inventory
        saw running is still checked when it is stopped: its user's connection right before (with skip_connected), its
        state and running mode by AWS, and every desktop AWS refuses to stop is read again."
    type: int
    default: 0
notes:
  - Host names without a C(workspace_id) hostvar are ignored. When none has one, RV(_value.mode) is C(selectors) and the plan is empty.
  - In inventory mode, hosts the inventory saw as C(TERMINATED) (a state a desktop never leaves) are not handed to
    M(fleetops.workspaces.workspaces_stop); they are returned as skipped in RV(_value.regions.skipped_workspaces).
    Every other host is, whatever state the inventory saw; the module reads it again first unless the inventory is recent
    enough to plan from (O(max_age)).
seealso:
  - module: fleetops.workspaces.workspaces_info
  - module: fleetops.workspaces.workspaces_stop
  - plugin: fleetops.workspaces.stop_result
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Plan the stop of the play's inventory hosts that are tagged Team=blue, except the opted-out ones
  ansible.builtin.set_fact:
    plan: >-
      {{ ansible_play_batch | fleetops.workspaces.stop_plan(hostvars=hostvars, tags={'Team': 'blue'},
                                                           exclude_tags={'fleetops:keep-running': none}, max_count=200) }}
  run_once: true

- name: Find the desktops of a directory
  fleetops.workspaces.workspaces_info:
    region: eu-west-1
    directory_ids: [d-906732325d]
  register: found

- name: Plan from the descriptions
  ansible.builtin.set_fact:
    plan: "{{ found.workspaces | fleetops.workspaces.stop_plan(exclude_tags={'fleetops:keep-running': none}) }}"

- name: Stop them, from the descriptions (no second read)
  fleetops.workspaces.workspaces_stop:
    region: "{{ item }}"
    workspaces: "{{ plan.regions[item].workspaces }}"
    return_workspaces: false
  loop: "{{ plan.stop_regions }}"
  when: not plan.max_count_exceeded
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    mode:
      description: V(inventory) when O(_input) held at least one host with a C(workspace_id) hostvar, else V(selectors).
      type: str
      sample: inventory
    selected:
      description: How many desktops matched the selectors (excluded ones included).
      type: int
      sample: 12
    excluded:
      description: The selected desktops that carry a tag of O(exclude_tags), sorted by region and ID.
      type: list
      elements: dict
      contains:
        workspace_id:
          description: The WorkSpace ID.
          type: str
        region:
          description: Its region.
          type: str
        excluded_by:
          description: The keys of O(exclude_tags) it matched, in the order of O(exclude_tags).
          type: list
          elements: str
      sample: [{"workspace_id": "ws-0fr8qcgzm", "region": "eu-west-1", "excluded_by": ["fleetops:keep-running"]}]
    not_found:
      description: IDs of O(workspace_ids) that none of the descriptions has (always empty in inventory mode).
      type: list
      elements: str
      sample: []
    candidates:
      description: How many selected, not excluded desktops are not already C(STOPPED), C(STOPPING), C(TERMINATING) or C(TERMINATED).
      type: int
      sample: 9
    max_count:
      description: O(max_count).
      type: int
      sample: 500
    max_count_exceeded:
      description: Whether RV(_value.candidates) is above O(max_count).
      type: bool
      sample: false
    regions:
      description: Per region (sorted), the selected, not excluded desktops.
      type: dict
      contains:
        requested:
          description: Their IDs, sorted.
          type: list
          elements: str
        workspace_ids:
          description:
            - Inventory mode, when the inventory is not recent enough to plan from (RV(_value.regions.read_again)), the IDs to
              pass to M(fleetops.workspaces.workspaces_stop) (all but those in RV(_value.regions.skipped_workspaces)).
          type: list
          elements: str
        workspaces:
          description:
            - Selectors mode, and inventory mode when the inventory is recent enough (see O(max_age)), the descriptions to pass
              as O(fleetops.workspaces.workspaces_stop#module:workspaces), reduced to C(workspace_id), C(state) and
              C(running_mode), in the order of RV(_value.regions.requested) (in inventory mode, without those in
              RV(_value.regions.skipped_workspaces)).
          type: list
          elements: dict
        read_again:
          description:
            - Inventory mode, whether M(fleetops.workspaces.workspaces_stop) gets IDs and reads the desktops again, because the
              oldest C(workspace_described_at) of the region is older than O(max_age), in the future by more, or missing.
          type: bool
        inventory_age:
          description:
            - Inventory mode, seconds since the oldest C(workspace_described_at) of the region (V(0) when in the future);
              V(null) when one is missing.
          type: int
        skipped_workspaces:
          description:
            - Desktops not handed to the module, with the reason, shaped as the module's
              RV(fleetops.workspaces.workspaces_stop#module:skipped_workspaces).
          type: list
          elements: dict
      sample:
        eu-west-1:
          requested: [ws-1ab2cd3ef]
          workspace_ids: [ws-1ab2cd3ef]
          skipped_workspaces: []
          read_again: true
          inventory_age: 3605
    stop_regions:
      description: The regions (sorted) with at least one desktop to hand to M(fleetops.workspaces.workspaces_stop).
      type: list
      elements: str
      sample: [eu-west-1]
    errors:
      description:
        - Problems that make the plan unsafe to run, nothing must be stopped when it is not empty. In inventory mode, hosts
          without a C(region) hostvar, or without a C(workspace_tags) hostvar when O(tags) or O(exclude_tags) is set; with
          descriptions, desktops without C(tags) when O(tags) or O(exclude_tags) is set.
      type: list
      elements: str
      sample: []
"""

import datetime
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Desktops in these states do not count against max_count (the role's documented rule).
NOT_COUNTED_STATES = frozenset(['STOPPED', 'STOPPING', 'TERMINATING', 'TERMINATED'])
# Inventory mode: states a desktop never leaves; such hosts are reported as skipped without being read again.
FINAL_STATES = frozenset(['TERMINATED'])
MAX_HOSTS_IN_MESSAGE = 10
# The hostvars of the fleetops.workspaces.workspaces inventory plugin read by the plan (and nothing else).
HOSTVARS = (('workspace_id', 'workspace_id'), ('region', 'region'), ('directory_id', 'directory_id'), ('state', 'state'),
            ('running_mode', 'running_mode'), ('tags', 'workspace_tags'), ('described_at', 'workspace_described_at'))


def _from_description(entry, index, need_tags, need_directory):
    """What the plan needs of one workspaces_info description.

    Only the keys needed are read: in ansible-core 2.19 and later every read of a registered result goes through the
    templating engine, which makes reading thousands of descriptions the main cost of this filter.
    """
    if not isinstance(entry, Mapping) or 'workspace_id' not in entry:
        raise AnsibleFilterError('stop_plan: item %s of the input is not a WorkSpaces description (a dictionary with workspace_id, as '
                                 'fleetops.workspaces.workspaces_info returns), nor a host name: %r' % (index, entry))
    mode = entry.get('running_mode')
    if not mode:
        properties = entry.get('workspace_properties')
        mode = properties.get('running_mode') if isinstance(properties, Mapping) else None
    return {
        'workspace_id': entry.get('workspace_id'),
        'region': entry.get('region'),
        'state': entry.get('state'),
        'running_mode': mode,
        'tags': entry.get('tags') if need_tags else None,
        'directory_id': entry.get('directory_id') if need_directory else None,
    }


def _from_host(host, hostvars):
    """The desktop an inventory host stands for, reading only the hostvars the plan needs; None without workspace_id."""
    try:
        variables = hostvars[host]
    except KeyError:
        return None
    if not isinstance(variables, Mapping) or 'workspace_id' not in variables:
        return None
    desktop = {'host': host}
    for key, name in HOSTVARS:
        desktop[key] = variables.get(name)
    return desktop


def _desktops(items, hostvars, need_tags, need_directory):
    """Yield (desktop, from_inventory) for every desktop of the input; descriptions may be nested one level (one list per region)."""
    for index, item in enumerate(items):
        if isinstance(item, str):
            if hostvars is None:
                raise AnsibleFilterError('stop_plan: the input holds host names (%r) but no hostvars was given; use '
                                         "ansible_play_batch | fleetops.workspaces.stop_plan(hostvars=hostvars, ...)" % item)
            desktop = _from_host(item, hostvars)
            if desktop is not None:
                yield desktop, True
        elif isinstance(item, Mapping):
            yield _from_description(item, index, need_tags, need_directory), False
        elif isinstance(item, (list, tuple)) or (hasattr(item, '__iter__') and not isinstance(item, bytes)):
            for inner, entry in enumerate(item):
                yield _from_description(entry, '%s.%s' % (index, inner), need_tags, need_directory), False
        elif item is not None:
            raise AnsibleFilterError('stop_plan: item %d of the input is neither a host name nor a WorkSpaces description: %r' % (index, item))


def _matches_all(tags, wanted):
    for key, value in wanted.items():
        if key not in tags or (value is not None and tags[key] != value):
            return False
    return True


def _matching_keys(tags, exclude):
    return [key for key, value in exclude.items() if key in tags and (value is None or tags[key] == value)]


def _check_tags(name, value):
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AnsibleFilterError('stop_plan: %s must be a dictionary of tag keys to values (null for any value), got %r' % (name, value))
    return dict(value)


def _check_list(name, value):
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, '__iter__'):
        raise AnsibleFilterError('stop_plan: %s must be a list, got %r' % (name, value))
    return list(value)


def _some(hosts):
    return ', '.join(hosts[:MAX_HOSTS_IN_MESSAGE])


def _inventory_errors(desktops, check_tags):
    errors = []
    no_region = [d['host'] for d in desktops if d['region'] is None]
    if no_region:
        errors.append('%d hosts have a workspace_id but no region hostvar: %s. Use the fleetops.workspaces.workspaces inventory plugin, '
                      'which sets it.' % (len(no_region), _some(no_region)))
    no_tags = [d['host'] for d in desktops if not isinstance(d['tags'], Mapping)]
    if no_tags and check_tags:
        errors.append('%d hosts have no workspace_tags hostvar, so workspaces_stop_exclude_tags / workspaces_stop_tags cannot be checked for '
                      'them: %s. Enable include_tags in the inventory source (it is on by default), or set workspaces_stop_exclude_tags: {} '
                      '(and no workspaces_stop_tags) to stop them without that check.' % (len(no_tags), _some(no_tags)))
    return errors


def _for_module(desktop):
    """What workspaces_stop plans from (its workspaces option), and nothing more."""
    return {'workspace_id': desktop['workspace_id'], 'state': desktop['state'], 'running_mode': desktop['running_mode']}


def _age(described_at, now):
    """Seconds since ``described_at`` (an ISO 8601 time, as the inventory plugin writes it), None when missing or unreadable."""
    if not isinstance(described_at, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(described_at)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return (now - when).total_seconds()


def _inventory_age(targets, max_age, now):
    """(age of the oldest read in seconds or None, whether every read is recent enough to plan from).

    A read in the future by more than ``max_age`` (a clock far off) is not recent enough either.
    """
    ages = [_age(d['described_at'], now) for d in targets]
    if not ages or any(age is None for age in ages):
        return None, False
    oldest = max(ages)
    return max(0, int(oldest)), max_age > 0 and oldest <= max_age and min(ages) >= -max_age


def _check_max_age(value):
    try:
        value = int(value)
    except (TypeError, ValueError) as e:
        raise AnsibleFilterError('stop_plan: max_age must be a whole number of seconds (0: always read again), got %r' % (value,)) from e
    if value < 0:
        raise AnsibleFilterError('stop_plan: max_age must be 0 (always read again) or more seconds, got %r' % (value,))
    return value


def stop_plan(items, hostvars=None, regions=None, workspace_ids=None, directory_ids=None, tags=None, exclude_tags=None, max_count=500,
              max_age=0):
    """See DOCUMENTATION."""
    items = _check_list('the input', items)
    regions = set(_check_list('regions', regions))
    requested_ids = _check_list('workspace_ids', workspace_ids)
    wanted_ids = set(requested_ids)
    directories = set(_check_list('directory_ids', directory_ids))
    tags = _check_tags('tags', tags)
    exclude_tags = _check_tags('exclude_tags', exclude_tags)
    try:
        max_count = int(max_count)
    except (TypeError, ValueError) as e:
        raise AnsibleFilterError('stop_plan: max_count must be an integer, got %r' % (max_count,)) from e
    max_age = _check_max_age(max_age)
    now = datetime.datetime.now(datetime.timezone.utc)

    inventory, descriptions = [], []
    for desktop, from_inventory in _desktops(items, hostvars, bool(tags or exclude_tags), bool(directories)):
        (inventory if from_inventory else descriptions).append(desktop)
    mode = 'inventory' if inventory else 'selectors'
    desktops = inventory if inventory else descriptions
    if inventory:
        errors = _inventory_errors(inventory, bool(tags or exclude_tags))
    else:
        untagged = [d['workspace_id'] for d in descriptions if not isinstance(d['tags'], Mapping)] if (tags or exclude_tags) else []
        errors = ['%d desktops have no tags in their description, so exclude_tags / tags cannot be checked for them: %s. Describe them '
                  'with fleetops.workspaces.workspaces_info and include_tags=true.' % (len(untagged), _some(untagged))] if untagged else []

    selected, excluded, per_region, seen = 0, [], {}, set()
    candidates = 0
    for desktop in desktops:
        workspace_id = desktop['workspace_id']
        if workspace_id in seen:
            continue
        region = desktop['region']
        desktop_tags = desktop['tags'] if isinstance(desktop['tags'], Mapping) else {}
        if ((regions and region not in regions) or (wanted_ids and workspace_id not in wanted_ids)
                or (directories and desktop['directory_id'] not in directories) or (tags and not _matches_all(desktop_tags, tags))):
            continue
        seen.add(workspace_id)
        selected += 1
        matched = _matching_keys(desktop_tags, exclude_tags) if exclude_tags else []
        if matched:
            excluded.append({'workspace_id': workspace_id, 'region': region, 'excluded_by': matched})
            continue
        if desktop['state'] not in NOT_COUNTED_STATES:
            candidates += 1
        per_region.setdefault(region, []).append(desktop)

    plan_regions, stop_regions = {}, []
    for region in sorted(per_region, key=str):
        targets = sorted(per_region[region], key=lambda d: d['workspace_id'])
        entry = {'requested': [d['workspace_id'] for d in targets], 'skipped_workspaces': []}
        if mode == 'inventory':
            sendable = []
            for desktop in targets:
                if desktop['state'] in FINAL_STATES:
                    entry['skipped_workspaces'].append({
                        'workspace_id': desktop['workspace_id'], 'state': desktop['state'], 'running_mode': desktop['running_mode'],
                        'reason': 'state %s cannot be stopped (as the inventory saw it; not read again)' % desktop['state']})
                else:
                    sendable.append(desktop)
            entry['inventory_age'], recent = _inventory_age(targets, max_age, now)
            entry['read_again'] = not recent
            if recent:
                entry['workspaces'] = [_for_module(d) for d in sendable]
                send = entry['workspaces']
            else:
                entry['workspace_ids'] = [d['workspace_id'] for d in sendable]
                send = entry['workspace_ids']
        else:
            entry['workspaces'] = [_for_module(d) for d in targets]
            send = entry['workspaces']
        plan_regions[region] = entry
        if send:
            stop_regions.append(region)

    return {
        'mode': mode,
        'selected': selected,
        'excluded': sorted(excluded, key=lambda e: (str(e['region']), e['workspace_id'])),
        'not_found': [] if mode == 'inventory' else [w for w in requested_ids if w not in seen],
        'candidates': candidates,
        'max_count': max_count,
        'max_count_exceeded': candidates > max_count,
        'regions': plan_regions,
        'stop_regions': stop_regions,
        'errors': errors,
    }


class FilterModule:
    """fleetops.workspaces.stop_plan"""

    def filters(self):
        return {'stop_plan': stop_plan}
