# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doc fragment of the desktop filters shared by workspaces_info and the workspaces inventory plugin.

The matching argument spec is ``FILTER_ARGUMENT_SPEC`` in ``plugins/module_utils/query.py``; keep them in step.
"""
from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  workspace_ids:
    description:
      - Only the desktops with these IDs, for example C(ws-0fr8qcgzm).
      - Each must match C(^ws-[0-9a-z]{8,63}$); duplicates are ignored. IDs that do not exist are not an error,
        they are simply not returned.
      - An empty list matches no desktop (and makes no API call).
    type: list
    elements: str
  directory_ids:
    description:
      - Only the desktops registered to one of these directories, for example C(d-906732325d).
      - Each must match C(^(d-[0-9a-f]{8,63}|wsd-[0-9a-z]{8,63})$), the pattern of the WorkSpaces API.
      - Each directory is queried on its own (C(DescribeWorkspaces) with C(DirectoryId)), unless O(workspace_ids) is
        given, in which case the directories are checked on the desktops found.
      - An empty list matches no desktop.
    type: list
    elements: str
  user_name:
    description:
      - Only the desktop(s) of this directory user. Requires O(directory_ids).
      - Sent to AWS with each directory query; compared case-insensitively when checked on desktops found otherwise.
    type: str
  bundle_id:
    description:
      - Only the desktops created from this bundle, for example C(wsb-b0s22j3d7).
    type: str
  tags:
    description:
      - Only the desktops that have all of these tags.
      - A tag with a value matches only that exact value; a tag whose value is V(null) (C(~)) matches any value,
        so that only the presence of the key is required.
      - Matched server-side by the Resource Groups Tagging API (C(GetResources) with C(TagFilters)).
      - Tag values are strings; a number is compared as its string form, a boolean is refused (quote it).
    type: dict
  exclude_tags:
    description:
      - Leave out every desktop that matches B(any) of these tags (same matching as O(tags)), for example
        an opt-out tag key whatever its value, C(autostop:exempt) with the value V(null).
    type: dict
  states:
    description:
      - Only the desktops in one of these states. An empty list matches no desktop.
    type: list
    elements: str
    choices:
      - PENDING
      - AVAILABLE
      - IMPAIRED
      - UNHEALTHY
      - REBOOTING
      - STARTING
      - REBUILDING
      - RESTORING
      - MAINTENANCE
      - ADMIN_MAINTENANCE
      - TERMINATING
      - TERMINATED
      - SUSPENDED
      - UPDATING
      - STOPPING
      - STOPPED
      - ERROR
  running_modes:
    description:
      - Only the desktops with one of these running modes. An empty list matches no desktop.
    type: list
    elements: str
    choices:
      - AUTO_STOP
      - ALWAYS_ON
      - MANUAL
  connection_states:
    description:
      - Only the desktops whose user connection is in one of these states, read with
        C(DescribeWorkspacesConnectionStatus) (implies O(include_connection_status=true)).
      - A desktop for which AWS reports no connection state counts as C(UNKNOWN).
      - An empty list matches no desktop.
    type: list
    elements: str
    choices:
      - CONNECTED
      - DISCONNECTED
      - UNKNOWN
  include_connection_status:
    description:
      - Also read the connection state of each desktop found (C(DescribeWorkspacesConnectionStatus), one call per
        25 desktops) and return it as C(connection_state), C(last_known_user_connection_timestamp) (ISO 8601, UTC) and
        C(idle_minutes) (whole minutes since then, when it was read); each V(null) when AWS reports none.
    type: bool
    default: false
  min_idle_minutes:
    description:
      - Only the desktops nobody has used for at least this many minutes; V(0) (the default) turns this filter off.
      - "The same decision as O(fleetops.workspaces.workspaces_stop#module:min_idle_minutes): the user is not connected
        and C(LastKnownUserConnectionTimestamp) is at least this many minutes old, or the user never connected. A
        desktop for which AWS returns no connection-status entry does not match (its use is unknown)."
      - Implies O(include_connection_status=true). The age is measured with the clock of the host that runs the query,
        when the connection status is read; a clock ahead of AWS's makes desktops look idle for longer by the skew.
    type: int
    default: 0
"""

    # include_tags: the same option, with a different default per plugin type (spec: INFO_ARGUMENT_SPEC / FILTER_ARGUMENT_SPEC).
    MODULES = r"""
options:
  include_tags:
    description:
      - Read the tags of the desktops (C(GetResources) of the Resource Groups Tagging API, one call per 100 tagged
        desktops of the region) and return them as C(tags).
      - Off by default, so that a plain listing needs no C(tag:GetResources) permission and makes no tagging call.
      - Tags are always read when O(tags) or O(exclude_tags) is set, and then returned too.
    type: bool
    default: false
"""

    PLUGINS = r"""
options:
  include_tags:
    description:
      - Read the tags of the desktops (C(GetResources) of the Resource Groups Tagging API, one call per 100 tagged
        desktops of the region) and return them (as the host variable C(workspace_tags) in the inventory).
      - On by default in the inventory, so that C(keyed_groups), C(groups) and an opt-out tag can use them.
      - Tags are always read when O(tags) or O(exclude_tags) is set.
    type: bool
    default: true
"""
