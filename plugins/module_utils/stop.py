# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One stop or start run: describe, plan, (check connections), act in batches, re-check failures, wait.

The sequence of calls lives here, once, in :class:`ActionRun`, parameterised by the action's row of the state table
(:data:`plan.STOP_ACTION`, :data:`plan.START_ACTION`) and its connection rule; :class:`StopRun` and :class:`StartRun`
only translate their options into those. The decisions live in :mod:`plan`, the polling in :mod:`wait`,
the API calls in :mod:`client` and the result shape in :mod:`results`.
"""
from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.fleetops.workspaces.plugins.module_utils import client as ws_client
from ansible_collections.fleetops.workspaces.plugins.module_utils import plan as ws_plan
from ansible_collections.fleetops.workspaces.plugins.module_utils import results as ws_results
from ansible_collections.fleetops.workspaces.plugins.module_utils.search import to_desktop
from ansible_collections.fleetops.workspaces.plugins.module_utils.wait import poll


class MissingWorkspacesError(Exception):
    """Requested ids that DescribeWorkspaces does not know, found before any stop (start) was requested."""

    def __init__(self, missing, result):
        super().__init__(missing)
        self.missing = missing
        self.result = result


CONNECTION_KEYS = ('connection_state', 'last_known_user_connection_timestamp', 'idle_minutes')


class ActionRun:
    """Stop or start (``action``, a row of the state table) a list of desktops in one region.

    ``client`` is a retry-wrapped WorkSpaces client. ``connection_rule(entry, now) -> (go, reason)`` decides from each
    candidate's DescribeWorkspacesConnectionStatus entry, read 25 at a time right before their request; None: no check.
    ``connection_facts``: skipped entries also carry the desktop's last connection (when the rule is about usage age).
    """

    def __init__(self, client, action=ws_plan.STOP_ACTION, wait=True, wait_timeout=600, connection_rule=None, check_mode=False,
                 sleep=time.sleep, clock=time.monotonic, concurrent_reads=1, now=ws_plan.utc_now, region=None, diff=False,
                 run_deadline=None, connection_facts=False):
        self.client = client
        self.action = action
        self.connection_rule = connection_rule
        self.connection_facts = connection_facts
        # The whole run's deadline (client.Deadline on the same clock, or None): the client's retry decorator sends nothing
        # past it; the wait ends at it too. When it passes, or the credentials are rejected, the run stops sending
        # (self.aborted) and the desktops not yet sent are listed in not_attempted.
        self.run_deadline = run_deadline
        self.aborted = None  # (kind, exception): 'deadline' or 'credentials'
        self.not_attempted = []
        self.region = region
        self.diff = diff     # build the result's diff (--diff)
        self.now = now       # wall clock compared with AWS's connection timestamps (clock: monotonic, for deadlines)
        self.concurrent_reads = concurrent_reads  # DescribeWorkspaces in flight at once (reads and polls; never the stops)
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.requested = []
        self.desktops = {}   # id -> latest snake_case description
        self.before = {}     # id -> description before any change
        self.stopped = []    # request accepted (and, with wait, confirmed STOPPED / AVAILABLE): the action's done list
        self.accepted = []   # every id whose request AWS accepted
        self.already_stopped = []  # the action's already list (already_stopped / already_running)
        self.skipped = []
        self.missing = []
        self.failed = []
        self.confirm = {}    # id -> {'initial': state, 'seen_stopping': bool (seen STOPPING / STARTING)}: desktops to wait for
        self.deadline = None
        self._poll_error = None

    # -- reads -------------------------------------------------------------------------------------
    def describe(self, ids):
        found = {}
        for raw in ws_client.describe_workspaces_by_ids(self.client, ids, self.concurrent_reads):
            desktop = to_desktop(raw, self.region)
            previous = self.desktops.get(desktop['workspace_id']) or {}
            for key in CONNECTION_KEYS:
                if key in previous:
                    desktop[key] = previous[key]
            self.desktops[desktop['workspace_id']] = desktop
            found[desktop['workspace_id']] = desktop
        return found

    def _safe_describe(self, ids):
        """describe() for the polling phase: None (and the error noted) instead of an exception."""
        try:
            return self.describe(ids)
        except ws_client.DeadlineExceeded:
            pass  # the run's deadline ends the wait like wait_timeout: what is still pending timed out (WaitTimeout)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self._poll_error = ws_client.error_details(e)
            if ws_client.is_credentials_error(e):
                self.aborted = self.aborted or ('credentials', e)
        return None

    # -- the run -----------------------------------------------------------------------------------
    def run(self, workspace_ids, ignore_missing=False, described=None):
        """Act on ``workspace_ids``, read first; or plan from ``described`` (normalized descriptions) without reading."""
        if described is not None:
            self.requested = [d['workspace_id'] for d in described]
            self.desktops = {d['workspace_id']: d for d in described}
            self.before = dict(self.desktops)
        else:
            self.requested = list(workspace_ids)
            if not self.requested:
                return self.result()
            self.before = dict(self.describe(self.requested))
        plan = ws_plan.make_plan(self.requested, self.before.values(), wait=self.wait, action=self.action)
        self.missing = plan['missing']
        if self.missing and not ignore_missing:
            raise MissingWorkspacesError(self.missing, self.result())
        self.skipped.extend(plan['skipped'])
        self.already_stopped.extend(plan[self.action.already] + plan[self.action.moving])
        if self.wait and not self.check_mode:
            self._wait_for_moving(plan[self.action.moving])

        self.deadline = self.clock() + self.wait_timeout
        if self.run_deadline is not None:
            self.deadline = min(self.deadline, self.run_deadline.at)
        self._stop(plan[self.action.act])
        if plan['settle']:
            if self.aborted:
                self.not_attempted.extend(plan['settle'])
            else:
                self._settle(plan['settle'])
        if self.wait and not self.check_mode and self.confirm and not self.aborted:
            self._confirm()
        return self.result()

    def _wait_for_moving(self, ids):
        """Desktops found on their way (STOPPING for stop, STARTING for start) are waited for like those we asked."""
        for workspace_id in ids:
            self.confirm[workspace_id] = {'initial': self.action.moving_state, 'seen_stopping': True}

    def _stop(self, candidates):
        """Check (if asked) and send ``candidates`` batch by batch; stop sending when the run must end (see _abort)."""
        if not candidates:
            return
        try:
            self._stop_batches(candidates)
        except ws_client.DeadlineExceeded as e:
            self._abort(candidates, 'deadline', e)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            if not ws_client.is_credentials_error(e):
                raise
            self._abort(candidates, 'credentials', e)

    def _abort(self, candidates, kind, exception):
        """The run's deadline passed, or AWS no longer accepts the credentials: no further request can be sent. Every
        candidate that has no outcome yet was not attempted; the stops AWS accepted stay reported as stopped (not waited for)."""
        self.aborted = self.aborted or (kind, exception)
        done = set(self.stopped) | set(self.accepted) | set(self.already_stopped) | set(self.not_attempted)
        done.update(s['workspace_id'] for s in self.skipped)
        done.update(f['workspace_id'] for f in self.failed)
        self.not_attempted.extend(w for w in candidates if w not in done)

    def _stop_batches(self, candidates):
        if self.connection_rule is None:
            for batch in ws_client.chunks(candidates):
                self._send_stops(batch)
            return
        # The users' connections (and, with min_idle_minutes, how long ago they last connected) are checked 25 at a
        # time, right before the stop requests: the desktops a check cleared go out in the next StopWorkspaces call of
        # 25, so a user can only connect unnoticed during about one call, and the calls stay at the minimum (⌈k/25⌉
        # checks, ⌈stopped/25⌉ stops). With concurrent reads, the check of the next batch is in flight while a stop
        # request is (never two stop requests at once).
        ready = []
        checks = ws_client.chunks(candidates)
        pipeline = ThreadPoolExecutor(max_workers=1) if self.concurrent_reads > 1 and len(checks) > 1 else None
        try:
            pending = pipeline.submit(self._check_connections, checks[0]) if pipeline else None
            for index, batch in enumerate(checks):
                if pipeline:
                    status = pending.result()
                    if index + 1 < len(checks):
                        pending = pipeline.submit(self._check_connections, checks[index + 1])
                else:
                    status = self._check_connections(batch)
                ready.extend(self._drop_connected(batch, status))
                while len(ready) >= ws_client.BATCH_SIZE:
                    self._send_stops(ready[:ws_client.BATCH_SIZE])
                    ready = ready[ws_client.BATCH_SIZE:]
        finally:
            if pipeline:
                pipeline.shutdown(wait=True)
        if ready:
            self._send_stops(ready)

    def _check_connections(self, batch):
        """DescribeWorkspacesConnectionStatus of one batch: ``{id: entry}``, or the botocore exception (not raised)."""
        try:
            return ws_client.describe_connection_status(self.client, batch)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            return e

    def _send_stops(self, ids):
        """One StopWorkspaces (StartWorkspaces) call (at most 25 ids)."""
        if self.check_mode:
            self.stopped.extend(ids)
            return
        try:
            failed_requests = ws_client.change_state(self.client, self.action.name, ids)
        except ws_client.DeadlineExceeded as e:
            if e.last_error is not None:  # sent, failed with a transient error, no time left to retry: not accepted
                code, message = ws_client.error_details(e.last_error)
                self.failed.extend(ws_results.failure(
                    w, code, 'the %s request failed and the run timeout passed before it could be retried, so AWS did not '
                    'accept it: %s' % (self.action.verb, message), self.desktops.get(w, {}).get('state')) for w in ids)
            raise
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            code, message = ws_client.error_details(e)  # credentials rejected (stop_workspaces raises nothing else)
            self.failed.extend(ws_results.failure(w, code, message, self.desktops.get(w, {}).get('state')) for w in ids)
            raise
        failed_ids = [f['WorkspaceId'] for f in failed_requests]
        for workspace_id in ids:
            if workspace_id not in failed_ids:
                self.stopped.append(workspace_id)
                self.accepted.append(workspace_id)
                if self.wait:
                    self.confirm[workspace_id] = {'initial': self.desktops[workspace_id].get('state'), 'seen_stopping': False}
        if failed_requests:
            self._recheck(failed_requests, failed_ids)

    def _drop_connected(self, candidates, status):
        """Skip the desktops of a batch that the connection rule leaves alone (stop: a connected user; with
        min_idle_minutes also a recent connection or no connection-status entry; start with used_within_days: no use
        within those days), by :func:`plan.split_connected`, from the batch's connection check (``status``, or the
        exception it raised). Every candidate checked gets its connection facts."""
        if isinstance(status, Exception):
            if ws_client.is_credentials_error(status):
                raise status
            code, message = ws_client.error_details(status)
            self.failed.extend(ws_results.failure(w, code, 'could not check the user connection, so the desktop was not %s: %s' % (self.action.done, message),
                                                  self.desktops.get(w, {}).get('state')) for w in candidates)
            return []
        now = self.now()  # one reading per batch, right after its check
        for workspace_id in candidates:
            self.desktops[workspace_id].update(ws_plan.connection_facts(status.get(workspace_id), now))
        keep, skipped = ws_plan.split_connected(candidates, self.desktops, status, now=now, decide=self.connection_rule,
                                                facts=self.connection_facts)
        self.skipped.extend(skipped)
        return keep

    def _recheck(self, failed_requests, failed_ids):
        """Re-describe the ids AWS refused: STOPPING/STOPPED (start: STARTING/AVAILABLE) now means someone else did it."""
        try:
            current = self.describe(failed_ids)
        except (ws_client.DeadlineExceeded, botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            current = {}  # not re-read: reported as failed with AWS's refusal (and the run ends if that was the reason)
        now_moving, now_done, failures = ws_plan.recheck_failures(failed_requests, current, self.action)
        self.already_stopped.extend(now_moving + now_done)
        self.failed.extend(failures)
        if self.wait:
            self._wait_for_moving(now_moving)

    def _poll(self, ids, progress, timeout_message, error_prefix):
        """Poll ``ids`` until the deadline; each one still pending becomes a failure: ``WaitTimeout`` with
        ``timeout_message % state``, or the code and message of the describe call that failed for good.
        Returns ``(done, failed, unresolved)``: ``done`` and ``failed`` of :func:`wait.poll`, and the ids still pending when
        the run was aborted (deadline or credentials; they are not reported as failures here)."""
        self._poll_error = None
        done, failed, pending, dummy = poll(self._safe_describe, ids, progress, self.deadline, sleep=self.sleep, clock=self.clock)
        if self.aborted:
            return done, failed, list(pending)  # the caller decides: not attempted (settle) or accepted, not confirmed
        for workspace_id, desktop in pending.items():
            state = (desktop or self.desktops.get(workspace_id, {})).get('state')
            if self._poll_error:
                code, message = self._poll_error
                self.failed.append(ws_results.failure(workspace_id, code, '%s: %s' % (error_prefix, message), state))
            else:
                self.failed.append(ws_results.failure(workspace_id, 'WaitTimeout', timeout_message % state, state))
        return done, failed, []

    def _wait_limit(self):
        """What ended a wait that timed out: wait_timeout, or the run's timeout when that came first."""
        if self.run_deadline is not None and self.run_deadline.at <= self.deadline:
            return 'the run timeout=%s seconds' % self.run_deadline.seconds
        return 'wait_timeout=%s seconds' % self.wait_timeout

    def _settle(self, ids):
        """Desktops in a transitional state: wait until they settle, then plan and stop (start) them."""
        if self.check_mode:
            for workspace_id in ids:
                desktop = self.desktops[workspace_id]
                reason = ('state %s is transitional: a real run waits for it to settle, then plans it again (check mode does not wait)'
                          % desktop.get('state'))
                self.skipped.append(ws_plan.skipped_entry(desktop, reason))
            return
        timeout = 'still in transitional state %%s after %s; it was not %s' % (self._wait_limit(), self.action.done)
        done, dummy, unresolved = self._poll(ids, lambda w, d: ws_plan.settle_progress(d, self.action), timeout,
                                             'could not see it settle, so it was not %s' % self.action.done)
        if self.aborted:
            self.not_attempted.extend(w for w in ids if w in done or w in unresolved)
            return
        settled = [w for w in ids if w in done and done[w] is not None]
        vanished = [w for w in ids if w in done and done[w] is None]
        self.failed.extend(ws_results.failure(w, 'WorkspaceNotFound', 'the desktop disappeared while it was waited for', None) for w in vanished)
        replan = ws_plan.make_plan(settled, [done[w] for w in settled], wait=False, action=self.action)
        self.skipped.extend(replan['skipped'])
        self.already_stopped.extend(replan[self.action.already] + replan[self.action.moving])
        self._wait_for_moving(replan[self.action.moving])
        self._stop(replan[self.action.act])

    def _confirm(self):
        """Wait until every desktop stopped (or found stopping) is STOPPED (start: AVAILABLE); anything else is a failure."""
        action = self.action

        def progress(workspace_id, desktop):
            track = self.confirm[workspace_id]
            if desktop is not None and desktop.get('state') == action.moving_state:
                track['seen_stopping'] = True
            return ws_plan.stop_progress(desktop, track['initial'], track['seen_stopping'], action)

        timeout = 'did not reach %s within %s (last state %%s)' % (action.done_state, self._wait_limit())
        dummy, failed, dummy_unconfirmed = self._poll(list(self.confirm), progress, timeout, 'could not confirm the %s' % action.verb)
        for workspace_id, desktop in failed.items():
            if desktop is None:
                self.failed.append(ws_results.failure(workspace_id, 'WorkspaceNotFound', 'the desktop disappeared after the %s request' % action.verb, None))
            else:
                state = desktop.get('state')
                message = 'the desktop is in state %s after the %s request instead of %s' % (state, action.verb, action.done_state)
                self.failed.append(ws_results.failure(workspace_id, action.failed_code, message, state))
        failed_ids = {f['workspace_id'] for f in self.failed}
        self.stopped = [w for w in self.stopped if w not in failed_ids]
        self.already_stopped = [w for w in self.already_stopped if w not in failed_ids]

    def result(self):
        return ws_results.build_result(
            requested=self.requested, desktops=self.desktops, before=self.before, done=self.stopped,
            already=self.already_stopped, skipped=self.skipped, missing=self.missing, failed=self.failed,
            accepted=self.accepted, check_mode=self.check_mode, wait=self.wait, diff=self.diff, not_attempted=self.not_attempted,
            action=self.action,
        )


class StopRun(ActionRun):
    """Stop desktops: the run with the stop row, checking connections with ``skip_connected`` / ``min_idle_minutes``."""

    def __init__(self, client, skip_connected=True, min_idle_minutes=0, **kwargs):
        rule = functools.partial(ws_plan.connection_decision, min_idle_minutes=min_idle_minutes) if skip_connected or min_idle_minutes else None
        super().__init__(client, action=ws_plan.STOP_ACTION, connection_rule=rule, connection_facts=bool(min_idle_minutes), **kwargs)


class StartRun(ActionRun):
    """Start desktops: the run with the start row, checking connections only with ``used_within_days``."""

    def __init__(self, client, used_within_days=0, **kwargs):
        rule = functools.partial(ws_plan.usage_decision, used_within_days=used_within_days) if used_within_days else None
        super().__init__(client, action=ws_plan.START_ACTION, connection_rule=rule, connection_facts=True, **kwargs)
