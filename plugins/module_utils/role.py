# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side planning and reporting of the roles ``stop`` and ``start`` (its morning counterpart): pure functions.

Used by the private action plugin ``role_planner``; the decisions come from :mod:`plan` (the one state table), the tag
matching and id checks from :mod:`query`. Plain dicts in, plain dicts out, unit-tested without AWS or Ansible.
"""
from __future__ import annotations

import re

from ansible_collections.fleetops.workspaces.plugins.module_utils import plan as ws_plan
from ansible_collections.fleetops.workspaces.plugins.module_utils import query


def _action(row):
    """A role's configuration from its row of the state table (plan.ACTIONS)."""
    return {'prefix': 'workspaces_' + row.name, 'module': 'fleetops.workspaces.workspaces_' + row.name, 'verb': row.verb,
            'done': row.done, 'already': row.already, 'row': row, 'counted': (row.act, ws_plan.WAIT_SETTLE),
            'done_state': {True: row.done_state, False: row.moving_state}}


# What differs between the roles: configuration, not code.
ACTIONS = {name: _action(row) for name, row in ws_plan.ACTIONS.items()}
SELECTORS = ('workspace_ids', 'directory_ids', 'tags')
OUTCOMES = ('skipped_workspaces', 'missing', 'failed_workspaces')
FIRST = 10


def _first(ids, count=FIRST):
    ids = list(ids)
    return ', '.join(ids[:count]) + (' and %d more' % (len(ids) - count) if len(ids) > count else '')


def text_to_list(value):
    """Survey text ("a,b", "a b", one per line) -> list; lists pass through."""
    return [v for v in re.split(r'[\s,]+', value) if v] if isinstance(value, str) else value


def text_to_tags(value):
    """Survey text ``Team=blue,Schedule`` -> ``{'Team': 'blue', 'Schedule': None}`` (a key alone matches any value).
    Mappings, JSON / YAML text and None are left to the argument spec and :func:`query.normalize_filters`."""
    if not isinstance(value, str) or value.strip().startswith('{'):
        return value
    pairs = [p.strip() for p in re.split(r'[,\r\n]+', value) if p.strip()]
    return {k.strip(): (v.strip() if sep else None) for k, sep, v in (p.partition('=') for p in pairs)}


def check_selection(params, prefix):
    """``(filters, errors)`` of the role's selectors and exclusions, checked by the query layer's one validator."""
    wanted = {name: params.get(name) or None for name in ('workspace_ids', 'directory_ids', 'tags', 'exclude_tags')}
    filters, errors = query.normalize_filters(wanted)
    return filters, ['%s_%s' % (prefix, e) if e.startswith(('tags', 'exclude_tags')) else e for e in errors]


def desktop_from_host(host, hostvars):
    """What the plan reads of an inventory host of the ``workspaces`` inventory plugin; None for other hosts."""
    if 'workspace_id' not in hostvars:
        return None
    return {'host': host, 'workspace_id': hostvars.get('workspace_id'), 'region': hostvars.get('region'),
            'directory_id': hostvars.get('directory_id'), 'state': hostvars.get('state'), 'user_name': hostvars.get('user_name'),
            'running_mode': hostvars.get('running_mode'), 'tags': hostvars.get('workspace_tags')}


def desktop_from_description(entry):
    """What the plan reads of a ``workspaces_info`` description."""
    return {'workspace_id': entry.get('workspace_id'), 'region': entry.get('region'), 'directory_id': entry.get('directory_id'),
            'state': entry.get('state'), 'user_name': entry.get('user_name'), 'running_mode': entry.get('running_mode'), 'tags': entry.get('tags')}


def inventory_errors(desktops, need_tags):
    errors = []
    no_region = [d['host'] for d in desktops if not d['region']]
    if no_region:
        errors.append('%d inventory hosts have a workspace_id but no region hostvar: %s; use the fleetops.workspaces.workspaces '
                      'inventory plugin, which sets it' % (len(no_region), _first(no_region)))
    no_tags = [d['host'] for d in desktops if need_tags and not isinstance(d['tags'], dict)]
    if no_tags:
        errors.append('%d inventory hosts have no workspace_tags hostvar, so the tag selection and exclusion cannot be checked: %s; '
                      'enable include_tags in the inventory source' % (len(no_tags), _first(no_tags)))
    return errors


