# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of workspaces_start: the module, with ``module_defaults: group/aws`` applied (see plugin_utils/aws_module_defaults.py)."""
from __future__ import annotations

from ansible_collections.fleetops.workspaces.plugins.plugin_utils.aws_module_defaults import AwsGroupDefaultsAction


class ActionModule(AwsGroupDefaultsAction):
    pass
