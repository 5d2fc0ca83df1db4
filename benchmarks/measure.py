# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command and measure its wall time and the memory of its whole process tree (Linux /proc, no psutil).

Peak tree memory: a sampler thread sums the resident set size (RSS) and the proportional set size (PSS: shared pages
counted once) of the process and every descendant (ansible-playbook, its forks, the AnsiballZ module processes) every
``interval`` seconds and keeps the largest sums; processes living shorter than the interval can be missed.
Largest single process: exact, from ``wait4()``'s ``ru_maxrss`` (the kernel's maximum over the process and all its
waited-for descendants).
"""
from __future__ import annotations

import os
import subprocess
import threading
import time

PAGE_KB = os.sysconf('SC_PAGE_SIZE') // 1024


def _children(pid):
    """Direct children of ``pid`` (from /proc/PID/task/TID/children; empty when the process is gone)."""
    found = []
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return found
    for tid in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, tid), encoding='ascii') as handle:
                found.extend(int(c) for c in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


def _rss_kb(pid):
    try:
        with open('/proc/%d/statm' % pid, encoding='ascii') as handle:
            return int(handle.read().split()[1]) * PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


def _pss_kb(pid):
    """Proportional set size (shared pages divided among the processes sharing them), None when unreadable."""
    try:
        with open('/proc/%d/smaps_rollup' % pid, encoding='ascii') as handle:
            for line in handle:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _name(pid):
    """A short name for a process: its command line's first words (empty when the process is gone)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            words = handle.read().split(b'\0')
    except OSError:
        return ''
    words = [os.path.basename(w.decode('utf-8', 'replace')) for w in words[:3] if w]
    return ' '.join(words)[:80]


def tree_memory_kb(root, breakdown=None):
    """(sum of RSS, sum of PSS, number of processes) of ``root`` and all its descendants now, in KiB.

    ``breakdown``, a list, receives (pid, PSS KiB) per process when given.

    Forked workers share most of their pages with ansible-playbook: the RSS sum counts them once per process,
    the PSS sum once in all (it falls back to RSS for a process whose smaps_rollup cannot be read).
    """
    rss_total, pss_total, count, stack, seen = 0, 0, 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        rss = _rss_kb(pid)
        if rss:
            pss = _pss_kb(pid)
            rss_total += rss
            pss_total += rss if pss is None else pss
            count += 1
            if breakdown is not None:
                breakdown.append((pid, rss if pss is None else pss))
        stack.extend(_children(pid))
    return rss_total, pss_total, count


class TreeSampler(threading.Thread):
    def __init__(self, root, interval=0.05):
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.peak_processes = 0
        self.peak_breakdown = []
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            breakdown = []
            total, pss, count = tree_memory_kb(self.root, breakdown)
            self.samples += 1
            self.peak_kb = max(self.peak_kb, total)
            if pss > self.peak_pss_kb:
                self.peak_pss_kb = pss
                self.peak_breakdown = [(_name(pid), kb) for pid, kb in breakdown]
            self.peak_processes = max(self.peak_processes, count)
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()


def run_measured(argv, env=None, cwd=None, log_path=None, timeout=3600, interval=0.05):
    """Run ``argv``; return {rc, wall_s, peak_tree_rss_kb, peak_tree_pss_kb, max_process_rss_kb, samples, ...}.

    stdout and stderr go to ``log_path`` (or are discarded), never to a pipe that could fill up.
    """
    out = open(log_path, 'wb') if log_path else subprocess.DEVNULL  # pylint: disable=consider-using-with
    try:
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        sampler = TreeSampler(proc.pid, interval)
        sampler.start()
        deadline = start + timeout
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.monotonic() - start
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log_path:
            out.close()
    return {
        'rc': proc.returncode,
        'wall_s': round(wall, 3),
        'peak_tree_rss_kb': sampler.peak_kb,
        'peak_tree_pss_kb': sampler.peak_pss_kb,
        'peak_processes': sampler.peak_processes,
        'peak_tree_pss_by_process_kb': sampler.peak_breakdown,
        'max_process_rss_kb': usage.ru_maxrss if usage else None,
        'samples': sampler.samples,
        'timed_out': wall > timeout,
    }
