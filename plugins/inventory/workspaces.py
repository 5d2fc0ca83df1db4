# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: workspaces
short_description: Amazon WorkSpaces inventory source
version_added: 0.1.0
description:
  - Lists Amazon WorkSpaces desktops of one or more regions as inventory hosts, selected with the same filters as
    M(fleetops.workspaces.workspaces_info).
  - "Uses a YAML configuration file whose name ends with C(workspaces.yml) or C(workspaces.yaml), containing
    C(plugin: fleetops.workspaces.workspaces)."
  - "Every host is in the group C(aws_workspaces), through one child group per region named after it
    (C(aws_workspaces_us_east_1) for C(us-east-1))."
  - "Host variables: C(workspace_id), C(region), C(directory_id), C(user_name), C(state), C(running_mode),
    C(bundle_id), C(computer_name), C(ip_address) (V(null) while the desktop has none), C(workspace_properties),
    C(workspace_tags) (a dictionary, when tags are read, see O(include_tags)) and, with O(include_connection_status)
    or O(connection_states) or O(min_idle_minutes), C(connection_state), C(last_known_user_connection_timestamp) (ISO 8601 UTC)
    and C(idle_minutes) (whole minutes since then, when the inventory was read; a cached inventory keeps them as read),
    each V(null) when unknown."
  - "C(workspace_described_at): when the desktop was read, in ISO 8601 UTC (the start of the region's read; a cached
    inventory keeps the time of the read it cached)."
  - The tags are in C(workspace_tags), not C(tags), because C(tags) is a name reserved by Ansible.
  - "No connection variable (such as C(ansible_host)) is set: these hosts are not meant to be reached over SSH or WinRM.
    Run tasks for them on the controller (C(delegate_to: localhost)) with the AWS modules, as the role C(fleetops.workspaces.stop) does,
    or give every host the local connection with O(compose) (C(ansible_connection: \"'local'\")), so that a play with
    C(gather_facts: true) over them never tries SSH (see the example)."
  - Unknown keys in the configuration file are an error, so that a misspelt filter never widens the selection.
  - "API calls per region: as for M(fleetops.workspaces.workspaces_info) (C(DescribeWorkspaces), C(GetResources),
    C(DescribeWorkspacesConnectionStatus)); with O(regions) empty, one C(ec2:DescribeRegions) call first."
  - "Required IAM actions: C(workspaces:DescribeWorkspaces), C(tag:GetResources) (unless tags are not read),
    C(workspaces:DescribeWorkspacesConnectionStatus) (when asked for) and, with O(regions) empty, C(ec2:DescribeRegions)."
options:
  plugin:
    description: The name of this plugin; it should always be set to V(fleetops.workspaces.workspaces) for this plugin to recognize it as its own.
    required: true
    choices: ['fleetops.workspaces.workspaces']
    type: str
  regions:
    description:
      - The regions to list desktops in.
      - When empty, every region enabled for the account (C(ec2:DescribeRegions), as the amazon.aws inventory plugins
        do) where Amazon WorkSpaces is offered; a region among them whose endpoint cannot be reached is skipped with a warning.
    type: list
    elements: str
    default: []
  strict_permissions:
    description:
      - What to do when a region refuses access, as in the amazon.aws C(aws_ec2) inventory plugin (same name and default).
      - By default (V(true)) the inventory fails, naming the region and AWS's error, and lists nothing.
      - When V(false), a region whose calls are refused for permissions (C(AccessDeniedException), C(AccessDenied),
        C(UnauthorizedOperation), for example through an organisation's service control policy, or
        C(UnrecognizedClientException), C(InvalidClientTokenId), C(AuthFailure), C(OptInRequired), as from an opt-in
        region not enabled for the account) is skipped with a warning that names it and AWS's error code, and the
        desktops of the other regions are listed. This applies to the regions of O(regions) and to those found when it is
        empty. If every region refuses access the inventory fails all the same.
      - Only refusals are skipped. A region named in O(regions) whose endpoint cannot be reached, or that is still
        throttled (C(ThrottlingException)) or failing after every retry, always fails the inventory, whatever this option says.
    type: bool
    default: true
  hostnames:
    description:
      - How to name each host, as a list of preferences; the first one that has a value for a desktop is used.
      - Each entry is one of V(workspace_id), V(computer_name), V(ip_address), V(user_name), or V(tag:NAME) for the
        value of the tag C(NAME).
      - A desktop with none of them is named by its workspace ID.
      - V(tag:NAME) needs the tags, so it cannot be combined with O(include_tags=false).
      - The default, V(workspace_id), is the only name unique across regions and directories. When a name would be
        shared by several desktops (the same user in two directories, a copied tag), each of them is named by its
        workspace ID instead, with a warning.
    type: list
    elements: str
    default: [workspace_id]
extends_documentation_fragment:
  - fleetops.workspaces.filters
  - fleetops.workspaces.filters.plugins
  - fleetops.workspaces.concurrency
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - fleetops.workspaces.credentials.plugins
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
notes:
  - The filters are applied in every region listed; O(workspace_ids) and O(directory_ids) belong to one region each,
    so they are usually combined with a single entry in O(regions).
seealso:
  - module: fleetops.workspaces.workspaces_info
author:
  - fleetops.workspaces contributors (@fleetops)
"""

EXAMPLES = r"""
# inventory/aws.workspaces.yml: every AutoStop and Manual desktop of two regions that is running
plugin: fleetops.workspaces.workspaces
regions:
  - us-east-1
  - eu-west-1
states: [AVAILABLE]
running_modes: [AUTO_STOP, MANUAL]
exclude_tags:
  "autostop:exempt": ~

---
# inventory/finance.workspaces.yml: one directory, named by computer name, grouped by team tag and running mode
plugin: fleetops.workspaces.workspaces
regions: [us-east-1]
directory_ids: [d-906732325d]
hostnames: [computer_name, workspace_id]
include_connection_status: true
keyed_groups:
  - key: workspace_tags.team | default('none')
    prefix: team
  - key: running_mode
    prefix: mode
groups:
  connected: connection_state == 'CONNECTED'
compose:
  owner: user_name | lower

---
# inventory/local.workspaces.yml: hosts for plays of your own that gather facts: the local connection, never SSH
# (set ansible_python_interpreter: "{{ ansible_playbook_python }}" in the play: inventory values are not templated)
plugin: fleetops.workspaces.workspaces
regions: [eu-west-1]
compose:
  ansible_connection: "'local'"

---
# inventory/all.workspaces.yml: every region where WorkSpaces is offered, cached for an hour
plugin: fleetops.workspaces.workspaces
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/workspaces_inventory
cache_timeout: 3600
"""

import datetime
import difflib
import functools

try:
    import boto3
    import botocore
except ImportError:
    pass  # Reported by AWSInventoryBase.parse (require_aws_sdk)

from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.fleetops.workspaces.plugins.module_utils import client as ws_client
from ansible_collections.fleetops.workspaces.plugins.module_utils import query
from ansible_collections.fleetops.workspaces.plugins.module_utils import search

GROUP = 'aws_workspaces'
HOSTVAR_KEYS = (
    'workspace_id', 'region', 'directory_id', 'user_name', 'state', 'running_mode', 'bundle_id',
    'computer_name', 'ip_address', 'workspace_properties',
)
CONNECTION_KEYS = ('connection_state', 'last_known_user_connection_timestamp', 'idle_minutes')


def described_at(now=None):
    """The time of a read, as stored in the workspace_described_at hostvar: ISO 8601, UTC, whole seconds (rounded down)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat()


def host_vars(desktop):
    """The host variables of one desktop (a dict from :func:`search.find_workspaces`)."""
    variables = {key: desktop.get(key) for key in HOSTVAR_KEYS}
    if 'tags' in desktop:
        variables['workspace_tags'] = desktop['tags']
    for key in CONNECTION_KEYS:
        if key in desktop:
            variables[key] = desktop[key]
    if desktop.get('described_at'):
        variables['workspace_described_at'] = desktop['described_at']
    return variables


def unknown_keys(config, definitions):
    """Messages for configuration keys that are neither an option nor an alias, with the closest valid name."""
    known = set(definitions)
    for definition in definitions.values():
        known.update(definition.get('aliases') or [])
    messages = []
    for key in sorted(set(config) - known, key=str):
        close = difflib.get_close_matches(str(key), sorted(known), n=1)
        messages.append('%r%s' % (key, ' (did you mean %r?)' % close[0] if close else ''))
    return messages


# Error codes of a region that refuses this identity (IAM or organisation policies, an opt-in region not enabled): with
# strict_permissions false such a region is skipped. Never throttling or server errors.
ACCESS_DENIED_CODES = frozenset((
    'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation',
    'UnrecognizedClientException', 'InvalidClientTokenId', 'AuthFailure', 'OptInRequired',
))


def access_denied_code(error):
    """The AWS error code of ``error`` when it is a refusal of access (see ACCESS_DENIED_CODES), else None."""
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get('Error', {}).get('Code')
        if code in ACCESS_DENIED_CODES:
            return code
    return None


def workspaces_regions(enabled, offered):
    """Keep the enabled regions where WorkSpaces is offered (all of them when the offer is not known)."""
    if not offered:
        return list(enabled)
    offered = set(offered)
    return [region for region in enabled if region in offered]


class InventoryModule(AWSInventoryBase):
    NAME = 'fleetops.workspaces.workspaces'
    INVENTORY_FILE_SUFFIXES = ('workspaces.yml', 'workspaces.yaml')

    def __init__(self):
        super().__init__()
        self.filters = None

    def _read_config_data(self, path):
        config = super()._read_config_data(path)
        unknown = unknown_keys(config, self.option_definitions)
        if unknown:
            raise AnsibleParserError(
                '%s: unknown option(s) %s for the %s inventory plugin; see ansible-doc -t inventory %s for the options'
                % (to_native(path), ', '.join(unknown), self.NAME, self.NAME)
            )
        self.filters = self._filters()  # before any AWS call, including assume_role_arn's
        return config

    def _filters(self):
        filters, errors = query.normalize_filters({option: self.get_option(option) for option in query.FILTER_ARGUMENT_SPEC})
        errors.extend(query.validate_hostnames(self.get_option('hostnames'), query.needs_tags(filters)))
        errors.extend(ws_client.validate_concurrent_reads(self.get_option('concurrent_reads')))
        if errors:
            raise AnsibleParserError('Invalid %s inventory configuration, nothing was queried: %s' % (self.NAME, '; '.join(errors)))
        return filters

    def _regions(self):
        """(regions, discovered): the configured regions, else the enabled ones where WorkSpaces is offered."""
        if self.get_option('regions'):
            return self.get_option('regions'), False
        offered = boto3.session.Session().get_available_regions('workspaces')
        return workspaces_regions(self._boto3_regions('workspaces'), offered), True

    def _query(self, filters):
        desktops = []
        if query.matches_nothing(filters):
            return desktops
        regions, discovered = self._regions()
        retry = ws_client.retry_decorator()
        strict_permissions = self.get_option('strict_permissions')
        denied = []
        for region in regions:
            workspaces_client = self.client('workspaces', region=region, retry_decorator=retry)
            tagging_client = ws_client.LazyClient(functools.partial(self.client, 'resourcegroupstaggingapi', region=region, retry_decorator=retry))
            started = described_at()  # before the first call: the oldest a desktop of the region can have been read
            try:
                found = search.find_workspaces(workspaces_client, tagging_client, region, filters, self.get_option('concurrent_reads'))
                for desktop in found:
                    desktop['described_at'] = started
                desktops.extend(found)
            except botocore.exceptions.EndpointConnectionError as e:
                if not discovered:
                    raise AnsibleError('Failed to list WorkSpaces in %s (is WorkSpaces offered there?): %s' % (region, to_native(e)))
                self.warn('Skipping region %s, its WorkSpaces endpoint cannot be reached: %s' % (region, to_native(e)))
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                code = access_denied_code(e)
                if code and not strict_permissions:
                    denied.append(region)
                    self.warn('Skipping region %s: access denied (%s), strict_permissions is false: %s' % (region, code, to_native(e)))
                    continue
                hint = '; set strict_permissions: false to skip the regions that refuse access' if code else ''
                raise AnsibleError('Failed to list WorkSpaces in %s: %s%s' % (region, to_native(e), hint))
        if denied and len(denied) == len(regions):
            raise AnsibleError('Failed to list WorkSpaces: every region refused access (%s); nothing to list' % ', '.join(denied))
        return sorted(desktops, key=lambda d: (d['region'], d['workspace_id']))

    def _populate(self, desktops):
        self.inventory.add_group(GROUP)
        names, duplicates = query.assign_hostnames(desktops, self.get_option('hostnames'))
        if duplicates:
            self.warn('Several desktops would be named %s; each of them is named by its workspace ID instead' % ', '.join(duplicates))
        strict = self.get_option('strict')
        for desktop in desktops:
            hostname = names[desktop['workspace_id']]
            region_group = self.inventory.add_group(query.region_group(desktop['region'], GROUP))
            self.inventory.add_child(GROUP, region_group)
            self.inventory.add_host(hostname, group=region_group)
            variables = host_vars(desktop)
            for key, value in variables.items():
                self.inventory.set_variable(hostname, key, value)
            self._set_composite_vars(self.get_option('compose'), variables, hostname, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), variables, hostname, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, hostname, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        cached, desktops = self.get_cached_result(path, cache)
        if not cached:
            desktops = self._query(self.filters)
            self.update_cached_result(path, cache, desktops)
        self._populate(desktops)
