# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notice that the Ansible controller running a module is gone, so that the module stops sending requests.

AWX cancels a job through ansible-runner, which kills ansible-playbook's process group. ansible-core runs each worker, and
so each module, in a session of its own, so the module would go on stopping desktops for a job nobody waits for any
more. A watchdog thread checks once a second that the module's ancestors up to ansible-playbook (the AnsiballZ wrapper,
the shell, the worker and ansible-playbook itself, whose command lines both run ``ansible-playbook``) still run; when one
is gone it calls ``on_gone`` once. Ancestors beyond ansible-playbook are never watched (a shell that started it may end).
Linux only (``/proc``); elsewhere it watches nothing.
"""
from __future__ import annotations

import os
import threading

LIMIT = 8   # ancestors looked at, at most
DEPTH = 3   # watched when no ansible process is found among them (a module run over SSH: the shell, the SSH session)


def _stat(pid):
    """(state, parent pid) of a process from /proc, or None when it does not exist (or /proc is not there)."""
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def runs_ansible(pid):
    """True when the process runs an Ansible command (``ansible-playbook``, ``ansible``...): a forked worker shows its parent's."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().split(b'\0')[:3]
    except OSError:
        return False
    return any(os.path.basename(arg).startswith(b'ansible') and not os.path.basename(arg).startswith(b'ansible-runner') for arg in argv)


def ancestors(pid=None):
    """The pids of the ancestors of ``pid`` (this process) up to the second one running Ansible (the worker, then
    ansible-playbook), nearest first; without any, the first DEPTH. Never init (1) or 0."""
    chain, ansible = [], 0
    current = os.getpid() if pid is None else pid
    for dummy in range(LIMIT):
        stat = _stat(current)
        if stat is None or stat[1] <= 1:
            break
        current = stat[1]
        chain.append(current)
        ansible += runs_ansible(current)
        if ansible == 2:
            return chain
    return chain if ansible else chain[:DEPTH]


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


GRACE = 5.0  # seconds a module may take to end cleanly (a request in flight, the result) once its controller is gone


def stop_when_gone(cancel, grace=GRACE):
    """Watch the controller (:func:`watch`): once it is gone, call ``cancel()`` (no further request is sent), and end the
    process ``grace`` seconds later if it has not ended by itself (a request still in flight that nobody waits for)."""
    def gone():
        cancel()
        timer = threading.Timer(grace, os._exit, (1,))  # pylint: disable=protected-access
        timer.daemon = True
        timer.start()
    return watch(gone)
