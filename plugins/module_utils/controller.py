# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notice that the Ansible controller running a module is gone, so that the module stops sending requests.

AWX cancels a job through ansible-runner, which kills ansible-playbook's process group. ansible-core runs each worker, and
so each module, in a session of its own, so the module would go on stopping desktops for a job nobody waits for any
more. A watchdog thread checks once a second that the module's first ancestors (the shell, the worker, ansible-playbook)
still run; when one is gone it calls ``on_gone`` once. Linux only (``/proc``); elsewhere it watches nothing.
"""
from __future__ import annotations

import os
import threading

DEPTH = 3  # /bin/sh, the worker, ansible-playbook


def _stat(pid):
    """(state, parent pid) of a process from /proc, or None when it does not exist (or /proc is not there)."""
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def ancestors(pid=None, depth=DEPTH):
    """The pids of the first ``depth`` ancestors of ``pid`` (this process), nearest first, never init (1) or 0."""
    chain = []
    current = os.getpid() if pid is None else pid
    for dummy in range(depth):
        stat = _stat(current)
        if stat is None or stat[1] <= 1:
            break
        current = stat[1]
        chain.append(current)
    return chain


def alive(pid):
    """False once the process has exited (a zombie waiting to be reaped has exited too)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ('Z', 'X')


def watch(on_gone, chain=None, interval=1.0):
    """Call ``on_gone()`` once, from a daemon thread, when a process of ``chain`` (default: :func:`ancestors`) has exited.

    Returns a :class:`threading.Event` that ends the watch when set, or None when there is nothing to watch."""
    chain = ancestors() if chain is None else list(chain)
    if not chain:
        return None
    done = threading.Event()

    def loop():
        while not done.wait(interval):
            if not all(alive(pid) for pid in chain):
                done.set()
                on_gone()

    threading.Thread(target=loop, name='fleetops-controller-watch', daemon=True).start()
    return done
