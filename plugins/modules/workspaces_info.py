#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: workspaces_info
short_description: Find Amazon WorkSpaces by ID, directory, user, bundle, tags, state and connection
version_added: 0.1.0
description:
  - Lists the Amazon WorkSpaces of one region that match every given filter, on request with their tags
    (O(include_tags)) and the connection state of their user (O(include_connection_status)). Without any filter it lists
    every desktop of the region.
  - C(DescribeWorkspaces) accepts only one selector, so the module sends the one that returns the fewest
    desktops (O(workspace_ids), else one query per entry of O(directory_ids), with O(user_name) when given,
    else O(bundle_id), else the whole region) and applies every other filter to the desktops returned.
  - "Tags are read with the Resource Groups Tagging API (C(GetResources), one call per 100 tagged desktops of the
    region), never one call per desktop. With O(tags), that read happens first, filtered by AWS, and when
    describing the desktops it found by ID cannot take more calls than the selector, only those are described."
  - "API calls, with N the desktops the selector returns and M those left after all other filters:
    C(DescribeWorkspaces) ⌈N/25⌉ per directory (or for the bundle, or the region; at least one each),
    C(GetResources) ⌈T/100⌉ for the T tagged desktops of the region (matching O(tags) when given) unless nothing
    is left to tag, C(DescribeWorkspacesConnectionStatus) ⌈M/25⌉ only when the connection state is asked for
    (O(include_connection_status), O(connection_states), O(min_idle_minutes))."
  - "Required IAM actions: C(workspaces:DescribeWorkspaces); C(tag:GetResources) only with O(include_tags=true), O(tags)
    or O(exclude_tags) (a plain listing needs none); C(workspaces:DescribeWorkspacesConnectionStatus) with
    O(include_connection_status=true), O(connection_states) or O(min_idle_minutes)."
  - Up to O(concurrent_reads) of these read requests are in flight at once (batches of 25 IDs, directories, batches of
    the connection check); the pages of one listing and the C(GetResources) pages are read one after another.
  - Retries throttling (C(ThrottlingException)) and transient server errors with jittered backoff.
author:
  - fleetops.workspaces contributors (@fleetops)
notes:
  - Read-only; supports check mode, where it runs exactly as without it.
  - Invalid filter values make the task fail before any API call, with a message naming each value.
  - The inventory plugin P(fleetops.workspaces.workspaces#inventory) takes the same filters and queries several regions.
seealso:
  - module: fleetops.workspaces.workspaces_stop
  - plugin: fleetops.workspaces.workspaces
    plugin_type: inventory
extends_documentation_fragment:
  - fleetops.workspaces.filters
  - fleetops.workspaces.filters.modules
  - fleetops.workspaces.concurrency
  - fleetops.workspaces.credentials
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: List every desktop of a region (no tags, so no tag:GetResources needed)
  fleetops.workspaces.workspaces_info:
    region: eu-west-1
  register: all_desktops

- name: The same, with each desktop's tags
  fleetops.workspaces.workspaces_info:
    region: eu-west-1
    include_tags: true
  register: all_tagged

- name: Running AutoStop desktops of two directories that are not opted out, with their connection state
  fleetops.workspaces.workspaces_info:
    region: eu-west-1
    directory_ids: [d-906732325d, d-9067aa11bb]
    states: [AVAILABLE]
    running_modes: [AUTO_STOP]
    exclude_tags:
      "autostop:exempt": ~
    include_connection_status: true
  register: found

- name: Show who is still connected
  ansible.builtin.debug:
    msg: "{{ found.workspaces | selectattr('connection_state', 'equalto', 'CONNECTED') | map(attribute='user_name') | list }}"

- name: Desktops of the finance team (tag value) that have any owner tag (key only), no tags returned
  fleetops.workspaces.workspaces_info:
    region: us-east-1
    tags:
      team: finance
      owner: ~
  register: finance

- name: The desktop of one user
  fleetops.workspaces.workspaces_info:
    region: us-east-1
    directory_ids: [d-906732325d]
    user_name: alice
  register: alice

- name: Disconnected desktops, ready to stop
  fleetops.workspaces.workspaces_info:
    region: us-east-1
    states: [AVAILABLE]
    connection_states: [DISCONNECTED, UNKNOWN]
  register: idle

- name: Stop them
  fleetops.workspaces.workspaces_stop:
    region: us-east-1
    workspace_ids: "{{ idle.workspaces | map(attribute='workspace_id') | list }}"

- name: Desktops nobody has used for two hours (checked again by workspaces_stop's min_idle_minutes before stopping)
  fleetops.workspaces.workspaces_info:
    region: us-east-1
    states: [AVAILABLE]
    min_idle_minutes: 120
  register: unused
"""

RETURN = r"""
workspaces:
  description:
    - The matching desktops, sorted by RV(workspaces[].workspace_id).
    - Each holds everything C(DescribeWorkspaces) returns, in snake_case (for example C(workspace_properties),
      C(modification_states)), plus the keys below.
  returned: always
  type: list
  elements: dict
  contains:
    workspace_id:
      description: The WorkSpace ID.
      type: str
      returned: always
      sample: ws-0fr8qcgzm
    directory_id:
      description: The directory the desktop is registered to.
      type: str
      returned: always
      sample: d-906732325d
    user_name:
      description: The directory user the desktop belongs to.
      type: str
      returned: always
      sample: alice
    state:
      description: The state of the desktop.
      type: str
      returned: always
      sample: AVAILABLE
    bundle_id:
      description: The bundle the desktop was created from.
      type: str
      returned: always
      sample: wsb-b0s22j3d7
    computer_name:
      description: The computer name of the desktop, once it has one.
      type: str
      returned: when known
      sample: WSAMZN-ABCDEF
    ip_address:
      description: The IP address of the desktop, once it has one.
      type: str
      returned: when known
      sample: 10.0.1.25
    workspace_properties:
      description: The properties of the desktop (running mode, auto-stop timeout, volume sizes, compute type).
      type: dict
      returned: always
      sample: {"running_mode": "AUTO_STOP", "running_mode_auto_stop_timeout_in_minutes": 60}
    region:
      description: The region of the desktop.
      type: str
      returned: always
      sample: us-east-1
    running_mode:
      description: The running mode, copied from C(workspace_properties.running_mode).
      type: str
      returned: always
      sample: AUTO_STOP
    tags:
      description:
        - The tags of the desktop as a dictionary; empty when it has none.
      type: dict
      returned: when O(include_tags=true), or O(tags) or O(exclude_tags) is set
      sample: {"team": "finance", "owner": "alice"}
    connection_state:
      description:
        - The connection state of the user, V(null) when AWS reports none for the desktop.
      type: str
      returned: when O(include_connection_status=true), or O(connection_states) or O(min_idle_minutes) is set
      sample: DISCONNECTED
    last_known_user_connection_timestamp:
      description: When the user last connected (ISO 8601, UTC), V(null) when never connected or unknown.
      type: str
      returned: when O(include_connection_status=true), or O(connection_states) or O(min_idle_minutes) is set
      sample: "2025-01-31T17:02:11+00:00"
    idle_minutes:
      description:
        - Whole minutes from RV(workspaces[].last_known_user_connection_timestamp) to when the connection status was read,
          by the clock of the host running the module; V(null) when never connected or unknown.
      type: int
      returned: when O(include_connection_status=true), or O(connection_states) or O(min_idle_minutes) is set
      sample: 95
count:
  description: How many desktops matched (the length of RV(workspaces)).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.fleetops.workspaces.plugins.module_utils.info import run_info_module


def main():
    run_info_module()


if __name__ == '__main__':
    main()
