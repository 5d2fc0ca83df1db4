# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doc fragment of the read concurrency shared by workspaces_stop, workspaces_info and the workspaces inventory plugin.

The matching argument spec is ``CONCURRENCY_ARGUMENT_SPEC`` in ``plugins/module_utils/module.py`` (default and bounds
in ``plugins/module_utils/client.py``); keep them in step.
"""
from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  concurrent_reads:
    description:
      - "How many read requests this task may have in flight at once in its region: C(DescribeWorkspaces) of up to
        25 IDs (also while waiting) or of one directory, and C(DescribeWorkspacesConnectionStatus) of up to 25 IDs."
      - Only reads, which change nothing, run concurrently. Each is retried on its own on throttling
        (C(ThrottlingException)) and transient errors, with jittered backoff, so a busy account slows down instead of failing.
        The number of calls does not change, only how many are waiting for AWS at the same time.
      - "Always one after another: the pages of one listing (each needs the previous C(NextToken)), the C(GetResources)
        pages of the Resource Groups Tagging API, and C(StopWorkspaces): M(fleetops.workspaces.workspaces_stop) never sends
        two stop requests at once, and with O(fleetops.workspaces.workspaces_stop#module:skip_connected=true) it still checks
        the connections of each batch right before stopping it."
      - Use C(1) to read one request at a time (as a simple script does), for example when other tools share a tight API
        rate in the account. At most C(10) (the connection pool of one boto3 client).
    type: int
    default: 4
"""
