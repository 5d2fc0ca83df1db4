#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: workspaces_start
short_description: Start Amazon WorkSpaces idempotently, in batches, with a per-desktop report
version_added: 0.1.0
description:
  - Starts the given Amazon WorkSpaces with the C(StartWorkspaces) API, after reading their current
    state with C(DescribeWorkspaces), so that a second run changes nothing. The morning counterpart of
    M(fleetops.workspaces.workspaces_stop), with the same run sequence and guarantees.
  - Desktops are described, planned and started in batches of 25 (the API limit); with O(wait=true) the
    module polls C(DescribeWorkspaces) until every desktop it started is C(AVAILABLE).
  - "Each requested desktop ends in exactly one outcome: started (RV(started)), already running
    (RV(already_running)), skipped with a reason (RV(skipped_workspaces)), missing (RV(missing)), failed
    with the AWS error code and message (RV(failed_workspaces)) or, when the run ended early, not attempted (RV(not_attempted))."
  - "What happens to a desktop depends on its state and running mode:"
  - "C(STOPPED) with running mode C(AUTO_STOP) or C(MANUAL): started. With C(ALWAYS_ON): skipped (only AutoStop and
    Manual desktops can be started)."
  - "C(AVAILABLE), C(IMPAIRED), C(UNHEALTHY): already running. C(STARTING): already running, and waited for when O(wait=true)."
  - "C(STOPPING), C(PENDING), C(REBOOTING), C(REBUILDING), C(RESTORING), C(UPDATING), C(MAINTENANCE):
    with O(wait=true) the module waits until the desktop leaves that state (a C(STOPPING) desktop until it is
    C(STOPPED)), plans it again and starts it if it is then startable; with O(wait=false), or when the running mode is
    C(ALWAYS_ON), it is skipped."
  - "C(ADMIN_MAINTENANCE), C(SUSPENDED), C(TERMINATING), C(TERMINATED), C(ERROR) and any state AWS may add later: skipped."
  - Skipped desktops also produce one warning per distinct reason.
  - When C(StartWorkspaces) refuses a desktop, the module describes it again instead of interpreting the
    error code (AWS publishes no list of them). A desktop that is now C(STARTING), C(AVAILABLE), C(IMPAIRED) or
    C(UNHEALTHY) was started by someone else and counts as already running; any other refusal is a failure reported
    with the AWS error code and message verbatim.
  - "The task fails when any desktop fails, after every batch has been attempted, with a message naming
    how many and which desktops failed; all result lists are still returned."
  - "The run stops sending early, and fails, when O(timeout) passed or AWS no longer accepts the credentials, as
    M(fleetops.workspaces.workspaces_stop) does: desktops whose start AWS accepted are in RV(started), the rejected batch
    in RV(failed_workspaces), and the desktops never sent in RV(not_attempted)."
  - "Required IAM actions: C(workspaces:DescribeWorkspaces), C(workspaces:StartWorkspaces) and, with
    O(used_within_days), C(workspaces:DescribeWorkspacesConnectionStatus)."
  - "Reads run up to O(concurrent_reads) at once; C(StartWorkspaces) requests are always sent one at a time, in the
    order of the batches."
  - Retries throttling (C(ThrottlingException)) and transient server errors with jittered backoff.
author:
  - fleetops.workspaces contributors (@fleetops)