def make_plan(desktops, filters, action, regions=(), max_count=500, wait=True, mode='selectors', details=False):
    """Select, exclude, classify with the one state table, group by region and count against ``max_count``.

    ``desktops`` come from :func:`desktop_from_host` or :func:`desktop_from_description`. Per region the plan keeps
    ``requested`` (ids to hand to the module) and ``workspaces`` (selector mode: the descriptions it plans from without a
    second read); ``counts`` tell the decisions the state table predicts, for the preview; with ``details``, ``details``
    keeps each desktop's directory, user and state for the run report.
    """
    config = ACTIONS[action]
    wanted_ids = set(filters['workspace_ids'] or ())
    plan = {'mode': mode, 'selected': 0, 'excluded': [], 'not_found': [], 'counted': 0, 'max_count': max_count, 'regions': {}}
    seen = set()
    for desktop in sorted(desktops, key=lambda d: (str(d['region']), d['workspace_id'])):
        tags = desktop['tags'] or {}
        if (desktop['workspace_id'] in seen or (regions and desktop['region'] not in regions)
                or (wanted_ids and desktop['workspace_id'] not in wanted_ids) or not query.tags_match_all(tags, filters['tags'])
                or (filters['directory_ids'] and desktop['directory_id'] not in filters['directory_ids'])):
            continue
        seen.add(desktop['workspace_id'])
        plan['selected'] += 1
        excluded_by = [k for k, v in (filters['exclude_tags'] or {}).items() if query.tag_matches(tags, k, v)]
        if excluded_by:
            plan['excluded'].append({'workspace_id': desktop['workspace_id'], 'region': desktop['region'], 'excluded_by': excluded_by})
            if details:
                plan['excluded'][-1].update((k, desktop.get(k)) for k in ('directory_id', 'user_name', 'state'))
            continue
        decision, reason = ws_plan.classify({'state': desktop['state'], 'workspace_properties': {'running_mode': desktop['running_mode']}}, wait,
                                            config['row'])
        entry = plan['regions'].setdefault(desktop['region'], {'requested': [], 'hosts': {}, 'counts': {}, 'workspaces': [], 'details': {}})
        if details:
            entry['details'][desktop['workspace_id']] = {k: desktop.get(k) for k in ('directory_id', 'user_name', 'state')}
        entry['requested'].append(desktop['workspace_id'])
        entry['hosts'][desktop['workspace_id']] = desktop.get('host')
        label = reason if decision == ws_plan.SKIP else decision
        entry['counts'][label] = entry['counts'].get(label, 0) + 1
        if mode == 'selectors':
            entry['workspaces'].append({k: desktop[k] for k in ('workspace_id', 'state', 'running_mode')})
        plan['counted'] += decision in config['counted']
    if mode == 'selectors':
        plan['not_found'] = [w for w in filters['workspace_ids'] or () if w not in seen]
    plan['max_count_exceeded'] = plan['counted'] > max_count
    plan['stop_regions'] = sorted(plan['regions'])
    return plan


def preview(plan, action, check_mode, min_idle_minutes=0, used_within_days=0):
    """The plan in a few lines, before anything is changed."""
    config = ACTIONS[action]
    condition = ''
    if min_idle_minutes:
        condition = '; only those idle for at least %d minutes, checked right before each request' % min_idle_minutes
    elif used_within_days:
        condition = '; only those used within the last %d days, checked right before each request' % used_within_days
    lines = ['%s%s mode: %d selected, %d excluded by tag, %d to %s (max_count %d%s)%s' % (
        'PREVIEW (check mode): ' if check_mode else '', plan['mode'], plan['selected'], len(plan['excluded']), plan['counted'],
        config['verb'], plan['max_count'], ', EXCEEDED' if plan['max_count_exceeded'] else '', condition)]
    for region in plan['stop_regions']:
        counts = plan['regions'][region]['counts']
        lines.append('  %s: %s' % (region, '; '.join('%s: %d' % (k, counts[k]) for k in sorted(counts))))
    return lines


def max_count_message(plan, action, check_mode):
    prefix = ACTIONS[action]['prefix']
    return ('%d WorkSpaces would be %s (selected, not excluded, and in a state and running mode the module would %s) but '
            '%s_max_count is %d%s. Narrow the selection, or raise %s_max_count to at least %d.' % (
                plan['counted'], ACTIONS[action]['done'], ACTIONS[action]['verb'], prefix, plan['max_count'],
                ': a real run would change nothing' if check_mode else '; nothing was changed', prefix, plan['counted']))


