# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The query layer: which desktops match ids, directories, user, bundle, tags, state and connection.

Shared by ``workspaces_info``, the ``workspaces`` inventory plugin and the ``stop`` and ``start`` roles. The shared
option spec (:data:`FILTER_ARGUMENT_SPEC`) is documented by the doc fragment ``fleetops.workspaces.filters``.
:func:`search.find_workspaces` makes the calls (through :mod:`client`, so batched, paginated and retried); this module
decides which, and imports nothing of boto3 or amazon.aws, so that the roles' controller-side planner loads it cheaply:

* ``DescribeWorkspaces`` takes one server-side selector only. The one that returns the fewest desktops
  is used: ids (⌈n/25⌉ calls), else one query per directory (with ``UserName`` when a user is given),
  else the bundle, else the whole region (⌈N/25⌉ calls, at least one). Every other filter is applied here.
* Tags are not in DescribeWorkspaces output: ``GetResources`` (Resource Groups Tagging API, 100 desktops a
  call) reads them, region-wide, narrowed server-side by ``tags`` when given. With a ``tags`` filter it runs
  first and its ids replace the selector when describing them by id can cost no more calls than the selector
  (⌈k/25⌉ <= the selector's minimum); without one it runs last, and only if a desktop is left to tag.
* ``DescribeWorkspacesConnectionStatus`` only when connection status is asked for (also by ``connection_states``
  and ``min_idle_minutes``), ⌈M/25⌉ calls for the M desktops left after every other filter.

Everything here is a plain function over plain dicts, unit-tested without AWS.
"""
from __future__ import annotations

import re

from ansible_collections.fleetops.workspaces.plugins.module_utils import plan as ws_plan
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import connection_decision
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import connection_facts
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import utc_now
from ansible_collections.fleetops.workspaces.plugins.module_utils.plan import validate_workspace_ids

# Enumerations of the WorkSpaces API (botocore service model); the states and running modes live with the state table.
WORKSPACE_STATES = ws_plan.WORKSPACE_STATES
RUNNING_MODES = ws_plan.RUNNING_MODES
CONNECTION_STATES = ('CONNECTED', 'DISCONNECTED', 'UNKNOWN')

# The API's own patterns (DirectoryId also admits the wsd- directories of WorkSpaces Pools).
DIRECTORY_ID_PATTERN = r'^(d-[0-9a-f]{8,63}|wsd-[0-9a-z]{8,63})$'
BUNDLE_ID_PATTERN = r'^wsb-[0-9a-z]{8,63}$'
_DIRECTORY_ID_RE = re.compile(DIRECTORY_ID_PATTERN)
_BUNDLE_ID_RE = re.compile(BUNDLE_ID_PATTERN)

# The filter options shared by workspaces_info and the inventory plugin (doc fragment fleetops.workspaces.filters).
FILTER_ARGUMENT_SPEC = dict(
    workspace_ids=dict(type='list', elements='str'),
    directory_ids=dict(type='list', elements='str'),
    user_name=dict(type='str'),
    bundle_id=dict(type='str'),
    tags=dict(type='dict'),
    exclude_tags=dict(type='dict'),
    states=dict(type='list', elements='str', choices=list(WORKSPACE_STATES)),
    running_modes=dict(type='list', elements='str', choices=list(RUNNING_MODES)),
    connection_states=dict(type='list', elements='str', choices=list(CONNECTION_STATES)),
    include_connection_status=dict(type='bool', default=False),
    min_idle_minutes=dict(type='int', default=0),
    include_tags=dict(type='bool', default=True),
)
LIST_FILTERS = ('workspace_ids', 'directory_ids', 'states', 'running_modes', 'connection_states')

# Selectors of DescribeWorkspaces
BY_IDS = 'ids'
BY_DIRECTORIES = 'directories'
BY_BUNDLE = 'bundle'
ALL = 'all'

# Hostnames of the inventory plugin
HOSTNAME_FIELDS = ('workspace_id', 'computer_name', 'ip_address', 'user_name')
TAG_HOSTNAME_PREFIX = 'tag:'


# --- options ------------------------------------------------------------------------------------------------
def _unique(values):
    seen = set()
    return [v for v in values if not (v in seen or seen.add(v))]


def _normalize_tags(option, tags, errors):
    """Tag filter dict -> {str key: str value or None}; numbers become strings, booleans are refused."""
    if tags is None:
        return None
    if not isinstance(tags, dict):
        errors.append('%s must be a dictionary of tag keys and values, got %r' % (option, tags))
        return None
    normalized = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            errors.append('%s: tag key %r must be a non-empty string' % (option, key))
            continue
        if isinstance(value, bool):
            errors.append(
                '%s: the value of tag %r is the boolean %s; tag values are strings, quote it (for example "%s")'
                % (option, key, value, str(value).lower())
            )
            continue
        if isinstance(value, (int, float)):
            value = str(value)
        if value is not None and not isinstance(value, str):
            errors.append('%s: the value of tag %r must be a string, or null to match any value, got %r' % (option, key, value))
            continue
        normalized[key] = value
    return normalized


def normalize_filters(params):
    """Validate the filter options and return ``(filters, errors)``.

    ``params`` holds the options of :data:`FILTER_ARGUMENT_SPEC` (missing ones count as unset). ``filters``
    has every key: list filters are de-duplicated lists or None (unset), an empty list matching nothing;
    tag filters are dicts or None. ``errors`` names each bad value and what to do; nothing is queried
    when it is not empty.
    """
    errors = []
    filters = {}
    for option in LIST_FILTERS:
        value = params.get(option)
        if value is not None and (not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value)):
            errors.append('%s must be a list of strings, got %r' % (option, value))
            value = [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []
        filters[option] = None if value is None else _unique(value)

    if filters['workspace_ids'] is not None:
        filters['workspace_ids'], id_errors = validate_workspace_ids(filters['workspace_ids'])
        errors.extend(id_errors)
    for directory_id in filters['directory_ids'] or []:
        if not isinstance(directory_id, str) or not _DIRECTORY_ID_RE.match(directory_id):
            errors.append('directory id %r is not a WorkSpaces directory id: ids look like d-906732325d (d- then hexadecimal digits, or wsd-)'
                          % (directory_id,))

    filters['user_name'] = params.get('user_name') or None
    if filters['user_name'] and filters['directory_ids'] is None:
        errors.append(
            'user_name %r needs directory_ids: AWS looks users up per directory; give the directory (or directories) of the user'
            % filters['user_name']
        )
    filters['bundle_id'] = params.get('bundle_id') or None
    if filters['bundle_id'] and not _BUNDLE_ID_RE.match(filters['bundle_id']):
        errors.append('bundle_id %r is not a WorkSpaces bundle id: ids look like wsb-b0s22j3d7 (wsb- then 8 to 63 lower-case letters or digits)'
                      % filters['bundle_id'])

    for option, allowed in (('states', WORKSPACE_STATES), ('running_modes', RUNNING_MODES), ('connection_states', CONNECTION_STATES)):
        for value in filters[option] or []:
            if value not in allowed:
                errors.append('%s: %r is not one of %s' % (option, value, ', '.join(allowed)))

    filters['tags'] = _normalize_tags('tags', params.get('tags'), errors) or None
    filters['exclude_tags'] = _normalize_tags('exclude_tags', params.get('exclude_tags'), errors) or None
    filters['include_tags'] = bool(params.get('include_tags', True))
    min_idle = params.get('min_idle_minutes') or 0
    if isinstance(min_idle, bool) or not isinstance(min_idle, int) or min_idle < 0:
        errors.append('min_idle_minutes must be a whole number of minutes, 0 (off) or more, got %r' % (min_idle,))
        min_idle = 0
    filters['min_idle_minutes'] = min_idle
    filters['include_connection_status'] = (bool(params.get('include_connection_status')) or filters['connection_states'] is not None
                                            or min_idle > 0)
    return filters, errors


def matches_nothing(filters):
    """True when an empty list filter (for example ``workspace_ids: []``) rules out every desktop."""
    return any(filters.get(option) == [] for option in LIST_FILTERS)


def needs_tags(filters):
    return bool(filters['include_tags'] or filters['tags'] or filters['exclude_tags'])


# --- matching (pure) ----------------------------------------------------------------------------------------
def tag_matches(desktop_tags, key, value):
    """One tag condition: the key is present and, unless ``value`` is None, has exactly that value."""
    return key in desktop_tags and (value is None or desktop_tags[key] == value)


def tags_match_all(desktop_tags, wanted):
    """``tags`` filter: every entry matches (an empty or None filter matches every desktop)."""
    return all(tag_matches(desktop_tags or {}, k, v) for k, v in (wanted or {}).items())


def tags_match_any(desktop_tags, entries):
    """``exclude_tags`` filter: at least one entry matches (an empty or None filter matches none)."""
    return any(tag_matches(desktop_tags or {}, k, v) for k, v in (entries or {}).items())


def tag_filters(tags):
    """GetResources ``TagFilters`` for the ``tags`` filter: all must match; a None value matches the key alone."""
    return [{'Key': k} if v is None else {'Key': k, 'Values': [v]} for k, v in sorted((tags or {}).items())]


def matches_description(desktop, filters, candidate_ids=None):
    """Every filter that DescribeWorkspaces output can answer (whatever the selector applied server-side)."""
    if candidate_ids is not None and desktop.get('workspace_id') not in candidate_ids:
        return False
    if filters.get('directory_ids') is not None and desktop.get('directory_id') not in filters['directory_ids']:
        return False
    if filters.get('user_name') and (desktop.get('user_name') or '').casefold() != filters['user_name'].casefold():
        return False
    if filters.get('bundle_id') and desktop.get('bundle_id') != filters['bundle_id']:
        return False
    if filters.get('states') is not None and desktop.get('state') not in filters['states']:
        return False
    if filters.get('running_modes') is not None and desktop.get('running_mode') not in filters['running_modes']:
        return False
    return True


def matches_tags(desktop, filters):
    tags = desktop.get('tags') or {}
    return tags_match_all(tags, filters.get('tags')) and not tags_match_any(tags, filters.get('exclude_tags'))


def matches_connection(desktop, connection_states):
    """``connection_states`` filter; a desktop AWS reports no connection state for counts as UNKNOWN."""
    if connection_states is None:
        return True
    return (desktop.get('connection_state') or 'UNKNOWN') in connection_states


def matches_idle(desktop, min_idle_minutes, now):
    """``min_idle_minutes`` filter, from the connection status read with the desktop: the same decision as
    M(workspaces_stop) makes (:func:`plan.connection_decision`: no connected user, last connection at least that old;
    no connection-status entry at all does not match). 0 matches every desktop."""
    if not min_idle_minutes:
        return True
    if desktop.get('connection_state') is None:
        return False
    entry = {'ConnectionState': desktop['connection_state'],
             'LastKnownUserConnectionTimestamp': desktop.get('last_known_user_connection_timestamp')}
    return connection_decision(entry, now, min_idle_minutes)[0]


def describe_calls(count):
    """DescribeWorkspaces (or ConnectionStatus) calls for ``count`` ids: ⌈count/25⌉."""
    return -(-count // ws_plan.BATCH_SIZE)


def choose_selector(filters, candidate_ids=None, from_tags=False):
    """Pick the DescribeWorkspaces selector that returns the fewest desktops: ``(kind, value)``.

    ``candidate_ids`` are the only ids that can match (the given ``workspace_ids``, intersected with the
    desktops the ``tags`` filter found when ``from_tags``). Explicit ids always win. Ids found by tags are
    described by id when that cannot cost more calls than the selector would at the least: one per
    directory, one for a bundle, and for the whole region at least as many as the ids themselves.
    """
    if filters.get('workspace_ids') is not None:
        return BY_IDS, list(candidate_ids if candidate_ids is not None else filters['workspace_ids'])
    if from_tags and candidate_ids is not None:
        by_ids = describe_calls(len(candidate_ids))
        if filters.get('directory_ids') is not None:
            selector_minimum = len(filters['directory_ids'])
        elif filters.get('bundle_id'):
            selector_minimum = 1
        else:
            selector_minimum = by_ids  # the region holds at least these desktops
        if by_ids <= selector_minimum:
            return BY_IDS, list(candidate_ids)
    if filters.get('directory_ids') is not None:
        return BY_DIRECTORIES, list(filters['directory_ids'])
    if filters.get('bundle_id'):
        return BY_BUNDLE, filters['bundle_id']
    return ALL, None


# --- desktop dicts (pure) -----------------------------------------------------------------------------------
def add_connection_status(desktop, entry, now=None):
    """Add ``connection_state``, ``last_known_user_connection_timestamp`` (ISO 8601 UTC) and ``idle_minutes`` (by
    ``now``, the controller's clock by default): :func:`plan.connection_facts`, each None when unknown."""
    desktop.update(connection_facts(entry, now or utc_now()))
    return desktop


# --- inventory hostnames (pure) -----------------------------------------------------------------------------
def validate_hostnames(preferences, include_tags=True):
    """Errors for ``hostnames`` entries that are neither a known field nor ``tag:NAME`` (which needs the tags read)."""
    errors = []
    if not preferences:
        errors.append('hostnames must list at least one of %s or tag:NAME' % ', '.join(HOSTNAME_FIELDS))
    for preference in preferences or []:
        if not isinstance(preference, str):
            errors.append('hostnames: %r must be a string' % (preference,))
        elif preference.startswith(TAG_HOSTNAME_PREFIX):
            if not preference[len(TAG_HOSTNAME_PREFIX):]:
                errors.append('hostnames: %r names no tag; write tag:NAME, for example tag:Name' % preference)
            elif not include_tags:
                errors.append('hostnames: %r needs the tags, which include_tags=false does not read; remove one of them' % preference)
        elif preference not in HOSTNAME_FIELDS:
            errors.append('hostnames: %r is not one of %s or tag:NAME' % (preference, ', '.join(HOSTNAME_FIELDS)))
    return errors


def hostname_for(desktop, preferences):
    """The first non-empty value among ``preferences`` (fields or ``tag:NAME``), else the workspace id."""
    for preference in preferences:
        if preference.startswith(TAG_HOSTNAME_PREFIX):
            value = (desktop.get('tags') or {}).get(preference[len(TAG_HOSTNAME_PREFIX):])
        else:
            value = desktop.get(preference)
        if value:
            return str(value)
    return desktop['workspace_id']


def assign_hostnames(desktops, preferences):
    """Return ``(names, duplicates)``: ``names`` maps each workspace id to its inventory hostname.

    A name that several desktops would share (the same user in two directories, a copied tag) is given
    to none of them: each falls back to its workspace id, so no desktop hides another. ``duplicates``
    lists those names, sorted.
    """
    wanted = {d['workspace_id']: hostname_for(d, preferences) for d in desktops}
    users = {}
    for workspace_id, name in wanted.items():
        users.setdefault(name, []).append(workspace_id)
    duplicates = sorted(name for name, ids in users.items() if len(ids) > 1)
    shared = set(duplicates)
    names = {workspace_id: (workspace_id if name in shared else name) for workspace_id, name in wanted.items()}
    return names, duplicates


def region_group(region, prefix='aws_workspaces'):
    """Default group name of a region: ``aws_workspaces_us_east_1``."""
    return '%s_%s' % (prefix, re.sub(r'[^A-Za-z0-9_]', '_', region))