options:
  workspace_ids:
    description:
      - IDs of the WorkSpaces to start, for example C(ws-0fr8qcgzm). Their state is read first.
      - Each must match C(^ws-[0-9a-z]{8,63}$); duplicates are ignored. An empty list does nothing.
      - All desktops must be in the region of the module (O(region)).
      - Exactly one of O(workspace_ids) and O(workspaces) is required.
    type: list
    elements: str
  workspaces:
    description:
      - Descriptions of the WorkSpaces to start, as returned a moment before by M(fleetops.workspaces.workspaces_info)
        or read by the P(fleetops.workspaces.workspaces#inventory) inventory (its hostvars); the module plans from them
        instead of reading the desktops again, which saves one C(DescribeWorkspaces) call per 25 desktops.
      - Each needs C(workspace_id), C(state) and C(running_mode) (or C(workspace_properties.running_mode)).
      - A stale description is safe for a desktop started since (C(StartWorkspaces) refuses it, the module reads it
        again and reports it already running); a desktop described as running and stopped since is reported as already
        running and not started. Give O(workspace_ids) when the descriptions may be older than a few minutes.
      - Exactly one of O(workspace_ids) and O(workspaces) is required.
    type: list
    elements: dict
  return_workspaces:
    description:
      - Return RV(workspaces), the full description of every requested desktop.
    type: bool
    default: true
  wait:
    description:
      - Wait until every desktop that was started, or found C(STARTING), is C(AVAILABLE); a desktop that ends in another
        state (for example C(ERROR)) or is not C(AVAILABLE) within O(wait_timeout) is reported as failed.
      - Also wait for desktops in a transitional state (such as C(STOPPING)) to settle, so that they can be started.
      - With V(false) the module returns as soon as AWS accepted the start requests.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait in total, from the first start request, when O(wait=true). Must be positive.
      - The wait also ends at O(timeout), whichever comes first.
    type: int
    default: 600
  timeout:
    description:
      - The longest the whole run may take, in seconds from the start of the module (reads, connection checks, start
        requests, every retry and the wait included). Must be positive.
      - When it passes before every start request was sent, the module stops sending and fails; the desktops not yet
        sent are in RV(not_attempted), and a second run starts the rest.
    type: int
    default: 1800
  used_within_days:
    description:
      - Start only desktops whose user connected within the last this many days; V(0) (the default) turns this off.
      - "Read from C(LastKnownUserConnectionTimestamp) with C(DescribeWorkspacesConnectionStatus), 25 desktops a call,
        right before their C(StartWorkspaces) call (one check per 25 candidates, no other call), and compared with the
        clock of the host that runs the module, with the same code as the stop module's O(fleetops.workspaces.workspaces_stop#module:min_idle_minutes)."
      - A desktop nobody ever connected to (no timestamp) is skipped with the reason C(never used); one AWS returns no
        connection-status entry for is skipped (fail-safe, C(connection status unknown)). Pre-warming an abandoned desktop
        every morning costs money for nothing.
      - Each desktop skipped for this reason is in RV(skipped_workspaces) with its last connection time and idle minutes.
    type: int
    default: 0
  ignore_missing:
    description:
      - By default, if any requested ID does not exist in the region, the module fails before starting anything.
      - With V(true), missing IDs are listed in RV(missing) and the others are started.
    type: bool
    default: false
notes:
  - Supports check mode; it makes only read calls and returns the plan (RV(started) then lists what would be started).
  - Supports C(--diff); it shows the state of each desktop before and after the start.
  - The error codes C(StartFailed), C(WaitTimeout) and C(WorkspaceNotFound) in RV(failed_workspaces) are set by this
    module; every other code is AWS's.
  - Use M(fleetops.workspaces.workspaces_info) or the role C(fleetops.workspaces.start) to select desktops by directory, tag or user.
extends_documentation_fragment:
  - fleetops.workspaces.concurrency
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Start two desktops and wait until they are AVAILABLE
  fleetops.workspaces.workspaces_start:
    region: eu-west-1
    workspace_ids:
      - ws-0fr8qcgzm
      - ws-1ab2cd3ef

- name: Before office hours, start the office-hours desktops people used in the last two weeks
  block:
    - name: Find them
      fleetops.workspaces.workspaces_info:
        region: eu-west-1
        tags:
          Schedule: office-hours
      register: office

    - name: Start them
      fleetops.workspaces.workspaces_start:
        region: eu-west-1
        workspaces: "{{ office.workspaces }}"
        used_within_days: 14
        return_workspaces: false
      register: start

    - name: Show what happened
      ansible.builtin.debug:
        var: start.summary

- name: Preview only (check mode); shows the plan, starts nothing
  fleetops.workspaces.workspaces_start:
    region: eu-west-1
    workspace_ids: [ws-0fr8qcgzm]
  check_mode: true
  diff: true
"""

RETURN = r"""
started:
  description:
    - IDs whose start request AWS accepted and, with O(wait=true), that reached C(AVAILABLE).
    - In check mode, the IDs that would be started.
  returned: always
  type: list
  elements: str
  sample: ["ws-0fr8qcgzm"]
already_running:
  description:
    - IDs that were already C(AVAILABLE), C(IMPAIRED), C(UNHEALTHY) or C(STARTING), including desktops that someone
      else started between our read and our start request.
  returned: always
  type: list
  elements: str
  sample: ["ws-1ab2cd3ef"]
skipped_workspaces:
  description: Desktops that were not started on purpose, with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    workspace_id:
      description: The WorkSpace ID.
      type: str
      returned: always
      sample: ws-2bc3de4fg
    state:
      description: Its state when it was planned.
      type: str
      returned: always
      sample: STOPPED
    running_mode:
      description: Its running mode.
      type: str
      returned: always
      sample: ALWAYS_ON
    reason:
      description: Why it was skipped.
      type: str
      returned: always
      sample: "not used within used_within_days=14: idle 30 days, the user last connected at 2026-11-02T08:00:00+00:00"
    connection_state:
      description: The user's connection state read right before the start batch, V(null) when AWS returned no entry.
      type: str
      returned: when skipped by O(used_within_days)
      sample: DISCONNECTED
    last_known_user_connection_timestamp:
      description: When the user last connected (ISO 8601, UTC), V(null) when never or unknown.
      type: str
      returned: when skipped by O(used_within_days)
      sample: "2026-11-02T08:00:00+00:00"
    idle_minutes:
      description: Whole minutes since RV(skipped_workspaces[].last_known_user_connection_timestamp); V(null) when unknown.
      type: int
      returned: when skipped by O(used_within_days)
      sample: 43200
missing:
  description: Requested IDs that do not exist in the region (only non-empty with O(ignore_missing=true), else the task fails).
  returned: always
  type: list
  elements: str
  sample: []
failed_workspaces:
  description: Desktops that could not be started. When non-empty the task fails.
  returned: always
  type: list
  elements: dict
  contains:
    workspace_id:
      description: The WorkSpace ID.
      type: str
      returned: always
      sample: ws-3cd4ef5gh
    error_code:
      description:
        - The AWS error code from C(FailedRequests), or from a failed API call, verbatim.
        - C(StartFailed), C(WaitTimeout) or C(WorkspaceNotFound) when set by this module.
      type: str
      returned: always
      sample: ResourceInvalidState.Workspace
    error_message:
      description: The AWS error message, verbatim, or this module's explanation.
      type: str
      returned: always
      sample: The WorkSpace is not in a valid state to be started.
    state:
      description: The last state seen, if any.
      type: str
      returned: always
      sample: ERROR
not_attempted:
  description:
    - IDs never sent to C(StartWorkspaces) because the run stopped sending early (O(timeout) passed, or the credentials
      were rejected). Empty otherwise. When non-empty the task fails; run again to start them.
  returned: always
  type: list
  elements: str
  sample: []
workspaces:
  description:
    - Descriptions of the requested desktops, as last read (with O(wait=true) that is after the start), in the same shape
      as RV(fleetops.workspaces.workspaces_info#module:workspaces) returns without tags and connection status.
    - The desktops whose connection was checked (O(used_within_days)) also have C(connection_state),
      C(last_known_user_connection_timestamp) and C(idle_minutes).
  returned: when O(return_workspaces=true)
  type: list
  elements: dict
  sample:
    - workspace_id: ws-0fr8qcgzm
      directory_id: d-906732325d
      user_name: alice
      state: AVAILABLE
      workspace_properties:
        running_mode: AUTO_STOP
summary:
  description: How many desktops ended in each outcome.
  returned: always
  type: dict
  contains:
    requested:
      description: Distinct IDs requested.
      type: int
      returned: always
      sample: 3
    started:
      description: Length of RV(started).
      type: int
      returned: always
      sample: 1
    already_running:
      description: Length of RV(already_running).
      type: int
      returned: always
      sample: 1
    skipped:
      description: Length of RV(skipped_workspaces).
      type: int
      returned: always
      sample: 1
    missing:
      description: Length of RV(missing).
      type: int
      returned: always
      sample: 0
    failed:
      description: Length of RV(failed_workspaces).
      type: int
      returned: always
      sample: 0
    not_attempted:
      description: Length of RV(not_attempted).
      type: int
      returned: always
      sample: 0
"""

from ansible_collections.fleetops.workspaces.plugins.module_utils.module import run_start_module


def main():
    run_start_module()


if __name__ == '__main__':
    main()