def region_outcome(requested, run, done, already):
    """One region's outcome from its module result; a call that failed as a whole leaves ``not_attempted`` desktops."""
    run = run or {}
    outcome = {key: list(run.get(key) or []) for key in (done, already) + OUTCOMES}
    accounted = {v['workspace_id'] if isinstance(v, dict) else v for values in outcome.values() for v in values}
    failed_call = bool(run.get('failed'))
    outcome['not_attempted'] = [w for w in requested if w not in accounted] if failed_call else []
    outcome['error'] = (run.get('msg') or 'failed without a message') if failed_call and not outcome['failed_workspaces'] else None
    outcome['requested'] = list(requested)
    outcome['summary'] = {'requested': len(requested), done: len(outcome[done]), already: len(outcome[already]),
                          'skipped': len(outcome['skipped_workspaces']), 'missing': len(outcome['missing']),
                          'failed': len(outcome['failed_workspaces']), 'not_attempted': len(outcome['not_attempted'])}
    return outcome


def build_result(plan, runs, action, check_mode, account_hosts='none'):
    """The role's result fact, summary lines, AWX stats, failure message and the hosts to account for.

    With ``account_hosts`` ``failed`` or ``all`` in inventory mode, the failed desktops' hosts are returned in
    ``failed_hosts`` (each with its own message) for a later play to fail, and ``fail_message`` is None when every failure
    has a host: AWX's host summaries then name exactly those desktops; with ``all`` the changed ones are returned in
    ``changed_hosts`` too, for a later play to mark changed.
    """
    config = ACTIONS[action]
    done, already = config['done'], config['already']
    regions = {r: region_outcome(plan['regions'][r]['requested'], runs.get(r), done, already) for r in plan['stop_regions']}
    failed = [dict(f, region=r) for r, o in regions.items() for f in o['failed_workspaces']]
    failures = failed + [{'workspace_id': w, 'region': r, 'error_code': 'NotAttempted', 'error_message': o['error'], 'state': None}
                         for r, o in regions.items() for w in o['not_attempted']]
    totals = {'selected': plan['selected'], 'excluded': len(plan['excluded']), 'not_found': len(plan['not_found'])}
    for key in ('requested', done, already, 'skipped', 'missing', 'failed', 'not_attempted'):
        totals[key] = sum(o['summary'][key] for o in regions.values())
    totals['regions'], totals['failed_regions'] = len(regions), sum(o['error'] is not None for o in regions.values())
    result = {'check_mode': check_mode, 'mode': plan['mode'], 'excluded': plan['excluded'], 'not_found': plan['not_found'],
              'regions': regions, 'failed_workspaces': failed, 'max_count_exceeded': plan['max_count_exceeded'], 'totals': totals,
              'failed_regions': [{'region': r, 'error': o['error'], 'not_attempted': o['not_attempted']} for r, o in regions.items() if o['error']]}
    verb = ('would %s' % config['verb']) if check_mode else done
    lines = ['%s - %s mode: %d selected, %d excluded by tag%s' % (
        'PREVIEW (check mode), nothing was changed' if check_mode else 'WorkSpaces %s' % config['verb'], plan['mode'],
        plan['selected'], len(plan['excluded']), ', %d not found: %s' % (len(plan['not_found']), _first(plan['not_found'])) if plan['not_found'] else '')]
    if plan['excluded']:
        lines.append('excluded by tag: %s' % _first(e['workspace_id'] for e in plan['excluded']))
    for region, o in regions.items():
        reasons = {}
        for entry in o['skipped_workspaces']:
            reason = str(entry.get('reason')).split(':', 1)[0]  # the kind of reason, without the desktop's own details
            reasons[reason] = reasons.get(reason, 0) + 1
        lines.append('%s: %s %d, %s %d, skipped %d%s, missing %d, failed %d%s%s' % (
            region, verb, o['summary'][done], already.replace('_', ' '), o['summary'][already], o['summary']['skipped'],
            ' (%s)' % '; '.join('%s: %d' % (k, reasons[k]) for k in sorted(reasons, key=str)) if reasons else '',
            o['summary']['missing'], o['summary']['failed'],
            ' (%s)' % _first(f['workspace_id'] for f in o['failed_workspaces']) if o['failed_workspaces'] else '',
            ', REGION FAILED: %s (%d not attempted)' % (o['error'], len(o['not_attempted'])) if o['error'] else ''))
        if check_mode and o[done]:
            lines.append('  %s would %s: %s' % (region, config['verb'], _first(o[done], 50)))
    lines.append('total: %s %d, %s %d, skipped %d, missing %d, failed %d, regions %d (%d failed)%s' % (
        verb, totals[done], already.replace('_', ' '), totals[already], totals['skipped'], totals['missing'], totals['failed'],
        totals['regions'], totals['failed_regions'], '; max_count applies to this job slice' if plan['mode'] == 'inventory' else ''))
    message = None
    if failures:
        message = ('%d WorkSpaces failed to %s: %s. Every region was attempted; see %s_result for every outcome.' % (
            len(failures), config['verb'], '; '.join('%s in %s (%s: %s)' % (f['workspace_id'], f['region'], f['error_code'], f['error_message'])
                                                     for f in failures[:20]) + (' and %d more' % (len(failures) - 20) if len(failures) > 20 else ''),
            config['prefix']))
    elif check_mode and plan['max_count_exceeded']:
        message = max_count_message(plan, action, check_mode)
    hosts = {w: h for entry in plan['regions'].values() for w, h in entry['hosts'].items() if h} if account_hosts in ('failed', 'all') else {}
    stats = {'check_mode': check_mode, 'mode': plan['mode'], 'totals': totals, 'summary': lines,
             'regions': {r: dict(o['summary'], error=o['error']) for r, o in regions.items()},
             'failed_workspaces': [f['workspace_id'] for f in failures], 'excluded': [e['workspace_id'] for e in plan['excluded']]}
    deferred = bool(failures) and all(f['workspace_id'] in hosts for f in failures)
    return {'result': result, 'summary': lines, 'stats': stats, 'fail_message': None if deferred else message,
            'failed_hosts': [{'host': hosts[f['workspace_id']],
                              'message': '%s in %s: %s: %s' % (f['workspace_id'], f['region'], f['error_code'], f['error_message'])}
                             for f in failures if f['workspace_id'] in hosts],
            'changed_hosts': [hosts[w] for o in regions.values() for w in o[done] if w in hosts] if account_hosts == 'all' else []}


