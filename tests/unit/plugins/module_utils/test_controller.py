# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller watchdog: ancestors, liveness, and the callback when an ancestor exits (no timing asserted)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from ansible_collections.fleetops.workspaces.plugins.module_utils import client
from ansible_collections.fleetops.workspaces.plugins.module_utils import controller

pytestmark = pytest.mark.skipif(not os.path.exists('/proc/self/stat'), reason='the watchdog reads /proc (Linux)')


def exited_pid():
    child = subprocess.Popen([sys.executable, '-c', 'pass'])  # pylint: disable=consider-using-with
    child.wait()  # reaped: the pid no longer exists
    return child.pid


def test_ancestors_start_with_the_parent():
    chain = controller.ancestors()
    assert chain and chain[0] == os.getppid() and 1 not in chain and len(chain) <= controller.LIMIT


def test_ancestors_end_at_the_second_process_running_ansible(tmp_path):
    """A stand-in for ansible-playbook (a script named so) forks a worker (a fork keeps its command line), which starts a
    shell, which starts the module: the chain ends at the stand-in, not beyond it."""
    module = tmp_path / 'AnsiballZ_module.py'
    module.write_text('import sys\nsys.path[:0] = %r\n'
                      'from ansible_collections.fleetops.workspaces.plugins.module_utils import controller\n'
                      'print(repr(controller.ancestors()))\n' % sys.path)
    playbook = tmp_path / 'ansible-playbook'
    playbook.write_text('import os, subprocess, sys\n'
                        'if os.fork() == 0:\n'
                        '    subprocess.run(["/bin/sh", "-c", "%s %s && true"])\n'
                        '    os._exit(0)\n'
                        'os.wait()\n' % (sys.executable, module))
    output = subprocess.run([sys.executable, str(playbook)], check=True, capture_output=True, text=True).stdout
    chain = [int(pid) for pid in output.strip().strip('[]').split(',')]
    assert len(chain) == 3  # the shell, the forked "worker", "ansible-playbook"


def test_alive_tells_a_running_process_from_an_exited_one():
    assert controller.alive(os.getpid()) and controller.alive(os.getppid())
    assert not controller.alive(exited_pid())


def test_watch_calls_back_once_an_ancestor_has_exited():
    gone = threading.Event()
    done = controller.watch(gone.set, chain=[os.getpid(), exited_pid()], interval=0.01)
    assert gone.wait(60) and done.is_set()


def test_watch_stays_quiet_while_every_ancestor_runs_and_stops_when_told():
    calls = []
    done = controller.watch(lambda: calls.append(1), chain=[os.getpid()], interval=0.01)
    done.set()
    assert calls == []
    assert controller.watch(calls.append, chain=[]) is None


def test_a_cancelled_deadline_sends_nothing_more():
    deadline = client.Deadline(3600)
    assert not deadline.passed()
    deadline.cancel()
    assert deadline.passed() and deadline.cancelled
