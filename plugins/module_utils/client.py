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

import functools
import threading
import time
from concurrent.futures import FIRST_EXCEPTION
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule / the inventory plugin

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.cloud import BackoffIterator
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import BATCH_SIZE  # ids per request; stop.py reads it as client.BATCH_SIZE

# Documented API limits.
TAGGING_PAGE_SIZE = 100  # GetResources ResourcesPerPage maximum

# Read requests (DescribeWorkspaces, DescribeWorkspacesConnectionStatus) one module may have in flight at once in a
# region. StopWorkspaces and StartWorkspaces are never sent concurrently. MAX is botocore's default connection pool size per client.
DEFAULT_CONCURRENT_READS = 4
MAX_CONCURRENT_READS = 10
WORKSPACE_RESOURCE_TYPE = 'workspaces:workspace'

# WorkSpaces throttles with ThrottlingException ("Rate exceeded"), which AWSRetry does not retry by default; nor does it
# retry gateway errors (502/504: botocore reports BadGateway / GatewayTimeout, or the bare status when the body has no code).
EXTRA_RETRY_CODES = [
    'ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'InternalServerError', 'RequestTimeout',
    'BadGateway', 'GatewayTimeout', '500', '502', '503', '504',
]


RETRIES = 10            # attempts per call (AWSRetry counts the first one)
RETRY_DELAY = 1         # seconds before the first retry, doubled each time (jittered), at most RETRY_MAX_DELAY
RETRY_MAX_DELAY = 30

