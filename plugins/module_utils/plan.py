# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for stopping and starting WorkSpaces: what to change, what is already done, what to skip and why.

Plain functions over snake_case desktop dicts (as returned by ``search.to_desktop`` of
DescribeWorkspaces output). No AWS, no Ansible, no I/O: unit-tested directly.

One state table with a row per action (:data:`STOP_ACTION`, :data:`START_ACTION`); :func:`classify` reads it.

Stop (StopWorkspaces reference and observed behaviour):

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

Start (StartWorkspaces reference):

====================================================================  ======================  ===========
state                                                                 AUTO_STOP / MANUAL      ALWAYS_ON
====================================================================  ======================  ===========
STOPPED                                                               start                   skip
AVAILABLE, IMPAIRED, UNHEALTHY                                        already running         already running
STARTING                                                              already running (wait)  already running (wait)
STOPPING, PENDING, REBOOTING, REBUILDING, RESTORING, UPDATING,        wait, then re-plan;     skip
MAINTENANCE                                                           without wait: skip
ADMIN_MAINTENANCE, SUSPENDED, TERMINATING, TERMINATED, ERROR          skip                    skip
====================================================================  ======================  ===========
"""
from __future__ import annotations

import datetime
import re

# The documented limit of ids per StopWorkspaces, StartWorkspaces, DescribeWorkspaces(WorkspaceIds) and
# DescribeWorkspacesConnectionStatus request (client.py sends in batches of it; query.py counts calls with it).
BATCH_SIZE = 25

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
AVAILABLE = 'AVAILABLE'
STARTING = 'STARTING'

# Decisions
STOP = 'stop'
ALREADY_STOPPED = 'already_stopped'
WAIT_STOPPING = 'stopping'
START = 'start'
ALREADY_RUNNING = 'already_running'
WAIT_STARTING = 'starting'
WAIT_SETTLE = 'settle'
SKIP = 'skip'


class Action:
    """One row of the state table: what an action (stop or start) does with a desktop in each state.

    ``act_states`` are changed (running modes AUTO_STOP and MANUAL only), ``already_states`` need nothing,
    ``moving_state`` is on its way (waited for with ``wait``), ``settle_states`` are waited for and planned again,
    ``never_states`` are skipped; any other state is skipped as unknown. The decisions are named ``act``, ``already`` and
    ``moving``; ``done`` names the outcome list (``stopped``, ``started``) and ``done_state`` where the action ends.
    """

    def __init__(self, name, act_states, already_states, moving_state, settle_states, never_states, done_state,
                 act, already, moving, done, able, failed_code):
        self.name = self.verb = name
        self.act_states, self.already_states, self.moving_state = frozenset(act_states), frozenset(already_states), moving_state
        self.settle_states, self.never_states, self.done_state = frozenset(settle_states), frozenset(never_states), done_state
        self.act, self.already, self.moving, self.done, self.able, self.failed_code = act, already, moving, done, able, failed_code

    def __repr__(self):
        return 'Action(%r)' % self.name


STOP_ACTION = Action('stop', STOPPABLE_STATES, [STOPPED], STOPPING, TRANSITIONAL_STATES, NOT_STOPPABLE_STATES, STOPPED,
                     act=STOP, already=ALREADY_STOPPED, moving=WAIT_STOPPING, done='stopped', able='stoppable', failed_code='StopFailed')
START_ACTION = Action('start', [STOPPED], ['AVAILABLE', 'IMPAIRED', 'UNHEALTHY'], STARTING,
                      (TRANSITIONAL_STATES - {STARTING}) | {STOPPING}, NOT_STOPPABLE_STATES | {'ERROR'}, AVAILABLE,
                      act=START, already=ALREADY_RUNNING, moving=WAIT_STARTING, done='started', able='startable', failed_code='StartFailed')
ACTIONS = {STOP_ACTION.name: STOP_ACTION, START_ACTION.name: START_ACTION}


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


def classify(desktop, wait=True, action=STOP_ACTION):
    """Return ``(decision, reason)`` for one described desktop by ``action``'s row (reason is None unless skipped)."""
    state = desktop.get('state')
    mode = running_mode(desktop)
    if state in action.already_states:
        return action.already, None
    if state == action.moving_state:
        return action.moving, None
    if state in action.never_states:
        return SKIP, 'state %s cannot be %s' % (state, action.done)
    if mode not in STOPPABLE_RUNNING_MODES:
        return SKIP, 'running mode %s cannot be %s (only AUTO_STOP and MANUAL desktops can)' % (mode, action.done)
    if state in action.act_states:
        return action.act, None
    if state in action.settle_states:
        if wait:
            return WAIT_SETTLE, None
        return SKIP, 'state %s is transitional; run with wait=true to wait for it to settle and then %s it' % (state, action.verb)
    return SKIP, 'state %s is not known to be %s' % (state, action.able)


def skipped_entry(desktop, reason):
    return {
        'workspace_id': desktop.get('workspace_id'),
        'state': desktop.get('state'),
        'running_mode': running_mode(desktop),
        'reason': reason,
    }


def empty_plan(action=STOP_ACTION):
    return {action.act: [], action.moving: [], action.already: [], 'settle': [], 'skipped': [], 'missing': []}


