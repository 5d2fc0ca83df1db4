# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs and the short main() bodies of the collection's modules."""
from __future__ import annotations

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.basic import env_fallback

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.fleetops.workspaces.plugins.module_utils import client as ws_client
from ansible_collections.fleetops.workspaces.plugins.module_utils import plan as ws_plan
from ansible_collections.fleetops.workspaces.plugins.module_utils import results as ws_results
from ansible_collections.fleetops.workspaces.plugins.module_utils.controller import stop_when_gone
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import normalize_descriptions
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import validate_workspace_ids
from ansible_collections.fleetops.workspaces.plugins.module_utils.stop import MissingWorkspacesError
from ansible_collections.fleetops.workspaces.plugins.module_utils.stop import StartRun
from ansible_collections.fleetops.workspaces.plugins.module_utils.stop import StopRun

# AWX's "Amazon Web Services" credential exports the STS token as AWS_SESSION_TOKEN and AWS_SECURITY_TOKEN (AWX 21.11+),
# older AWX and Tower as AWS_SECURITY_TOKEN only, which amazon.aws 10+ no longer reads for modules: without this fallback
# a temporary key from an older controller would be sent without its token and rejected.
SESSION_TOKEN_ENV = ['AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN']


def connection_argument_spec():
    """amazon.aws's connection options, with AWS_SECURITY_TOKEN also read for session_token."""
    token = dict(aws_argument_spec()['session_token'])
    token['fallback'] = (env_fallback, SESSION_TOKEN_ENV)
    return {'session_token': token}


