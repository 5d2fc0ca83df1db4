# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The private controller-side planner of the collection's roles (documented in plugins/modules/role_planner.py).

Reads and coerces the role's variables with ansible-core's argument-spec validation (the spec is the role's own
meta/argument_specs.yml), selects, plans, runs the action module per region and reports. The decisions are made by
plugins/module_utils/role.py (pure); this file only does the I/O.
"""
from __future__ import annotations

import csv
import datetime
import json
import os

import yaml

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.fleetops.workspaces.plugins.module_utils import role as ws_role
from ansible_collections.fleetops.workspaces.plugins.plugin_utils.aws_module_defaults import aws_group_defaults

ROLES_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'roles')
INFO_MODULE = 'fleetops.workspaces.workspaces_info'
# The role variables handed to the action module unchanged (when the role defines them).
PASSED_ON = ('wait', 'wait_timeout', 'skip_connected', 'ignore_missing', 'min_idle_minutes', 'used_within_days')
REGION_ENV = ('AWS_REGION', 'AWS_DEFAULT_REGION', 'EC2_REGION')


def role_spec(role):
    with open(os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('role', 'step', 'plan', 'runs', 'region'))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        role, step = self._task.args.get('role'), self._task.args.get('step', 'plan')
        if role not in ws_role.ACTIONS or step not in ('plan', 'act', 'report'):
            raise AnsibleActionFail('role_planner is internal to the roles of fleetops.workspaces; got role=%r step=%r' % (role, step))
        self.config = ws_role.ACTIONS[role]
        result.update(getattr(self, '_' + step)(role, task_vars))
        return result

    # -- helpers ----------------------------------------------------------------------------------------------------
    def _with_defaults(self, module, args):
        """``args`` with the play's module_defaults for ``module`` (for it and group/fleetops.workspaces.workspaces, as
        ansible-core applies them, then group/aws below them, as the modules' own action plugins do)."""
        fqcn = self._shared_loader_obj.module_loader.find_plugin_with_context(module, collection_list=self._task.collections).resolved_fqcn
        try:
            from ansible.executor.module_common import _apply_action_arg_defaults  # ansible-core 2.19 and later
            args = _apply_action_arg_defaults(fqcn, self._task, args, self._templar)
        except ImportError:
            from ansible.executor.module_common import get_action_args_with_defaults
            args = get_action_args_with_defaults(fqcn, args, self._task.module_defaults, self._templar,
                                                 action_groups=self._task._parent._play._action_groups)
        missing = {k: v for k, v in aws_group_defaults(self._task.module_defaults).items() if k not in args}
        return fqcn, dict(self._templar.template(missing), **args) if missing else args

    def _run_module(self, module, args, task_vars):
        fqcn, args = self._with_defaults(module, args)
        return self._execute_module(module_name=fqcn, module_args=args, task_vars=task_vars)

    def _params(self, role, task_vars):
        """The role's variables, coerced by its argument spec (survey text becomes lists, bools, dicts and ints)."""
        spec, prefix = role_spec(role), self.config['prefix'] + '_'
        values = {}
        for name, option in spec.items():
            if name in task_vars:
                value = self._templar.template(task_vars[name])
                if option.get('type') == 'list':
                    value = ws_role.text_to_list(value)
                elif name.endswith('tags'):
                    value = ws_role.text_to_tags(value)
                values[name] = value
        checked = ArgumentSpecValidator(spec).validate(values)
        errors = list(checked.error_messages)
        params = {name[len(prefix):]: value for name, value in checked.validated_parameters.items()}
        if params.get('min_idle_minutes', 0) < 0 or (params.get('min_idle_minutes') and not params.get('skip_connected', True)):
            errors.append('%smin_idle_minutes must be 0 (off) or more minutes, and needs %sskip_connected=true (an idle check that '
                          'let connected users be stopped would defeat it); got %s with skip_connected=%s'
                          % (prefix, prefix, params.get('min_idle_minutes'), params.get('skip_connected')))
        if params.get('used_within_days', 0) < 0:
            errors.append('%sused_within_days must be 0 (off) or a positive number of days, got %s' % (prefix, params['used_within_days']))
        for name in ('wait_timeout', 'max_count'):
            if name in params and params[name] < (1 if name == 'wait_timeout' else 0):
                wanted = 'a positive number of seconds' if name == 'wait_timeout' else '0 or more'
                errors.append('%s%s must be %s, got %s' % (prefix, name, wanted, params[name]))
        return params, errors

    @staticmethod
    def _play_hostvars(task_vars):
        """(host, hostvars) of the play batch; the implicit localhost has none."""
        hostvars = task_vars.get('hostvars') or {}
        for host in task_vars.get('ansible_play_batch') or ():
            try:
                yield host, hostvars[host]
            except KeyError:
                continue

    def _default_region(self, task_vars):
        """The region amazon.aws would use: module_defaults, then the environment, then the profile's configuration."""
        dummy, args = self._with_defaults(INFO_MODULE, {})
        region = args.get('region') or next((os.environ[v] for v in REGION_ENV if os.environ.get(v)), None)
        if region:
            return region
        try:
            import botocore.session
            return botocore.session.Session(profile=args.get('profile') or None).get_config_variable('region')
        except Exception:  # pylint: disable=broad-except  # no botocore, or a profile that does not exist: no region
            return None

    # -- steps ------------------------------------------------------------------------------------------------------
    def _plan(self, role, task_vars):
        params, errors = self._params(role, task_vars)
        prefix = self.config['prefix']
        filters, selection_errors = ws_role.check_selection(params, prefix)
        errors += selection_errors
        if errors:
            raise AnsibleActionFail('Invalid variables for the fleetops.workspaces.%s role, nothing was changed: %s' % (role, '; '.join(errors)))
        desktops = [d for d in (ws_role.desktop_from_host(h, v) for h, v in self._play_hostvars(task_vars)) if d]
        need_tags = bool(filters['tags'] or filters['exclude_tags'])
        if desktops:
            mode, regions = 'inventory', params.get('regions') or ()
            errors = ws_role.inventory_errors(desktops, need_tags)
        else:
            mode = 'selectors'
            if not any(filters[s] for s in ws_role.SELECTORS) and not params.get('allow_all'):
                raise AnsibleActionFail(
                    'No WorkSpaces selected, nothing was changed (no AWS call was made): none of {0}_workspace_ids, {0}_directory_ids or '
                    '{0}_tags is set, and no host of the play comes from the fleetops.workspaces.workspaces inventory. Set a selector, run '
                    'the play on the inventory\'s hosts, or set {0}_allow_all=true to act on every desktop of the regions.'.format(prefix))
            regions = params.get('regions') or [r for r in [self._default_region(task_vars)] if r]
            if not regions:
                raise AnsibleActionFail('No region to search, nothing was changed: set %s_regions, or a region in AWS_REGION / AWS_DEFAULT_REGION, '
                                        'the AWS profile, or module_defaults for group/aws' % prefix)
            args = {k: v for k, v in filters.items() if k in ws_role.SELECTORS and v}
            for region in regions:
                found = self._run_module(INFO_MODULE, dict(args, region=region, include_tags=need_tags), task_vars)
                if found.get('failed'):
                    raise AnsibleActionFail('Could not list the WorkSpaces of region %s, nothing was changed: %s' % (region, found.get('msg')))
                desktops.extend(ws_role.desktop_from_description(d) for d in found.get('workspaces') or ())
        plan = ws_role.make_plan(desktops, filters, role, regions, params['max_count'], params.get('wait', True), mode,
                                 details=bool(params.get('report_path')))
        if plan['not_found'] and not params.get('ignore_missing'):
            errors.append('%d requested WorkSpaces were not found in %s: %s; check the ids and %s_regions, or set %s_ignore_missing=true'
                          % (len(plan['not_found']), ', '.join(regions), ws_role._first(plan['not_found']), prefix, prefix))
        if plan['max_count_exceeded'] and not self._task.check_mode:
            errors.append(ws_role.max_count_message(plan, role, False))
        if errors:
            raise AnsibleActionFail('Nothing was changed: %s' % '; '.join(errors))
        preview = ws_role.preview(plan, role, bool(self._task.check_mode), params.get('min_idle_minutes', 0), params.get('used_within_days', 0))
        return {'changed': False, 'plan': plan, 'params': params, 'preview': preview}

    def _act(self, role, task_vars):
        planned, region = self._task.args['plan'], self._task.args['region']
        entry, params = planned['plan']['regions'][region], planned['params']
        args = {k: params[k] for k in PASSED_ON if k in params}
        args.update(region=region, return_workspaces=False)
        if entry['workspaces']:
            args['workspaces'] = entry['workspaces']
        else:
            args['workspace_ids'] = entry['requested']
        controller = os.getppid()
        outcome = self._run_module(self.config['module'], args, task_vars)
        if os.getppid() != controller:
            # ansible-playbook is gone (an AWX cancel kills its process group; ansible-core runs this worker in a session of
            # its own): the module stopped sending when it noticed, and nobody can receive this result. Writing it to the dead
            # controller's queue could block this process for ever, so end it here.
            os._exit(1)  # pylint: disable=protected-access
        return outcome

    def _report(self, role, task_vars):
        planned = self._task.args['plan']
        runs = {r['item']: r for r in (self._task.args.get('runs') or {}).get('results', []) if 'item' in r}
        params = planned['params']
        report = ws_role.build_result(planned['plan'], runs, role, bool(self._task.check_mode), params.get('account_hosts', 'none'))
        if params.get('report_path'):
            rows = ws_role.report_rows(planned['plan'], report['result'], role, params.get('wait', True))
            report['result']['report_files'] = self._write_report(params['report_path'], role, rows, report['result'])
            report['summary'].append('report: %s' % ', '.join(report['result']['report_files']))
        report['ansible_facts'] = {self.config['prefix'] + '_result': report.pop('result')}
        report['changed'] = False
        return report

    @staticmethod
    def _write_report(directory, role, rows, result):
        """One JSON and one CSV file per run in ``directory`` (created if needed); returns their paths."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')
        base = os.path.join(os.path.expanduser(directory), 'workspaces-%s-%s' % (role, stamp))
        try:
            os.makedirs(os.path.dirname(base), exist_ok=True)
            with open(base + '.json', 'w', encoding='utf-8') as handle:
                json.dump({'generated_at': stamp, 'check_mode': result['check_mode'], 'mode': result['mode'], 'totals': result['totals'],
                           'fields': list(ws_role.REPORT_FIELDS), 'workspaces': rows}, handle, indent=1)
            with open(base + '.csv', 'w', encoding='utf-8', newline='') as handle:
                writer = csv.DictWriter(handle, fieldnames=ws_role.REPORT_FIELDS)
                writer.writeheader()
                writer.writerows(rows)
        except OSError as e:
            raise AnsibleActionFail('Could not write the run report to %s (the run itself is done; see the summary): %s' % (directory, e))
        return [base + '.json', base + '.csv']
