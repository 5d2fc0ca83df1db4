# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Result, diff, warning and message shapes of workspaces_stop and workspaces_start (pure).

Each takes the action's row of the state table (:data:`plan.STOP_ACTION`, the default, or :data:`plan.START_ACTION`),
which names the outcome lists (``stopped`` / ``already_stopped``, ``started`` / ``already_running``) and the verb.

Data never goes under Ansible's reserved result keys (failed, skipped, changed is only a bool,
msg, rc, results, invocation): a non-empty ``skipped`` list would make Ansible mark the task skipped.
"""
from __future__ import annotations

from ansible_collections.fleetops.workspaces.plugins.module_utils.client import error_details
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import STOP_ACTION
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import running_mode

MAX_IDS_IN_MESSAGE = 10


def failure(workspace_id, error_code, error_message, state=None):
    return {'workspace_id': workspace_id, 'error_code': error_code, 'error_message': error_message, 'state': state}


def _unique(ids):
    seen = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


def build_result(requested, desktops, before, done, already, skipped, missing, failed, accepted=(), check_mode=False, wait=True,
                 diff=False, not_attempted=(), action=STOP_ACTION):
    """Assemble the module result; every requested id appears in exactly one outcome list.

    ``done`` and ``already`` become the action's outcome lists (``stopped`` / ``already_stopped`` or ``started`` /
    ``already_running``). ``accepted`` are the ids whose stop (start) AWS accepted (some may have failed later, while waited for);
    ``changed`` is true when there is one, or in check mode when a stop (start) would be requested. ``diff`` (the module's
    ``_diff``, that is ``--diff``) adds the ``diff`` key, as amazon.aws modules do; it is not built otherwise.
    ``not_attempted``: ids never sent because the run ended early (its timeout passed, or the credentials were rejected).
    """
    done = _unique(done)
    failed_ids = {f['workspace_id'] for f in failed}
    already = [w for w in _unique(already) if w not in failed_ids]
    result = {
        'changed': bool(done) or bool(accepted),
        action.done: done,
        action.already: already,
        'skipped_workspaces': skipped,
        'missing': list(missing),
        'failed_workspaces': failed,
        'not_attempted': _unique(not_attempted),
        'workspaces': [desktops[w] for w in requested if w in desktops],
        'summary': {
            'requested': len(requested),
            action.done: len(done),
            action.already: len(already),
            'skipped': len(skipped),
            'missing': len(missing),
            'failed': len(failed),
            'not_attempted': len(_unique(not_attempted)),
        },
    }
    if diff:
        result['diff'] = build_diff(desktops, before, _unique(list(done) + list(accepted)), check_mode, wait, action)
    return result


def build_diff(desktops, before, affected, check_mode, wait, action=STOP_ACTION):
    """State of each desktop we asked (or would ask) to stop or start, before and after (predicted in check mode)."""
    diff_before, diff_after = {}, {}
    for workspace_id in affected:
        old = before.get(workspace_id, {})
        new = desktops.get(workspace_id, old)
        diff_before[workspace_id] = {'state': old.get('state'), 'running_mode': running_mode(old)}
        if check_mode:
            state = action.done_state if wait else action.moving_state
        else:
            state = new.get('state')
            if not wait and state == old.get('state'):
                state = action.moving_state  # accepted; AWS moves it to STOPPING (STARTING), we did not wait to see it
        diff_after[workspace_id] = {'state': state, 'running_mode': running_mode(new)}
    return {'before': diff_before, 'after': diff_after}


def _id_list(ids):
    ids = list(ids)
    text = ', '.join(ids[:MAX_IDS_IN_MESSAGE])
    if len(ids) > MAX_IDS_IN_MESSAGE:
        text += ' and %d more' % (len(ids) - MAX_IDS_IN_MESSAGE)
    return text


def failure_message(result, action=STOP_ACTION):
    failed = result['failed_workspaces']
    shown = ['%s (%s: %s)' % (f['workspace_id'], f['error_code'], f['error_message']) for f in failed[:MAX_IDS_IN_MESSAGE]]
    more = '' if len(failed) <= MAX_IDS_IN_MESSAGE else '; and %d more, see failed_workspaces' % (len(failed) - MAX_IDS_IN_MESSAGE)
    return '%d of %d WorkSpaces failed to %s: %s%s' % (len(failed), result['summary']['requested'], action.verb, '; '.join(shown), more)


def aborted_message(result, kind, exception, timeout=None, action=STOP_ACTION):
    """Why the run ended before every desktop was attempted, and where each desktop stands."""
    code, message = error_details(exception)
    if kind == 'credentials':
        why = ('AWS no longer accepts the credentials (%s: %s): they have expired or been revoked, so the module stopped sending'
               % (code, message))
        todo = 'Run again with fresh credentials (for example a new session token) to %s the rest.' % action.verb
    elif kind == 'cancelled':
        why = 'The Ansible controller that ran this module is gone (the job was cancelled), so the module stopped sending'
        todo = 'Run again: a second run %ss the rest and skips what is done.' % action.verb
    else:
        why = 'The run timeout of %s seconds passed (%s), so the module stopped sending' % (timeout, message)
        todo = 'Run again (a second run %ss the rest and skips what is %s), or raise timeout.' % (action.verb, action.done)
    stopped = result[action.done]
    parts = ['%s. AWS accepted the %s of %d WorkSpaces (%s%s)' % (why, action.verb, len(stopped), action.done, ': ' + _id_list(stopped) if stopped else '')]
    if result['not_attempted']:
        parts.append('%d were not attempted (not_attempted): %s' % (len(result['not_attempted']), _id_list(result['not_attempted'])))
    if result['failed_workspaces']:
        failed_ids = [f['workspace_id'] for f in result['failed_workspaces']]
        parts.append('%d failed (failed_workspaces): %s' % (len(failed_ids), _id_list(failed_ids)))
    return '; '.join(parts) + '. ' + todo


def missing_message(missing, region=None, action=STOP_ACTION):
    where = ' in region %s' % region if region else ''
    return ('%d requested WorkSpaces do not exist%s: %s. Nothing was %s. Check the ids and the region, '
            'or set ignore_missing=true to %s the others anyway.' % (len(missing), where, _id_list(missing), action.done, action.verb))


def skip_warnings(skipped):
    """One warning per distinct reason (not one per desktop: a fleet can have thousands).

    A reason's details after its first ``': '`` (such as one desktop's idle minutes and last connection) do not make
    it distinct: ``idle for less than min_idle_minutes=60: idle 12 minutes, ...`` is grouped under its first part.
    """
    by_reason = {}
    for entry in skipped:
        by_reason.setdefault(entry['reason'].split(': ', 1)[0], []).append(entry['workspace_id'])
    return ['%d WorkSpaces skipped, %s: %s' % (len(ids), reason, _id_list(ids)) for reason, ids in by_reason.items()]
