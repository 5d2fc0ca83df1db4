# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests (the ``emulator`` fixture comes from emulator.pytest_plugin)."""
from __future__ import annotations

import pytest

from tests.emulator.emulator_helpers import make_client


@pytest.fixture
def ws(emulator):
    """WorkSpaces client (us-east-1) on a freshly reset emulator, validating every response's shape."""
    return make_client(emulator.url)


@pytest.fixture
def tagging(emulator):
    """Resource Groups Tagging API client (us-east-1), validating every response's shape."""
    return make_client(emulator.url, "resourcegroupstaggingapi")
