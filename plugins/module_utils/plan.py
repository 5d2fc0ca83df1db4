# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for stopping WorkSpaces: what to stop, what is already stopped, what to skip and why.

Plain functions over snake_case desktop dicts (as returned by ``query.to_desktop`` of
DescribeWorkspaces output). No AWS, no Ansible, no I/O: unit-tested directly.

State table (StopWorkspaces reference and observed behaviour):

====================================================================  ======================  ===========
state                                                                 AUTO_STOP / MANUAL      ALWAYS_ON
====================================================================  ======================  ===========
AVAILABLE, IMPAIRED, UNHEALTHY, ERROR                                 stop                    skip
STOPPED                                                               already stopped         already stopped
STOPPING                                                              already stopped (wait)  already stopped (wait)
PENDING, STARTING, REBOOTING, REBUILDING, RESTORING, UPDATING,        wait, then re-plan;     skip
MAINTENANCE                                                           without wait: skip
ADMIN_MAINTENANCE, SUSPENDED, TERMINATING, TERMINATED                 skip                    skip
====================================================================  ======================  ===========
"""
from __future__ import annotations

import datetime
import re

WORKSPACE_ID_PATTERN = r'^ws-[0-9a-z]{8,63}$'
_WORKSPACE_ID_RE = re.compile(WORKSPACE_ID_PATTERN)

# Every state and running mode of the WorkSpaces API (botocore service model), in its order.
WORKSPACE_STATES = (
    'PENDING', 'AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'REBOOTING', 'STARTING', 'REBUILDING', 'RESTORING', 'MAINTENANCE',
    'ADMIN_MAINTENANCE', 'TERMINATING', 'TERMINATED', 'SUSPENDED', 'UPDATING', 'STOPPING', 'STOPPED', 'ERROR',
)
RUNNING_MODES = ('AUTO_STOP', 'ALWAYS_ON', 'MANUAL')

STOPPABLE_STATES = frozenset(['AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'ERROR'])
STOPPABLE_RUNNING_MODES = frozenset(['AUTO_STOP', 'MANUAL'])
TRANSITIONAL_STATES = frozenset(['PENDING', 'STARTING', 'REBOOTING', 'REBUILDING', 'RESTORING', 'UPDATING', 'MAINTENANCE'])
NOT_STOPPABLE_STATES = frozenset(['ADMIN_MAINTENANCE', 'SUSPENDED', 'TERMINATING', 'TERMINATED'])
STOPPED = 'STOPPED'
STOPPING = 'STOPPING'

# Decisions
STOP = 'stop'
ALREADY_STOPPED = 'already_stopped'
WAIT_STOPPING = 'stopping'
WAIT_SETTLE = 'settle'
SKIP = 'skip'


def validate_workspace_ids(workspace_ids):
    """Return ``(unique_ids, errors)``: ids de-duplicated in order, and one message per malformed id."""
    unique, seen, errors = [], set(), []
    for value in workspace_ids or []:
        if not isinstance(value, str) or not _WORKSPACE_ID_RE.match(value):
            errors.append(
                'workspace id %r is not a WorkSpaces id: ids look like ws-0fr8qcgzm (ws- then 8 to 63 lower-case letters or digits)' % (value,)
            )
            continue
        if value not in seen:
            seen.add(value)
            unique.append(value)
    return unique, errors


def normalize_descriptions(descriptions):
    """Validate descriptions given by the caller (``workspaces_info`` output or inventory hostvars).

    Each needs ``workspace_id``, ``state`` and a running mode (``running_mode`` or
    ``workspace_properties.running_mode``). Returns ``(desktops, errors)``; desktops are de-duplicated by id, in order,
    with ``workspace_properties.running_mode`` filled in so that :func:`classify` reads them like DescribeWorkspaces output.
    """
    desktops, seen, errors = [], set(), []
    for index, entry in enumerate(descriptions or []):
        if not isinstance(entry, dict):
            errors.append('workspaces[%d] must be a description (a dict such as workspaces_info returns), got %r' % (index, entry))
            continue
        workspace_id = entry.get('workspace_id')
        problems = validate_workspace_ids([workspace_id])[1]
        mode = entry.get('running_mode') or (entry.get('workspace_properties') or {}).get('running_mode')
        if not entry.get('state'):
            problems.append('no state')
        if not mode:
            problems.append('no running_mode')
        if problems:
            errors.append('workspaces[%d] (%s): %s; pass the workspaces list returned by fleetops.workspaces.workspaces_info'
                          % (index, workspace_id, '; '.join(problems)))
            continue
        if workspace_id in seen:
            continue
        seen.add(workspace_id)
        desktop = dict(entry)
        desktop['workspace_properties'] = dict(entry.get('workspace_properties') or {}, running_mode=mode)
        desktops.append(desktop)
    return desktops, errors


def running_mode(desktop):
    return (desktop.get('workspace_properties') or {}).get('running_mode')


def classify(desktop, wait=True):
    """Return ``(decision, reason)`` for one described desktop (reason is None unless skipped)."""
    state = desktop.get('state')
    mode = running_mode(desktop)
    if state == STOPPED:
        return ALREADY_STOPPED, None
    if state == STOPPING:
        return WAIT_STOPPING, None
    if state in NOT_STOPPABLE_STATES:
        return SKIP, 'state %s cannot be stopped' % state
    if mode not in STOPPABLE_RUNNING_MODES:
        return SKIP, 'running mode %s cannot be stopped (only AUTO_STOP and MANUAL desktops can)' % mode
    if state in STOPPABLE_STATES:
        return STOP, None
    if state in TRANSITIONAL_STATES:
        if wait:
            return WAIT_SETTLE, None
        return SKIP, 'state %s is transitional; run with wait=true to wait for it to settle and then stop it' % state
    return SKIP, 'state %s is not known to be stoppable' % state


def skipped_entry(desktop, reason):
    return {
        'workspace_id': desktop.get('workspace_id'),
        'state': desktop.get('state'),
        'running_mode': running_mode(desktop),
        'reason': reason,
    }


def empty_plan():
    return {'stop': [], 'stopping': [], 'already_stopped': [], 'settle': [], 'skipped': [], 'missing': []}


def make_plan(requested_ids, desktops, wait=True):
    """Classify every requested id against its description.

    ``desktops`` is an iterable of snake_case descriptions (any order, extra ids ignored).
    Returns a dict of lists: ``stop``, ``stopping`` and ``already_stopped`` (ids), ``settle`` (ids in a
    transitional state to wait for), ``skipped`` (entries with a reason) and ``missing`` (ids AWS did not return).
    Order follows ``requested_ids``.
    """
    by_id = {d.get('workspace_id'): d for d in desktops}
    plan = empty_plan()
    for workspace_id in requested_ids:
        desktop = by_id.get(workspace_id)
        if desktop is None:
            plan['missing'].append(workspace_id)
            continue
        decision, reason = classify(desktop, wait=wait)
        if decision == SKIP:
            plan['skipped'].append(skipped_entry(desktop, reason))
        else:
            plan[decision].append(workspace_id)
    return plan


# --- the user's connection (pure) ----------------------------------------------------------------------------
CONNECTED = 'CONNECTED'
CONNECTION_UNKNOWN_REASON = ('connection status unknown: AWS returned no connection-status entry for it '
                             '(for example just launched), so min_idle_minutes cannot be checked; not stopped (fail-safe)')
CONNECTED_REASON = 'a user is connected (ConnectionState CONNECTED)'


def utc_now():
    """The controller's clock, timezone-aware UTC: the default ``now`` of everything here that compares timestamps."""
    return datetime.datetime.now(datetime.timezone.utc)