REPORT_FIELDS = ('region', 'workspace_id', 'directory_id', 'user_name', 'outcome', 'reason', 'error_code', 'state_before',
                 'state_after', 'idle_minutes')


def report_rows(plan, result, action, wait=True):
    """One row per desktop of the run (requested, excluded, not found) for the audit report, in REPORT_FIELDS."""
    config, check_mode = ACTIONS[action], result['check_mode']
    rows = []

    def row(region, workspace_id, outcome, reason=None, code=None, after=None, idle=None, detail=None):
        detail = detail or plan['regions'].get(region, {}).get('details', {}).get(workspace_id, {})
        before = detail.get('state')
        rows.append({'region': region, 'workspace_id': workspace_id, 'directory_id': detail.get('directory_id'),
                     'user_name': detail.get('user_name'), 'outcome': outcome, 'reason': reason, 'error_code': code,
                     'state_before': before, 'state_after': before if after is None else after, 'idle_minutes': idle})

    done = config['done']
    for region, o in result['regions'].items():
        for w in o[done]:
            row(region, w, 'would_' + config['verb'] if check_mode else done, after=None if check_mode else config['done_state'][wait])
        for w in o[config['already']]:
            row(region, w, config['already'])
        for e in o['skipped_workspaces']:
            row(region, e['workspace_id'], 'skipped', e.get('reason'), idle=e.get('idle_minutes'))
        for w in o['missing']:
            row(region, w, 'missing', 'not found in the region')
        for f in o['failed_workspaces']:
            row(region, f['workspace_id'], 'failed', f.get('error_message'), f.get('error_code'), after=f.get('state'))
        for w in o['not_attempted']:
            row(region, w, 'not_attempted', o['error'])
    for e in plan['excluded']:
        row(e['region'], e['workspace_id'], 'excluded', 'opt-out tag %s' % ', '.join(e['excluded_by']), detail=e)
    for w in plan['not_found']:
        row(None, w, 'not_found', 'found in no region searched')
    return rows
