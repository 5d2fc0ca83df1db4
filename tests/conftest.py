# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registers the emulator's fixtures where the emulator can be imported (not in ansible-test units' venvs)."""
from __future__ import annotations

import importlib.util

pytest_plugins = ['emulator.pytest_plugin'] if importlib.util.find_spec('moto') else []


def pytest_collection_modifyitems(items):
    """Tests marked ``waits`` first (stable otherwise): a test that mostly sleeps in retry backoff then overlaps the other
    workers' CPU-bound tests instead of running alone at the end of the integration stage."""
    items.sort(key=lambda item: item.get_closest_marker('waits') is None)