# Errors that mean the credentials themselves are no longer accepted: every further call would fail the same way, so a
# run stops sending at once instead of reporting each remaining batch failed. These are the AWS common errors for an
# expired or unknown security token (ExpiredToken/ExpiredTokenException, 403), listed for every service.
CREDENTIAL_ERROR_CODES = frozenset(['ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'UnrecognizedClientException'])


class DeadlineExceeded(Exception):
    """The run's overall deadline passed before a call could be sent or retried.

    ``last_error`` is the botocore error of the call's last attempt, or None when the call was not sent at all.
    """

    def __init__(self, operation, last_error=None):
        self.operation = operation
        self.last_error = last_error
        detail = ' after %s: %s' % error_details(last_error) if last_error is not None else ''
        super().__init__('the deadline passed before %s could be %s%s' % (operation, 'retried' if last_error is not None else 'sent', detail))


class Deadline:
    """A point in time (``clock()``, monotonic) after which no request is sent and no retry is waited for."""

    def __init__(self, seconds, clock=time.monotonic, start=None):
        self.seconds = seconds
        self.clock = clock
        self.at = (clock() if start is None else start) + seconds
        self.cancelled = False

    def cancel(self):
        """Make the deadline pass now (the job was cancelled): no request is sent or retried after this."""
        self.cancelled = True
        self.at = float('-inf')

    def remaining(self):
        return self.at - self.clock()

    def passed(self):
        return self.remaining() <= 0


def is_credentials_error(exception):
    """True for a botocore error saying the credentials expired or are not (any longer) valid."""
    return error_details(exception)[0] in CREDENTIAL_ERROR_CODES


def retry_decorator(deadline=None, sleep=time.sleep):
    """The retry policy for every call of this collection (on top of botocore's own retries).

    Without ``deadline``: amazon.aws's ``AWSRetry.jittered_backoff`` (``ThrottlingException`` and gateway errors added).
    With a :class:`Deadline`: the same policy (AWSRetry's own error classification and backoff iterator), but no call is
    sent once the deadline has passed and no backoff sleep runs past it: :class:`DeadlineExceeded` is raised instead.
    AWSRetry's retry loop cannot do that (its sleeps know no deadline), hence this one.
    """
    if deadline is None:
        return AWSRetry.jittered_backoff(retries=RETRIES, delay=RETRY_DELAY, backoff=2.0, max_delay=RETRY_MAX_DELAY,
                                         catch_extra_error_codes=EXTRA_RETRY_CODES)

    def decorator(function):
        @functools.wraps(function)
        def retrying(*args, **kwargs):
            last_error = None
            delays = iter(BackoffIterator(delay=RETRY_DELAY, backoff=2.0, max_delay=RETRY_MAX_DELAY, jitter=True))
            for attempt in range(1, RETRIES + 1):
                if deadline.passed():
                    raise DeadlineExceeded(function.__name__, last_error)
                try:
                    return function(*args, **kwargs)
                except botocore.exceptions.ClientError as e:
                    if attempt == RETRIES or not AWSRetry.found(AWSRetry.status_code_from_exception(e), EXTRA_RETRY_CODES):
                        raise
                    last_error = e
                delay = next(delays)
                if delay >= deadline.remaining():
                    raise DeadlineExceeded(function.__name__, last_error)
                sleep(delay)
            raise last_error  # not reached: the last attempt returns or raises
        return retrying
    return decorator


class LazyClient:
    """A client created by ``factory`` on first use (any attribute), once: a query that needs no call of a service
    creates no client for it. amazon.aws creates a boto3 Session for each client, ~0.1 s of CPU; an inventory over every
    region made two per region although most regions hold no desktop to read tags of."""

    def __init__(self, factory):
        self._factory = factory
        self._client = None
        self._lock = threading.Lock()

    def __getattr__(self, name):
        with self._lock:
            if self._client is None:
                self._client = self._factory()
        return getattr(self._client, name)


def chunks(items, size=BATCH_SIZE):
    """Split a sequence into lists of at most ``size`` items, keeping order."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def validate_concurrent_reads(value, option='concurrent_reads'):
    """Error messages (a list, empty when valid) for a concurrent reads setting."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENT_READS:
        return ['%s must be a whole number from 1 (one read at a time) to %d, got %r' % (option, MAX_CONCURRENT_READS, value)]
    return []


def map_batches(function, batches, concurrency=1):
    """``[function(batch) for batch in batches]`` with at most ``concurrency`` calls running at once (threads).

    Results come back in the order of ``batches``. When a call raises, the batches not yet started are cancelled,
    the running ones are waited for, and the exception of the earliest failed batch is raised: as in a loop, a read
    that fails for good (after retries) fails the whole read. Only for reads: boto3 clients are thread-safe.
    """
    batches = list(batches)
    workers = min(max(int(concurrency or 1), 1), len(batches))
    if workers <= 1:
        return [function(batch) for batch in batches]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(function, batch) for batch in batches]
        done, dummy = wait_futures(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            for future in futures:
                future.cancel()
            wait_futures(futures)
            for future in futures:
                if not future.cancelled() and future.exception() is not None:
                    raise future.exception()
        return [future.result() for future in futures]


def _paged(call, token_in, token_out, **params):
    """Yield every page of a NextToken-style API; each page is retried on its own.

    Kept instead of botocore's paginators or amazon.aws's ``paginated_query_with_retries``: a paginator's calls cannot
    carry ``aws_retry=True`` (RetryingBotoClientWrapper never wraps ``get_paginator``), and ``paginated_query_with_retries``
    retries the whole listing from its first page when one page fails. Here a throttled page 40 of 400 costs one retried
    call, not 40. A page is followed whenever it carries a token, also when it is empty: DescribeWorkspacesConnectionStatus
    may answer an empty first page with a NextToken, so "no entry" is only concluded after the last page.
    """
    while True:
        page = call(aws_retry=True, **params)
        yield page
        token = page.get(token_out)
        if not token:
            return
        params[token_in] = token


def _all_pages(call, token_in, token_out, key, **params):
    found = []
    for page in _paged(call, token_in, token_out, **params):
        found.extend(page.get(key, []))
    return found


def describe_workspaces_by_ids(client, workspace_ids, concurrency=1):
    """Describe the given ids, 25 a call, ``concurrency`` calls at once. Unknown ids are simply absent (as in AWS)."""
    def one(batch):
        return _all_pages(client.describe_workspaces, 'NextToken', 'NextToken', 'Workspaces', WorkspaceIds=batch)
    return [w for found in map_batches(one, chunks(workspace_ids), concurrency) for w in found]


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
    return _all_pages(client.describe_workspaces, 'NextToken', 'NextToken', 'Workspaces', **params)


def describe_workspaces_in_directories(client, directory_ids, user_name=None, concurrency=1):
    """Describe every desktop of each directory (UserName narrows server-side), ``concurrency`` directories at once.

    The pages of one directory are read one after another (each needs the previous page's NextToken)."""
    def one(directory_id):
        return describe_workspaces(client, directory_id=directory_id, user_name=user_name)
    return [w for found in map_batches(one, list(directory_ids), concurrency) for w in found]


def describe_connection_status(client, workspace_ids, concurrency=1):
    """Return {workspace_id: status dict} for the given ids, 25 a call, ``concurrency`` calls at once.
    Ids without an entry are absent."""
    def one(batch):
        return _all_pages(client.describe_workspaces_connection_status, 'NextToken', 'NextToken', 'WorkspacesConnectionStatus', WorkspaceIds=batch)
    return {entry['WorkspaceId']: entry for found in map_batches(one, chunks(workspace_ids), concurrency) for entry in found}


def workspace_id_from_arn(arn):
    """``arn:aws:workspaces:REGION:ACCOUNT:workspace/ws-abc`` -> ``ws-abc`` (None for other resources)."""
    parsed = parse_aws_arn(arn or '') or {}
    if parsed.get('service') != 'workspaces' or parsed.get('resource_type') != 'workspace':
        return None
    return parsed.get('resource_id') or None


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
                tags[workspace_id] = boto3_tag_list_to_ansible_dict(mapping.get('Tags', []))
    return tags


def error_details(exception):
    """(code, message) of a botocore exception, for per-desktop failure reports."""
    response = getattr(exception, 'response', None) or {}
    error = response.get('Error', {})
    code = error.get('Code') or type(exception).__name__
    message = error.get('Message') or str(exception)
    return code, message


def stop_workspaces(client, workspace_ids):
    """StopWorkspaces for every id, 25 a call; see :func:`change_state`."""
    return change_state(client, 'stop', workspace_ids)


def start_workspaces(client, workspace_ids):
    """StartWorkspaces for every id, 25 a call; see :func:`change_state`."""
    return change_state(client, 'start', workspace_ids)


def change_state(client, action, workspace_ids):
    """Request a stop or a start (``action``) for every id, 25 a call, and return the failures as a list of dicts.

    A batch whose call fails outright (after retries) does not stop the run: each of its ids is
    reported with the call's error code and message, and the remaining batches are still sent.
    Except when the credentials are no longer accepted (:func:`is_credentials_error`) or the deadline passed
    (:class:`DeadlineExceeded`): those are raised, since no further call can succeed; callers that need to know which
    batches were accepted before that call this one batch at a time.
    Returns [{'WorkspaceId', 'ErrorCode', 'ErrorMessage'}] as AWS's FailedRequests.
    """
    call = client.stop_workspaces if action == 'stop' else client.start_workspaces
    key = 'StopWorkspaceRequests' if action == 'stop' else 'StartWorkspaceRequests'
    failed = []
    for batch in chunks(workspace_ids):
        try:
            response = call(aws_retry=True, **{key: [{'WorkspaceId': w} for w in batch]})
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            if is_credentials_error(e):
                raise
            code, message = error_details(e)
            failed.extend({'WorkspaceId': w, 'ErrorCode': code, 'ErrorMessage': message} for w in batch)
            continue
        failed.extend(response.get('FailedRequests', []))
    return failed
