# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m emulator ...``: see :mod:`emulator.cli`."""
from __future__ import annotations

import os
import sys

from emulator.cli import main

if __name__ == "__main__":
    CODE = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown of moto's module state (about 2 s after a busy session);
    # everything worth flushing has been flushed and the server has been stopped.
    os._exit(CODE)
