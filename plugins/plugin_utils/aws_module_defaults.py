# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Let ``module_defaults: group/aws`` (and ``group/amazon.aws.aws``) reach this collection's modules.

``group/aws`` is ansible-core's own group (``ansible.builtin.aws`` in ansible-core's ``config/ansible_builtin_runtime.yml``):
it extends exactly ``amazon.aws.aws`` and ``community.aws.aws``, and a collection's ``meta/runtime.yml`` can only pull other
groups into its own groups, never add itself to another collection's group. So the collection declares its ``aws`` group
in ``meta/runtime.yml`` as community.aws does (ready for ansible-core's list), and its modules' action plugins apply the
defaults of those two groups themselves, below every other source: task arguments, then module defaults for the module,
then ``group/fleetops.workspaces.workspaces`` (both applied by ansible-core before the action plugin runs), then
``group/aws``.
"""
from __future__ import annotations

from ansible.plugins.action.normal import ActionModule as NormalActionModule

AWS_GROUPS = ('group/ansible.builtin.aws', 'group/amazon.aws.aws')


def aws_group_defaults(module_defaults):
    """The merged defaults of the AWS groups in a task's ``module_defaults`` (a list of dicts, outermost first)."""
    merged = {}
    for entry in module_defaults or []:
        merged.update(entry)  # as ansible-core merges them: an inner block's entry replaces an outer one of the same key
    defaults = {}
    for group in AWS_GROUPS:
        defaults.update(merged.get(group) or {})
    return defaults


class AwsGroupDefaultsAction(NormalActionModule):
    """Run the module as the ``normal`` action does, after adding the ``group/aws`` defaults the task did not set."""

    def run(self, tmp=None, task_vars=None):
        defaults = aws_group_defaults(self._task.module_defaults)
        missing = {key: value for key, value in defaults.items() if key not in self._task.args}
        if missing:
            args = self._templar.template(missing)
            args.update(self._task.args)
            self._task.args = args
        return super().run(tmp, task_vars)
