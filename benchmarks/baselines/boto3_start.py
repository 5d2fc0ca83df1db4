# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baseline of the start scenario: the boto3 script a user would write to start desktops by id (minimal, sequential).

For each region of the ids file (JSON ``{region: [ids]}``), one after another, the same work as ``module-start``:

1. DescribeWorkspaces for the ids, 25 a call: their state and running mode;
2. keep the startable ones (STOPPED, running mode AUTO_STOP or MANUAL);
3. StartWorkspaces, 25 a call;
4. poll DescribeWorkspaces (25 a call, only the desktops not yet AVAILABLE) every ``--poll-interval`` seconds until
   every started desktop is AVAILABLE, or fail after ``--timeout`` seconds.

It uses botocore's default retry mode and no other safety rail. Prints a JSON summary; exit 1 when a desktop failed.
Run with the .venv Python: ``python benchmarks/baselines/boto3_start.py --ids-file ids.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import boto3

from boto3_stop import batches  # pylint: disable=import-error  # the stop baseline, beside this script
from boto3_stop import describe  # pylint: disable=import-error


def start_region(session, region, ids, poll_interval, timeout):
    workspaces = session.client('workspaces', region_name=region)
    desktops = describe(workspaces, ids)
    to_start = [i for i, d in desktops.items()
                if d['State'] == 'STOPPED' and d.get('WorkspaceProperties', {}).get('RunningMode') in ('AUTO_STOP', 'MANUAL')]
    failed = {}
    for batch in batches(to_start):
        response = workspaces.start_workspaces(StartWorkspaceRequests=[{'WorkspaceId': i} for i in batch])
        for failure in response.get('FailedRequests', []):
            failed[failure['WorkspaceId']] = failure.get('ErrorCode')
    pending = [i for i in to_start if i not in failed]
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        time.sleep(poll_interval)
        states = describe(workspaces, pending)
        for workspace_id in pending:
            state = states.get(workspace_id, {}).get('State')
            if state not in ('STARTING', 'STOPPED', 'AVAILABLE'):
                failed[workspace_id] = 'state %s' % state
        pending = [i for i in pending if states.get(i, {}).get('State') in ('STARTING', 'STOPPED')]
    for workspace_id in pending:
        failed[workspace_id] = 'timeout'
    return {'region': region, 'requested': len(ids), 'started': len(to_start) - len(failed), 'failed': failed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--ids-file', required=True, help='JSON {region: [workspace ids]}')
    parser.add_argument('--poll-interval', type=float, default=1.0)
    parser.add_argument('--timeout', type=float, default=600.0)
    args = parser.parse_args(argv)
    with open(args.ids_file, encoding='utf-8') as handle:
        by_region = json.load(handle)
    session = boto3.session.Session()
    results = [start_region(session, region, ids, args.poll_interval, args.timeout) for region, ids in by_region.items() if ids]
    print(json.dumps(results))
    return 1 if any(r['failed'] for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