def aws_module(argument_spec, **kwargs):
    """AnsibleAWSModule with the collection's connection options merged in."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    return AnsibleAWSModule(argument_spec=spec, **kwargs)


# Shared by both modules (doc fragment fleetops.workspaces.concurrency).
CONCURRENCY_ARGUMENT_SPEC = dict(
    concurrent_reads=dict(type='int', default=ws_client.DEFAULT_CONCURRENT_READS),
)

# Seconds the whole workspaces_stop / workspaces_start run may take, retries and the wait included (documented in each).
DEFAULT_TIMEOUT = 1800

# The options workspaces_stop and workspaces_start share; each adds its own connection options.
ACTION_ARGUMENT_SPEC = dict(
    workspace_ids=dict(type='list', elements='str'),
    workspaces=dict(type='list', elements='dict'),
    return_workspaces=dict(type='bool', default=True),
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=600),
    timeout=dict(type='int', default=DEFAULT_TIMEOUT),
    ignore_missing=dict(type='bool', default=False),
)
ACTION_ARGUMENT_SPEC.update(CONCURRENCY_ARGUMENT_SPEC)
STOP_ARGUMENT_SPEC = dict(ACTION_ARGUMENT_SPEC, skip_connected=dict(type='bool', default=True), min_idle_minutes=dict(type='int', default=0))
START_ARGUMENT_SPEC = dict(ACTION_ARGUMENT_SPEC, used_within_days=dict(type='int', default=0))


def warn(module, message):
    """Warn through the wrapped AnsibleModule.

    amazon.aws 11's AnsibleAWSModule.warn() also copies its warnings into the result as ``warnings=``,
    which ansible-core 2.19+ shows a second time with a deprecation warning.
    """
    getattr(module, '_module', module).warn(message)


NO_CREDENTIALS_HINT = (
    'Provide AWS credentials with the environment variables AWS_ACCESS_KEY_ID and '
    'AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN or AWS_SECURITY_TOKEN for temporary ones), AWS_PROFILE, '
    'the access_key / secret_key / profile options (for example through module_defaults for '
    'group/fleetops.workspaces.workspaces), an instance role, or in AWX an "Amazon Web Services" credential on the job template'
)


def fail_aws(module, exception, msg):
    """fail_json_aws, with what to do when the problem is missing credentials."""
    if isinstance(exception, botocore.exceptions.NoCredentialsError):
        module.fail_json(msg='%s: %s. %s.' % (msg, exception, NO_CREDENTIALS_HINT))
    if ws_client.is_credentials_error(exception):
        msg += ': AWS no longer accepts the credentials (they have expired or been revoked); run again with fresh credentials'
    module.fail_json_aws(exception, msg=msg)


def validate_min_idle_minutes(min_idle_minutes, skip_connected):
    """Error messages (a list) for min_idle_minutes, which implies the connection check of skip_connected."""
    if min_idle_minutes < 0:
        return ['min_idle_minutes must be 0 (off) or a positive number of minutes, got %s' % min_idle_minutes]
    if min_idle_minutes and skip_connected is False:
        return ['min_idle_minutes=%s needs the connection check, but skip_connected is false: a desktop idle that long has '
                'no connected user, so remove skip_connected=false (or set min_idle_minutes=0 to stop connected users too)'
                % min_idle_minutes]
    return []


def validate_used_within_days(used_within_days):
    if used_within_days < 0:
        return ['used_within_days must be 0 (off) or a positive number of days, got %s' % used_within_days]
    return []


def _stop_run(params, **kwargs):
    return StopRun(None, skip_connected=params['skip_connected'], min_idle_minutes=params['min_idle_minutes'], **kwargs)


def _start_run(params, **kwargs):
    return StartRun(None, used_within_days=params['used_within_days'], **kwargs)


# What differs between workspaces_stop and workspaces_start: configuration, not code.
MODULES = {
    'stop': {'spec': STOP_ARGUMENT_SPEC, 'action': ws_plan.STOP_ACTION, 'run': _stop_run,
             'validate': lambda p: validate_min_idle_minutes(p['min_idle_minutes'], p['skip_connected'])},
    'start': {'spec': START_ARGUMENT_SPEC, 'action': ws_plan.START_ACTION, 'run': _start_run,
              'validate': lambda p: validate_used_within_days(p['used_within_days'])},
}


def run_stop_module():
    run_action_module('stop')


def run_start_module():
    run_action_module('start')


def run_action_module(name):
    started = time.monotonic()  # the run's timeout counts from the start of the module
    config = MODULES[name]
    action = config['action']
    module = aws_module(config['spec'], supports_check_mode=True, mutually_exclusive=[('workspace_ids', 'workspaces')],
                        required_one_of=[('workspace_ids', 'workspaces')])
    params = module.params

    described = None
    if params['workspaces'] is not None:
        described, errors = normalize_descriptions(params['workspaces'])
        workspace_ids = [d['workspace_id'] for d in described]
    else:
        workspace_ids, errors = validate_workspace_ids(params['workspace_ids'])
    if params['wait_timeout'] <= 0:
        errors.append('wait_timeout must be a positive number of seconds, got %s' % params['wait_timeout'])
    if params['timeout'] <= 0:
        errors.append('timeout must be a positive number of seconds (the longest the whole run may take), got %s' % params['timeout'])
    errors.extend(ws_client.validate_concurrent_reads(params['concurrent_reads']))
    errors.extend(config['validate'](params))
    if errors:
        module.fail_json(msg='Invalid parameters, nothing was %s: %s' % (action.done, '; '.join(errors)))

    deadline = ws_client.Deadline(params['timeout'], start=started)
    stop_when_gone(deadline.cancel)  # an AWX cancel leaves the module running: stop sending once the controller is gone
    run = config['run'](
        params, wait=params['wait'], wait_timeout=params['wait_timeout'], check_mode=module.check_mode,
        concurrent_reads=params['concurrent_reads'], region=module.region, diff=module._diff, run_deadline=deadline,
    )
    if workspace_ids:
        run.client = module.client('workspaces', retry_decorator=ws_client.retry_decorator(deadline=deadline))
    try:
        result = run.run(workspace_ids, ignore_missing=params['ignore_missing'], described=described)
    except MissingWorkspacesError as e:
        module.fail_json(msg=ws_results.missing_message(e.missing, module.region, action), **e.result)
    except ws_client.DeadlineExceeded as e:  # only while reading the desktops, before any stop request
        module.fail_json(msg='The run timeout of %s seconds passed while reading the desktops (%s); nothing was %s. '
                             'Run again, or raise timeout.' % (params['timeout'], e, action.done), **run.result())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        partial = run.result()
        if partial[action.done]:
            module.fail_json_aws(e, msg='WorkSpaces API call failed after %d desktops were asked to %s; see %s'
                                 % (len(partial[action.done]), action.verb, action.done), **partial)
        fail_aws(module, e, 'Failed to read or %s WorkSpaces; nothing was %s' % (action.verb, action.done))

    if not params['return_workspaces']:
        result.pop('workspaces')
    for warning in ws_results.skip_warnings(result['skipped_workspaces']):
        warn(module, warning)
    if run.aborted:
        kind, exception = run.aborted
        kind = 'cancelled' if deadline.cancelled else kind
        module.fail_json(msg=ws_results.aborted_message(result, kind, exception, params['timeout'], action), **result)
    if result['failed_workspaces']:
        module.fail_json(msg=ws_results.failure_message(result, action), **result)
    module.exit_json(**result)
