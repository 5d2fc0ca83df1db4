# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline Amazon WorkSpaces emulator: an extension of moto's server.

Importing this package is cheap (no moto import); ``emulator.server`` loads moto.
See emulator/README.md.
"""
from __future__ import annotations

__version__ = "1.0.0"