def parse_timestamp(value):
    """An aware datetime from a datetime (naive means UTC) or an ISO 8601 string; None stays None."""
    if value is None or value == '':
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value[:-1] + '+00:00' if value.endswith('Z') else value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def iso_utc(value):
    """ISO 8601 in UTC (``2026-12-02T05:20:00+00:00``) of a timestamp (datetime or string); None stays None."""
    value = parse_timestamp(value)
    return None if value is None else value.astimezone(datetime.timezone.utc).isoformat()


def minutes_since(timestamp, now):
    """Whole minutes (rounded down) from ``timestamp`` to ``now``; None when there is no timestamp.

    A timestamp ahead of ``now`` (the controller's clock behind AWS's) counts as 0 minutes, never negative.
    """
    timestamp = parse_timestamp(timestamp)
    if timestamp is None:
        return None
    return max(0, int((parse_timestamp(now) - timestamp).total_seconds() // 60))


def used_within(timestamp, now, minutes):
    """True when the user last connected less than ``minutes`` before ``now`` (False when never connected).

    The one comparison of connection age: ``min_idle_minutes=N`` stops a desktop only when it is *not* used within N
    minutes; a "used within N days" check is the same call with ``minutes=N * 1440``. Exactly N minutes ago is not
    within N minutes. A timestamp ahead of ``now`` (clock skew) is within any positive window.
    """
    timestamp = parse_timestamp(timestamp)
    if timestamp is None:
        return False
    return parse_timestamp(now) - timestamp < datetime.timedelta(minutes=minutes)


def connection_facts(entry, now):
    """What a DescribeWorkspacesConnectionStatus entry (any key case; None: no entry) tells about a desktop.

    ``connection_state``, ``last_known_user_connection_timestamp`` (ISO 8601 UTC) and ``idle_minutes`` (whole minutes
    since then, by ``now``); each None when unknown (no entry, or never connected).
    """
    entry = entry or {}
    state = entry.get('ConnectionState', entry.get('connection_state'))
    stamp = entry.get('LastKnownUserConnectionTimestamp', entry.get('last_known_user_connection_timestamp'))
    return {
        'connection_state': state,
        'last_known_user_connection_timestamp': iso_utc(stamp),
        'idle_minutes': minutes_since(stamp, now),
    }


def connection_decision(entry, now, min_idle_minutes=0):
    """``(stop, reason)`` for a stop candidate from its connection-status ``entry`` (None: AWS returned none).

    * a CONNECTED user: never stopped;
    * ``min_idle_minutes`` 0 (only skip_connected): anything else is stopped, also no entry at all;
    * ``min_idle_minutes`` N > 0: no entry is not stopped (fail-safe, "connection status unknown"); a user who last
      connected less than N minutes ago is not stopped; never connected (no timestamp) is idle and stopped.
    """
    if entry is not None and entry.get('ConnectionState', entry.get('connection_state')) == CONNECTED:
        return False, CONNECTED_REASON
    if not min_idle_minutes:
        return True, None
    if entry is None:
        return False, CONNECTION_UNKNOWN_REASON
    facts = connection_facts(entry, now)
    if used_within(facts['last_known_user_connection_timestamp'], now, min_idle_minutes):
        return False, ('idle for less than min_idle_minutes=%d: idle %d minutes, the user last connected at %s'
                       % (min_idle_minutes, facts['idle_minutes'], facts['last_known_user_connection_timestamp']))
    return True, None


def split_connected(candidate_ids, desktops_by_id, connection_status, min_idle_minutes=0, now=None):
    """Split stop candidates by the user's connection: ``(still_to_stop, skipped_entries)``.

    ``connection_status`` maps id -> DescribeWorkspacesConnectionStatus entry (any key case); an id it lacks has no
    entry. The decision per desktop is :func:`connection_decision`; with ``min_idle_minutes``, skipped entries also carry
    the desktop's :func:`connection_facts` (without it their shape stays the same from run to run: a connected user's
    last connection is the time of the check). ``now`` defaults to the controller's clock.
    """
    now = now or utc_now()
    keep, skipped = [], []
    for workspace_id in candidate_ids:
        entry = connection_status.get(workspace_id)
        stop, reason = connection_decision(entry, now, min_idle_minutes)
        if stop:
            keep.append(workspace_id)
            continue
        skip = skipped_entry(desktops_by_id.get(workspace_id, {'workspace_id': workspace_id}), reason)
        if min_idle_minutes:
            skip.update(connection_facts(entry, now))
        skipped.append(skip)
    return keep, skipped


def recheck_failures(failed_requests, desktops_by_id):
    """Sort StopWorkspaces FailedRequests after re-describing the failed ids.

    AWS publishes no list of error codes, so the code is never inspected: a desktop that is now
    STOPPING or STOPPED was stopped by someone else (or by an earlier attempt) and is not a failure.
    Returns ``(now_stopping, now_stopped, failures)``; failures keep AWS's code and message verbatim.
    """
    now_stopping, now_stopped, failures = [], [], []
    for entry in failed_requests:
        workspace_id = entry.get('WorkspaceId')
        desktop = desktops_by_id.get(workspace_id)
        state = desktop.get('state') if desktop else None
        if state == STOPPED:
            now_stopped.append(workspace_id)
        elif state == STOPPING:
            now_stopping.append(workspace_id)
        else:
            failures.append({
                'workspace_id': workspace_id,
                'error_code': entry.get('ErrorCode'),
                'error_message': entry.get('ErrorMessage'),
                'state': state,
            })
    return now_stopping, now_stopped, failures


def stop_progress(desktop, initial_state, seen_stopping=False):
    """Where a desktop we asked to stop stands: ``'done'``, ``'pending'`` or ``'failed'``.

    ``initial_state`` is its state when the stop was requested; until it has been seen STOPPING,
    still being in that state only means AWS has not started the stop yet. Any other state
    (ERROR after AVAILABLE, AVAILABLE again after STOPPING, gone) means the stop failed.
    """
    if desktop is None:
        return 'failed'
    state = desktop.get('state')
    if state == STOPPED:
        return 'done'
    if state == STOPPING or (state == initial_state and not seen_stopping):
        return 'pending'
    return 'failed'


def settle_progress(desktop):
    """For a desktop in a transitional state: ``'done'`` once it left it (or vanished), else ``'pending'``."""
    if desktop is None or desktop.get('state') not in TRANSITIONAL_STATES:
        return 'done'
    return 'pending'
