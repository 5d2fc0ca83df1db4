#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: role_planner
short_description: Internal planner of the roles of fleetops.workspaces; not for direct use
version_added: 0.1.0
description:
  - B(Internal.) The controller-side planner of the roles C(fleetops.workspaces.stop) and C(fleetops.workspaces.start).
    It is not a public interface and may change in any release; use the roles, or M(fleetops.workspaces.workspaces_info),
    M(fleetops.workspaces.workspaces_stop) and M(fleetops.workspaces.workspaces_start).
  - O(step=plan) validates the role's variables with its argument specs, selects the desktops (from the play's inventory
    hosts, or with M(fleetops.workspaces.workspaces_info) per region), applies the opt-out tags, classifies them with the
    collection's state table and enforces the safety rails, before any change.
  - O(step=act) runs the role's module for one region of the plan; O(step=report) builds the role's result fact,
    summary and statistics.
author:
  - fleetops.workspaces contributors (@fleetops)
options:
  role:
    description: The role whose variables and module to use.
    type: str
    required: true
    choices: [stop, start]
  step:
    description: What to do.
    type: str
    choices: [plan, act, report]
    default: plan
  plan:
    description: The registered result of O(step=plan) (for O(step=act) and O(step=report)).
    type: dict
  region:
    description: The region to act on (O(step=act)).
    type: str
  runs:
    description: The registered results of the O(step=act) loop (O(step=report)).
    type: dict
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
# Internal to the roles fleetops.workspaces.stop and fleetops.workspaces.start; see roles/stop/tasks/main.yml.
- name: Plan
  fleetops.workspaces.role_planner:
    role: stop
  register: plan
"""

RETURN = r"""
plan:
  description: O(step=plan), the plan (selection, exclusions, per-region requests, counts).
  returned: success
  type: dict
preview:
  description: O(step=plan), the plan in readable lines.
  returned: success
  type: list
  elements: str
summary:
  description: O(step=report), the outcome in readable lines.
  returned: success
  type: list
  elements: str
"""
