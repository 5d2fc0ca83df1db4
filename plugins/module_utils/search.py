# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the desktops of one region that match a query: the calls :mod:`query` decides on, made through :mod:`client`.

Used by ``workspaces_info`` and the ``workspaces`` inventory plugin; ``workspaces_stop`` / ``workspaces_start`` use
:func:`to_desktop`. What matches, and which calls a query needs, is pure and lives in :mod:`query`.
"""
from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.fleetops.workspaces.plugins.module_utils import client as ws_client
from ansible_collections.fleetops.workspaces.plugins.module_utils import query
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import utc_now


def to_desktop(workspace, region):
    """DescribeWorkspaces entry -> snake_case dict with ``region`` and ``running_mode`` (timestamps as ISO strings)."""
    desktop = boto3_resource_to_ansible_dict(workspace, transform_tags=False, force_tags=False)
    desktop['region'] = region
    desktop['running_mode'] = (desktop.get('workspace_properties') or {}).get('running_mode')
    return desktop


# --- the query ----------------------------------------------------------------------------------------------
def _describe(workspaces_client, selector, filters, concurrency):
    kind, value = selector
    if kind == query.BY_IDS:
        return ws_client.describe_workspaces_by_ids(workspaces_client, value, concurrency) if value else []
    if kind == query.BY_DIRECTORIES:
        return ws_client.describe_workspaces_in_directories(workspaces_client, value, filters.get('user_name'), concurrency)
    if kind == query.BY_BUNDLE:
        return ws_client.describe_workspaces(workspaces_client, bundle_id=value)
    return ws_client.describe_workspaces(workspaces_client)


def find_workspaces(workspaces_client, tagging_client, region, filters, concurrency=1, now=utc_now):
    """Return the desktops of one region matching ``filters`` (from :func:`query.normalize_filters`), sorted by id.

    Both clients must be retry-wrapped (``retry_decorator``); ``tagging_client`` is only used when tags are
    needed. ``concurrency``: WorkSpaces read requests in flight at once (batches of ids, directories). ``now``: the
    clock that ``idle_minutes`` and ``min_idle_minutes`` are measured with (read once, after the connection check).
    botocore errors propagate to the caller.
    """
    if query.matches_nothing(filters):
        return []

    tags_by_id = None
    candidate_ids = filters['workspace_ids']
    if filters['tags']:
        tags_by_id = ws_client.get_workspace_tags(tagging_client, query.tag_filters(filters['tags']))
        if candidate_ids is None:
            candidate_ids = sorted(tags_by_id)
        else:
            candidate_ids = [i for i in candidate_ids if i in tags_by_id]
        if not candidate_ids:
            return []
    candidate_set = None if candidate_ids is None else set(candidate_ids)

    selector = query.choose_selector(filters, candidate_ids, from_tags=bool(filters['tags']))
    desktops = {}
    for workspace in _describe(workspaces_client, selector, filters, concurrency):
        desktop = to_desktop(workspace, region)
        if query.matches_description(desktop, filters, candidate_set):
            desktops[desktop['workspace_id']] = desktop
    matching = [desktops[i] for i in sorted(desktops)]

    if matching and tags_by_id is None and query.needs_tags(filters):
        tags_by_id = ws_client.get_workspace_tags(tagging_client)
    if tags_by_id is not None:
        for desktop in matching:
            desktop['tags'] = dict(tags_by_id.get(desktop['workspace_id'], {}))
        matching = [d for d in matching if query.matches_tags(d, filters)]

    if matching and filters['include_connection_status']:
        status = ws_client.describe_connection_status(workspaces_client, [d['workspace_id'] for d in matching], concurrency)
        checked_at = now()
        for desktop in matching:
            query.add_connection_status(desktop, status.get(desktop['workspace_id']), checked_at)
        matching = [d for d in matching if query.matches_connection(d, filters['connection_states'])
                    and query.matches_idle(d, filters.get('min_idle_minutes'), checked_at)]
    return matching