def make_plan(requested_ids, desktops, wait=True, action=STOP_ACTION):
    """Classify every requested id against its description.

    ``desktops`` is an iterable of snake_case descriptions (any order, extra ids ignored).
    Returns a dict of lists named by ``action``'s decisions: for stop ``stop``, ``stopping`` and ``already_stopped``
    (for start ``start``, ``starting``, ``already_running``) (ids), ``settle`` (ids in a transitional state to wait for),
    ``skipped`` (entries with a reason) and ``missing`` (ids AWS did not return). Order follows ``requested_ids``.
    """
    by_id = {d.get('workspace_id'): d for d in desktops}
    plan = empty_plan(action)
    for workspace_id in requested_ids:
        desktop = by_id.get(workspace_id)
        if desktop is None:
            plan['missing'].append(workspace_id)
            continue
        decision, reason = classify(desktop, wait=wait, action=action)
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


def usage_decision(entry, now, used_within_days=0):
    """``(start, reason)`` for a start candidate from its connection-status ``entry`` (None: AWS returned none).

    ``used_within_days`` 0: every desktop is started. N > 0: only those whose user last connected less than N days
    before ``now`` (:func:`used_within`, the same comparison as ``min_idle_minutes``); never connected, or no entry at
    all (fail-safe: nothing tells that it is used), is not started.
    """
    if not used_within_days:
        return True, None
    if entry is None:
        return False, ('connection status unknown: AWS returned no connection-status entry for it, so used_within_days '
                       'cannot be checked; not started (fail-safe)')
    facts = connection_facts(entry, now)
    stamp = facts['last_known_user_connection_timestamp']
    if stamp is None:
        return False, 'never used: no user has ever connected to it, and used_within_days=%d starts only desktops in use' % used_within_days
    if used_within(stamp, now, used_within_days * 1440):
        return True, None
    return False, ('not used within used_within_days=%d: idle %d days, the user last connected at %s'
                   % (used_within_days, facts['idle_minutes'] // 1440, stamp))


def split_connected(candidate_ids, desktops_by_id, connection_status, min_idle_minutes=0, now=None, decide=None, facts=False):
    """Split candidates by the user's connection: ``(still_to_act_on, skipped_entries)``.

    ``connection_status`` maps id -> DescribeWorkspacesConnectionStatus entry (any key case); an id it lacks has no
    entry. The decision per desktop is ``decide(entry, now)``, by default :func:`connection_decision` with
    ``min_idle_minutes`` (stop). With ``min_idle_minutes`` or ``facts`` (a rule about how long ago the desktop was used),
    skipped entries also carry the desktop's :func:`connection_facts`; otherwise their shape stays the same from run to
    run (a connected user's last connection is the time of the check). ``now`` defaults to the controller's clock.
    """
    now = now or utc_now()
    decide = decide or (lambda entry, when: connection_decision(entry, when, min_idle_minutes))
    keep, skipped = [], []
    for workspace_id in candidate_ids:
        entry = connection_status.get(workspace_id)
        stop, reason = decide(entry, now)
        if stop:
            keep.append(workspace_id)
            continue
        skip = skipped_entry(desktops_by_id.get(workspace_id, {'workspace_id': workspace_id}), reason)
        if min_idle_minutes or facts:
            skip.update(connection_facts(entry, now))
        skipped.append(skip)
    return keep, skipped


def recheck_failures(failed_requests, desktops_by_id, action=STOP_ACTION):
    """Sort StopWorkspaces / StartWorkspaces FailedRequests after re-describing the failed ids.

    AWS publishes no list of error codes, so the code is never inspected: a desktop that is now on its way
    (STOPPING; for start STARTING) or already there (STOPPED; for start AVAILABLE, IMPAIRED, UNHEALTHY) was changed by
    someone else (or by an earlier attempt) and is not a failure.
    Returns ``(now_moving, now_done, failures)``; failures keep AWS's code and message verbatim.
    """
    now_stopping, now_stopped, failures = [], [], []
    for entry in failed_requests:
        workspace_id = entry.get('WorkspaceId')
        desktop = desktops_by_id.get(workspace_id)
        state = desktop.get('state') if desktop else None
        if state in action.already_states:
            now_stopped.append(workspace_id)
        elif state == action.moving_state:
            now_stopping.append(workspace_id)
        else:
            failures.append({
                'workspace_id': workspace_id,
                'error_code': entry.get('ErrorCode'),
                'error_message': entry.get('ErrorMessage'),
                'state': state,
            })
    return now_stopping, now_stopped, failures


def stop_progress(desktop, initial_state, seen_stopping=False, action=STOP_ACTION):
    """Where a desktop we asked to stop (or start, by ``action``) stands: ``'done'``, ``'pending'`` or ``'failed'``.

    ``initial_state`` is its state when the request was sent; until it has been seen STOPPING (STARTING),
    still being in that state only means AWS has not begun yet. Any other state
    (ERROR after AVAILABLE, AVAILABLE again after STOPPING, gone) means the request failed.
    """
    if desktop is None:
        return 'failed'
    state = desktop.get('state')
    if state == action.done_state:
        return 'done'
    if state == action.moving_state or (state == initial_state and not seen_stopping):
        return 'pending'
    return 'failed'


def settle_progress(desktop, action=STOP_ACTION):
    """For a desktop in a transitional state: ``'done'`` once it left it (or vanished), else ``'pending'``."""
    if desktop is None or desktop.get('state') not in action.settle_states:
        return 'done'
    return 'pending'
