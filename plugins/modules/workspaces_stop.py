#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: workspaces_stop
short_description: Stop Amazon WorkSpaces idempotently, in batches, with a per-desktop report
version_added: 0.1.0
description:
  - Stops the given Amazon WorkSpaces with the C(StopWorkspaces) API, after reading their current
    state with C(DescribeWorkspaces), so that a second run changes nothing.
  - Desktops are described, planned and stopped in batches of 25 (the API limit); with O(wait=true) the
    module polls C(DescribeWorkspaces) until every desktop it stopped is C(STOPPED).
  - "Each requested desktop ends in exactly one outcome: stopped (RV(stopped)), already stopped
    (RV(already_stopped)), skipped with a reason (RV(skipped_workspaces)), missing (RV(missing)), failed
    with the AWS error code and message (RV(failed_workspaces)) or, when the run ended early, not attempted (RV(not_attempted))."
  - "What happens to a desktop depends on its state and running mode:"
  - "C(AVAILABLE), C(IMPAIRED), C(UNHEALTHY), C(ERROR) with running mode C(AUTO_STOP) or C(MANUAL): stopped.
    With C(ALWAYS_ON): skipped (only AutoStop and Manual desktops can be stopped)."
  - "C(STOPPED): already stopped. C(STOPPING): already stopped, and waited for when O(wait=true)."
  - "C(PENDING), C(STARTING), C(REBOOTING), C(REBUILDING), C(RESTORING), C(UPDATING), C(MAINTENANCE):
    with O(wait=true) the module waits until the desktop leaves that state, plans it again and stops it
    if it is then stoppable; with O(wait=false), or when the running mode is C(ALWAYS_ON), it is skipped."
  - "C(ADMIN_MAINTENANCE), C(SUSPENDED), C(TERMINATING), C(TERMINATED) and any state AWS may add later: skipped."
  - Skipped desktops also produce one warning per distinct reason.
  - When C(StopWorkspaces) refuses a desktop, the module describes it again instead of interpreting the
    error code (AWS publishes no list of them). A desktop that is now C(STOPPING) or C(STOPPED) was stopped
    by someone else and counts as already stopped; any other refusal is a failure reported with the AWS
    error code and message verbatim.
  - "The task fails when any desktop fails, after every batch has been attempted, with a message naming
    how many and which desktops failed; all result lists are still returned."
  - "The run stops sending early, and fails, in two cases: O(timeout) passed, or AWS no longer accepts the credentials
    (an expired or revoked session token: C(ExpiredToken), C(ExpiredTokenException), C(InvalidClientTokenId),
    C(UnrecognizedClientException)). The message says which; desktops whose stop AWS accepted are in RV(stopped), the
    rejected batch in RV(failed_workspaces), and the desktops never sent in RV(not_attempted); none is claimed stopped
    that AWS did not accept. Every other failed call fails only its own batch and the others are still sent."
  - "Required IAM actions: C(workspaces:DescribeWorkspaces), C(workspaces:StopWorkspaces) and, with
    O(skip_connected=true) (the default) or O(min_idle_minutes), C(workspaces:DescribeWorkspacesConnectionStatus)."
  - "Reads (C(DescribeWorkspaces), also while waiting, and C(DescribeWorkspacesConnectionStatus)) run up to
    O(concurrent_reads) at once; C(StopWorkspaces) requests are always sent one at a time, in the order of the batches."
  - Retries throttling (C(ThrottlingException)) and transient server errors with jittered backoff.
author:
  - fleetops.workspaces contributors (@fleetops)
