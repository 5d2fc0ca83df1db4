# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client layer of fleetops.workspaces: every WorkSpaces and tagging API call lives here.

It owns batching (25 ids a call, the API limit), pagination (NextToken / PaginationToken loops,
each page retried on its own), retries (``AWSRetry.jittered_backoff`` with ``ThrottlingException``
added; every call passes ``aws_retry=True``) and nothing else: no planning, no Ansible module.
Callers pass clients made with :func:`retry_decorator` (modules: ``module.client(..., retry_decorator=...)``).
"""
from __future__ import annotations

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule / the inventory plugin

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Documented API limits.
BATCH_SIZE = 25          # StopWorkspaces, DescribeWorkspaces(WorkspaceIds), DescribeWorkspacesConnectionStatus
TAGGING_PAGE_SIZE = 100  # GetResources ResourcesPerPage maximum
WORKSPACE_RESOURCE_TYPE = 'workspaces:workspace'

# WorkSpaces throttles with ThrottlingException ("Rate exceeded"), which AWSRetry does not retry by default; nor does it
# retry gateway errors (502/504: botocore reports BadGateway / GatewayTimeout, or the bare status when the body has no code).
EXTRA_RETRY_CODES = [
    'ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'InternalServerError', 'RequestTimeout',
    'BadGateway', 'GatewayTimeout', '500', '502', '503', '504',
]


def retry_decorator():
    """The retry policy for every call of this collection (on top of botocore's own retries)."""
    return AWSRetry.jittered_backoff(retries=10, delay=1, backoff=2.0, max_delay=30, catch_extra_error_codes=EXTRA_RETRY_CODES)


def chunks(items, size=BATCH_SIZE):
    """Split a sequence into lists of at most ``size`` items, keeping order."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _paged(call, token_in, token_out, **params):
    """Yield every page of a NextToken-style API; each page is retried on its own."""
    while True:
        page = call(aws_retry=True, **params)
        yield page
        token = page.get(token_out)
        if not token:
            return
        params[token_in] = token


def describe_workspaces_by_ids(client, workspace_ids):
    """Describe the given ids, 25 a call. Unknown ids are simply absent from the result (as in AWS)."""
    found = []
    for batch in chunks(workspace_ids):
        for page in _paged(client.describe_workspaces, 'NextToken', 'NextToken', WorkspaceIds=batch):
            found.extend(page.get('Workspaces', []))
    return found


def describe_workspaces(client, directory_id=None, bundle_id=None, user_name=None, workspace_name=None):
    """Describe every desktop matching one server-side selector (a directory, or a bundle, or none: all)."""
    params = {}
    if directory_id:
        params['DirectoryId'] = directory_id
        if user_name:
            params['UserName'] = user_name
    elif bundle_id:
        params['BundleId'] = bundle_id
    if workspace_name:
        params['WorkspaceName'] = workspace_name
    found = []
    for page in _paged(client.describe_workspaces, 'NextToken', 'NextToken', **params):
        found.extend(page.get('Workspaces', []))
    return found


def describe_connection_status(client, workspace_ids):
    """Return {workspace_id: status dict} for the given ids, 25 a call. Ids without an entry are absent."""
    status = {}
    for batch in chunks(workspace_ids):
        for page in _paged(client.describe_workspaces_connection_status, 'NextToken', 'NextToken', WorkspaceIds=batch):
            for entry in page.get('WorkspacesConnectionStatus', []):
                status[entry['WorkspaceId']] = entry
    return status


def workspace_id_from_arn(arn):
    """``arn:aws:workspaces:REGION:ACCOUNT:workspace/ws-abc`` -> ``ws-abc`` (None for other resources)."""
    resource = arn.split(':', 5)[-1] if arn.count(':') >= 5 else ''
    kind, dummy, ident = resource.partition('/')
    return ident if kind == 'workspace' and ident else None


def get_workspace_tags(tagging_client, tag_filters=None):
    """Return {workspace_id: {key: value}} for every tagged desktop in the client's region.

    One GetResources call per 100 desktops (Resource Groups Tagging API), optionally narrowed
    server-side by ``tag_filters`` ([{'Key': k, 'Values': [...]}]). Untagged desktops never appear.
    """
    params = {'ResourceTypeFilters': [WORKSPACE_RESOURCE_TYPE], 'ResourcesPerPage': TAGGING_PAGE_SIZE}
    if tag_filters:
        params['TagFilters'] = tag_filters
    tags = {}
    for page in _paged(tagging_client.get_resources, 'PaginationToken', 'PaginationToken', **params):
        for mapping in page.get('ResourceTagMappingList', []):
            workspace_id = workspace_id_from_arn(mapping.get('ResourceARN', ''))
            if workspace_id:
                tags[workspace_id] = {t['Key']: t['Value'] for t in mapping.get('Tags', [])}
    return tags


def error_details(exception):
    """(code, message) of a botocore exception, for per-desktop failure reports."""
    response = getattr(exception, 'response', None) or {}
    error = response.get('Error', {})
    code = error.get('Code') or type(exception).__name__
    message = error.get('Message') or str(exception)
    return code, message


def stop_workspaces(client, workspace_ids):
    """Request a stop for every id, 25 a call, and return the failures as a list of dicts.

    A batch whose call fails outright (after retries) does not stop the run: each of its ids is
    reported with the call's error code and message, and the remaining batches are still sent.
    Returns [{'WorkspaceId', 'ErrorCode', 'ErrorMessage'}] as AWS's FailedRequests.
    """
    failed = []
    for batch in chunks(workspace_ids):
        try:
            response = client.stop_workspaces(aws_retry=True, StopWorkspaceRequests=[{'WorkspaceId': w} for w in batch])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            code, message = error_details(e)
            failed.extend({'WorkspaceId': w, 'ErrorCode': code, 'ErrorMessage': message} for w in batch)
            continue
        failed.extend(response.get('FailedRequests', []))
    return failed
