# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the workspaces_info module: validate the filters, query one region, return the desktops."""
from __future__ import annotations

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.fleetops.workspaces.plugins.module_utils import client as ws_client
from ansible_collections.fleetops.workspaces.plugins.module_utils import query
from ansible_collections.fleetops.workspaces.plugins.module_utils import search
from ansible_collections.fleetops.workspaces.plugins.module_utils.module import CONCURRENCY_ARGUMENT_SPEC
from ansible_collections.fleetops.workspaces.plugins.module_utils.module import aws_module
from ansible_collections.fleetops.workspaces.plugins.module_utils.module import fail_aws

# workspaces_info reads tags only when asked (include_tags, tags or exclude_tags): a plain listing needs no
# tag:GetResources. The inventory keeps include_tags on (doc fragments fleetops.workspaces.filters.modules / .plugins).
INFO_ARGUMENT_SPEC = dict(query.FILTER_ARGUMENT_SPEC, include_tags=dict(type='bool', default=False), **CONCURRENCY_ARGUMENT_SPEC)


def run_info_module():
    module = aws_module(INFO_ARGUMENT_SPEC, supports_check_mode=True)
    filters, errors = query.normalize_filters(module.params)
    errors.extend(ws_client.validate_concurrent_reads(module.params['concurrent_reads']))
    if errors:
        module.fail_json(msg='Invalid parameters, nothing was queried: ' + '; '.join(errors))

    workspaces = []
    if not query.matches_nothing(filters):
        retry = ws_client.retry_decorator()
        workspaces_client = module.client('workspaces', retry_decorator=retry)
        tagging_client = ws_client.LazyClient(lambda: module.client('resourcegroupstaggingapi', retry_decorator=retry))
        try:
            workspaces = search.find_workspaces(workspaces_client, tagging_client, module.region, filters, module.params['concurrent_reads'])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            fail_aws(module, e, 'Failed to list WorkSpaces in %s' % module.region)
    module.exit_json(changed=False, workspaces=workspaces, count=len(workspaces))
