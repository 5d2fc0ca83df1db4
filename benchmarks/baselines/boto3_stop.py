# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baseline A: the boto3 script a user would write instead of the collection (minimal, correct, sequential).

For each region, one after another, the same work as the role selecting by tag (``role-tag``):

1. GetResources, pages of 100, filtered by the tag server-side: the ids of the tagged desktops;
2. DescribeWorkspaces for those ids, 25 a call: their state and running mode;
3. keep the stoppable ones (AVAILABLE / IMPAIRED / UNHEALTHY / ERROR, running mode AUTO_STOP or MANUAL);
4. DescribeWorkspacesConnectionStatus for them, 25 a call: leave connected users alone;
5. StopWorkspaces, 25 a call;
6. poll DescribeWorkspaces (25 a call, only the desktops not yet STOPPED) every ``--poll-interval`` seconds until
   every stopped desktop is STOPPED, or fail after ``--timeout`` seconds.

It uses botocore's default retry mode and no other safety rail. Prints a JSON summary; exit 1 when a desktop failed.
Run with the .venv Python: ``python benchmarks/baselines/boto3_stop.py --regions us-east-1,eu-west-1 --tag Schedule=office-hours``
(AWS_ENDPOINT_URL and credentials from the environment).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import boto3

STOPPABLE_STATES = {'AVAILABLE', 'IMPAIRED', 'UNHEALTHY', 'ERROR'}


def batches(items, size=25):
    return [items[i:i + size] for i in range(0, len(items), size)]


def tagged_ids(tagging, key, value):
    ids = []
    paginator = tagging.get_paginator('get_resources')
    pages = paginator.paginate(ResourceTypeFilters=['workspaces:workspace'], TagFilters=[{'Key': key, 'Values': [value]}], ResourcesPerPage=100)
    for page in pages:
        for mapping in page['ResourceTagMappingList']:
            ids.append(mapping['ResourceARN'].rsplit('/', 1)[1])
    return ids


def describe(workspaces, ids):
    found = {}
    for batch in batches(ids):
        for desktop in workspaces.describe_workspaces(WorkspaceIds=batch)['Workspaces']:
            found[desktop['WorkspaceId']] = desktop
    return found


def stop_region(session, region, key, value, poll_interval, timeout):
    workspaces = session.client('workspaces', region_name=region)
    tagging = session.client('resourcegroupstaggingapi', region_name=region)
    desktops = describe(workspaces, tagged_ids(tagging, key, value))
    candidates = [i for i, d in desktops.items()
                  if d['State'] in STOPPABLE_STATES and d.get('WorkspaceProperties', {}).get('RunningMode') in ('AUTO_STOP', 'MANUAL')]
    connected = set()
    for batch in batches(candidates):
        for status in workspaces.describe_workspaces_connection_status(WorkspaceIds=batch)['WorkspacesConnectionStatus']:
            if status.get('ConnectionState') == 'CONNECTED':
                connected.add(status['WorkspaceId'])
    to_stop = [i for i in candidates if i not in connected]
    failed = {}
    for batch in batches(to_stop):
        response = workspaces.stop_workspaces(StopWorkspaceRequests=[{'WorkspaceId': i} for i in batch])
        for failure in response.get('FailedRequests', []):
            failed[failure['WorkspaceId']] = failure.get('ErrorCode')
    pending = [i for i in to_stop if i not in failed]
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        time.sleep(poll_interval)
        states = describe(workspaces, pending)
        for workspace_id in pending:
            state = states.get(workspace_id, {}).get('State')
            if state not in ('STOPPING', 'STOPPED'):
                failed[workspace_id] = 'state %s' % state
        pending = [i for i in pending if states.get(i, {}).get('State') == 'STOPPING']
    for workspace_id in pending:
        failed[workspace_id] = 'timeout'
    return {'region': region, 'tagged': len(desktops), 'stopped': len(to_stop) - len(failed), 'connected': len(connected), 'failed': failed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--regions', required=True, help='comma-separated regions')
    parser.add_argument('--tag', required=True, help='KEY=VALUE')
    parser.add_argument('--poll-interval', type=float, default=1.0)
    parser.add_argument('--timeout', type=float, default=600.0)
    args = parser.parse_args(argv)
    key, value = args.tag.split('=', 1)
    session = boto3.session.Session()
    results = [stop_region(session, region, key, value, args.poll_interval, args.timeout) for region in args.regions.split(',')]
    print(json.dumps(results))
    return 1 if any(r['failed'] for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