options:
  workspace_ids:
    description:
      - IDs of the WorkSpaces to stop, for example C(ws-0fr8qcgzm). Their state is read first.
      - Each must match C(^ws-[0-9a-z]{8,63}$); duplicates are ignored. An empty list does nothing.
      - All desktops must be in the region of the module (O(region)).
      - Exactly one of O(workspace_ids) and O(workspaces) is required.
    type: list
    elements: str
  workspaces:
    description:
      - Descriptions of the WorkSpaces to stop, as returned a moment before by M(fleetops.workspaces.workspaces_info)
        (its RV(fleetops.workspaces.workspaces_info#module:workspaces)) or read by the P(fleetops.workspaces.workspaces#inventory)
        inventory (its hostvars); the module plans from them instead of reading the desktops again, which saves one
        C(DescribeWorkspaces) call per 25 desktops.
      - Each needs C(workspace_id), C(state) and C(running_mode) (or C(workspace_properties.running_mode)); other keys are ignored.
      - A description that has gone stale is still safe. C(StopWorkspaces) refuses a desktop that is no longer stoppable, and
        the module then reads it again (as for O(workspace_ids)); O(skip_connected) is always checked right before the stop.
        But a desktop described as C(STOPPED) and started since is reported as already stopped and not stopped; give
        O(workspace_ids) instead when the descriptions may be older than a few minutes.
      - Exactly one of O(workspace_ids) and O(workspaces) is required.
    type: list
    elements: dict
  return_workspaces:
    description:
      - Return RV(workspaces), the full description of every requested desktop.
      - Set to V(false) for large fleets when the outcome lists are enough (less memory in the controller and in registered results).
    type: bool
    default: true
  wait:
    description:
      - Wait until every desktop that was stopped, or found C(STOPPING), is C(STOPPED); a desktop that ends
        in another state (for example C(ERROR)) or is not C(STOPPED) within O(wait_timeout) is reported
        as failed.
      - Also wait for desktops in a transitional state (such as C(STARTING)) to settle, so that they can be stopped.
      - With V(false) the module returns as soon as AWS accepted the stop requests.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait in total, from the first stop request, when O(wait=true). Must be positive.
      - The wait also ends at O(timeout), whichever comes first.
    type: int
    default: 600
  timeout:
    description:
      - The longest the whole run may take, in seconds from the start of the module (reads, connection checks, stop
        requests, every retry and the wait included). Must be positive.
      - "Retries back off (jittered, up to 30 seconds apart) without ever sleeping past it, and no request is sent after
        it. When it passes before every stop request was sent, the module stops sending and fails: the desktops whose stop
        AWS accepted are in RV(stopped) (not waited for), a batch whose request failed and could not be retried in time is
        in RV(failed_workspaces) with AWS's error, and every desktop not yet sent is in RV(not_attempted). A second run
        stops the rest."
      - When it passes during the wait, the desktops not yet C(STOPPED) are failures (C(WaitTimeout)), as with O(wait_timeout).
      - "Not bounded by it: a request already sent, which can take up to botocore's own timeouts and retries (by default
        a 60-second read timeout and, in botocore's legacy retry mode, 4 retries); set O(aws_config) (for example
        C(read_timeout), C(retries)) to tighten those."
      - The default, 30 minutes, leaves room for O(wait_timeout) (10 minutes) after the stop requests of a fleet of
        thousands under throttling, and bounds a sustained AWS outage, which otherwise costs one to three minutes of retries per batch.
    type: int
    default: 1800
  skip_connected:
    description:
      - Skip desktops whose user is connected (C(ConnectionState) C(CONNECTED)), checked with
        C(DescribeWorkspacesConnectionStatus) right before the stop request, so that nobody is disconnected mid-work.
      - The connections are checked 25 desktops at a time, each batch right before its C(StopWorkspaces) call, so the
        calls stay at the minimum (one check and at most one stop per 25 desktops).
      - Desktops whose connection state is C(DISCONNECTED), C(UNKNOWN) or not reported are stopped (unless
        O(min_idle_minutes) is set, which skips a desktop without a connection-status entry).
      - If the connection state cannot be read, the desktops concerned are not stopped and are reported as failed.
      - Set to V(false) to stop desktops whatever their users do (one C(DescribeWorkspacesConnectionStatus) call per
        25 desktops less). V(false) cannot be combined with O(min_idle_minutes).
      - The default was V(false) before release 0.1.0.
    type: bool
    default: true
  min_idle_minutes:
    description:
      - Stop a desktop only when nobody has used it for at least this many minutes, V(0) (the default) turns this off.
      - "When above 0, a desktop is stopped only when its user is not connected now and its
        C(LastKnownUserConnectionTimestamp) is at least this many minutes old (exactly that old counts as idle). A desktop
        whose user never connected (no timestamp) counts as idle and is stopped."
      - "A desktop for which AWS returns no connection-status entry at all (for example one just launched) is skipped,
        fail-safe, with the reason C(connection status unknown)."
      - Read with the same C(DescribeWorkspacesConnectionStatus) call of 25 desktops, right before their C(StopWorkspaces)
        call, as O(skip_connected), so no extra API call. Implies O(skip_connected); O(skip_connected=false) together with a
        value above 0 is an error.
      - Each desktop skipped for this reason is in RV(skipped_workspaces) with its last connection time and idle minutes.
      - "The age is AWS's timestamp compared with the clock of the host that runs the module (the controller): a clock
        that is behind makes desktops look more recently used (never stopped too early by skew in that direction), a clock
        that is ahead makes them look idle for longer by the skew. Keep the clock synchronised (NTP); a timestamp ahead of
        the clock counts as 0 minutes old."
    type: int
    default: 0
    version_added: 0.1.0
  ignore_missing:
    description:
      - By default, if any requested ID does not exist in the region, the module fails before stopping anything.
      - With V(true), missing IDs are listed in RV(missing) and the others are stopped.
    type: bool
    default: false
notes:
  - Supports check mode; it makes only read calls and returns the plan (RV(stopped) then lists what would be stopped).
  - Supports C(--diff); it shows the state of each desktop before and after the stop. The C(diff) result is only built with C(--diff).
  - The error codes C(StopFailed), C(WaitTimeout) and C(WorkspaceNotFound) in RV(failed_workspaces) are set by this
    module (a stop that ended in another state, a wait that timed out, a desktop that disappeared); every other code is AWS's.
  - Use M(fleetops.workspaces.workspaces_info) or the role C(fleetops.workspaces.stop) to select desktops by directory, tag or user.
extends_documentation_fragment:
  - fleetops.workspaces.concurrency
  - fleetops.workspaces.credentials
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Stop two desktops and wait until they are STOPPED
  fleetops.workspaces.workspaces_stop:
    region: eu-west-1
    workspace_ids:
      - ws-0fr8qcgzm
      - ws-1ab2cd3ef

- name: Find the desktops of a directory, then stop them, leaving connected users alone
  block:
    - name: Find the desktops
      fleetops.workspaces.workspaces_info:
        region: eu-west-1
        directory_ids: [d-906732325d]
        running_modes: [AUTO_STOP, MANUAL]
      register: found

    - name: Stop them
      fleetops.workspaces.workspaces_stop:
        region: eu-west-1
        workspace_ids: "{{ found.workspaces | map(attribute='workspace_id') | list }}"
        skip_connected: true
      register: stop

    - name: Show what happened
      ansible.builtin.debug:
        var: stop.summary

- name: Preview only (check mode); shows the plan, stops nothing
  fleetops.workspaces.workspaces_stop:
    region: eu-west-1
    workspace_ids: [ws-0fr8qcgzm]
  check_mode: true
  diff: true

- name: Find and stop in two steps with one read (workspaces_info's descriptions are planned from directly)
  block:
    - name: Find the office-hours desktops
      fleetops.workspaces.workspaces_info:
        region: eu-west-1
        tags:
          Schedule: office-hours
      register: office

    - name: Stop them
      fleetops.workspaces.workspaces_stop:
        region: eu-west-1
        workspaces: "{{ office.workspaces }}"
        skip_connected: true
        return_workspaces: false

- name: Stop the desktops nobody has used for an hour (no connected user, last connection at least 60 minutes ago)
  fleetops.workspaces.workspaces_stop:
    region: eu-west-1
    workspaces: "{{ office.workspaces }}"
    min_idle_minutes: 60
  register: idle_stop

- name: Region and credentials for every module of the collection
  module_defaults:
    group/fleetops.workspaces.workspaces:
      region: us-east-1
      profile: vdi-operations
  block:
    - name: Request the stops and do not wait
      fleetops.workspaces.workspaces_stop:
        workspace_ids: [ws-0fr8qcgzm, ws-1ab2cd3ef]
        wait: false
        ignore_missing: true
"""

RETURN = r"""
stopped:
  description:
    - IDs whose stop request AWS accepted and, with O(wait=true), that reached C(STOPPED) (when the run stopped sending
      early, see O(timeout), the accepted ones, not waited for).
    - In check mode, the IDs that would be stopped.
  returned: always
  type: list
  elements: str
  sample: ["ws-0fr8qcgzm"]
already_stopped:
  description:
    - IDs that were already C(STOPPED) or C(STOPPING), including desktops that someone else stopped
      between our read and our stop request.
  returned: always
  type: list
  elements: str
  sample: ["ws-1ab2cd3ef"]
skipped_workspaces:
  description: Desktops that were not stopped on purpose, with the reason.
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
      sample: AVAILABLE
    running_mode:
      description: Its running mode.
      type: str
      returned: always
      sample: ALWAYS_ON
    reason:
      description:
        - Why it was skipped.
        - "For a desktop skipped by O(min_idle_minutes), it names the threshold, the idle minutes and the last connection
          time, for example C(idle for less than min_idle_minutes=60: idle 12 minutes, the user last connected at
          2026-12-02T05:48:00+00:00); C(connection status unknown: ...) when AWS returned no connection-status entry."
      type: str
      returned: always
      sample: running mode ALWAYS_ON cannot be stopped (only AUTO_STOP and MANUAL desktops can)
    connection_state:
      description: The user's connection state read right before the stop batch, V(null) when AWS returned no entry.
      type: str
      returned: when skipped by the connection check with O(min_idle_minutes) above 0
      sample: DISCONNECTED
    last_known_user_connection_timestamp:
      description: When the user last connected (ISO 8601, UTC), V(null) when never or unknown.
      type: str
      returned: when skipped by the connection check with O(min_idle_minutes) above 0
      sample: "2026-12-02T05:48:00+00:00"
    idle_minutes:
      description: Whole minutes since RV(skipped_workspaces[].last_known_user_connection_timestamp), by the module's clock; V(null) when unknown.
      type: int
      returned: when skipped by the connection check with O(min_idle_minutes) above 0
      sample: 12
missing:
  description: Requested IDs that do not exist in the region (only non-empty with O(ignore_missing=true), else the task fails).
  returned: always
  type: list
  elements: str
  sample: []
failed_workspaces:
  description:
    - Desktops that could not be stopped. When non-empty the task fails.
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
        - C(StopFailed), C(WaitTimeout) or C(WorkspaceNotFound) when set by this module.
      type: str
      returned: always
      sample: ResourceInvalidState.Workspace
    error_message:
      description: The AWS error message, verbatim, or this module's explanation.
      type: str
      returned: always
      sample: The WorkSpace is not in a valid state to be stopped.
    state:
      description: The last state seen, if any.
      type: str
      returned: always
      sample: ERROR
not_attempted:
  description:
    - IDs never sent to C(StopWorkspaces) because the run stopped sending early (O(timeout) passed, or the credentials
      were rejected). Empty otherwise. When non-empty the task fails; run again to stop them.
  returned: always
  type: list
  elements: str
  sample: []
workspaces:
  description:
    - Descriptions of the requested desktops, as last read (with O(wait=true) that is after the stop), in the same shape
      as RV(fleetops.workspaces.workspaces_info#module:workspaces) returns without tags and connection status (everything
      C(DescribeWorkspaces) returns, in snake_case, plus C(region) and C(running_mode); timestamps as ISO 8601 strings).
    - The inventory's host variables are a subset of the same keys (tags as C(workspace_tags), since C(tags) is reserved).
    - The desktops whose connection was checked (O(skip_connected), O(min_idle_minutes)) also have
      C(connection_state), C(last_known_user_connection_timestamp) (ISO 8601 UTC) and C(idle_minutes), as read right
      before their stop batch (each V(null) when unknown); so every stopped desktop carries its last connection time.
  returned: when O(return_workspaces=true)
  type: list
  elements: dict
  sample:
    - workspace_id: ws-0fr8qcgzm
      directory_id: d-906732325d
      user_name: alice
      state: STOPPED
      bundle_id: wsb-b0s22j3d7
      computer_name: WSAMZN-ABCDEF
      ip_address: 10.0.1.25
      workspace_properties:
        running_mode: AUTO_STOP
        running_mode_auto_stop_timeout_in_minutes: 60
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
    stopped:
      description: Length of RV(stopped).
      type: int
      returned: always
      sample: 1
    already_stopped:
      description: Length of RV(already_stopped).
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

from ansible_collections.fleetops.workspaces.plugins.module_utils.module import run_stop_module


def main():
    run_stop_module()


if __name__ == '__main__':
    main()
