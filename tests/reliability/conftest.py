# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures and helpers of the reliability suite (tests/reliability).

Re-exports the functional fixtures (``run_playbook``, ``ansible_env``, ``outdir``, ``read_json``, ``collections_path``)
and adds what the reliability scenarios need: playbooks started in the background in their own process group (to run
two at once or to SIGKILL one), fleet seeding, call-log helpers and, after every test, the check that the collection
called nothing but its read calls and StopWorkspaces.

Sizes: ``FLEETOPS_SOAK=1`` (``make soak``) selects the full size of every scenario, otherwise the CI size (``make test``).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from tests.functional.conftest import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
from tests.functional.conftest import BIN
from tests.functional.conftest import REPO
from tests.functional.test_role import ROLE_PLAY

SOAK = os.environ.get('FLEETOPS_SOAK', '').strip().lower() not in ('', '0', 'false', 'no')
REGION = 'us-east-1'
DIRECTORY = 'd-1111111111'
KEEP = 'fleetops:keep-running'

# Every operation the collection may call: its read calls, StopWorkspaces, and DescribeRegions (inventory without regions).
ALLOWED_OPERATIONS = frozenset([
    ('workspaces', 'DescribeWorkspaces'),
    ('workspaces', 'DescribeWorkspacesConnectionStatus'),
    ('tagging', 'GetResources'),
    ('workspaces', 'StopWorkspaces'),
    ('ec2', 'DescribeRegions'),
])
READ_ONLY_PREFIXES = ('Describe', 'Get', 'List')


def sized(ci, soak):
    """The size of a scenario: ``ci`` for ``make test``, ``soak`` for ``make soak`` (FLEETOPS_SOAK=1)."""
    return soak if SOAK else ci


# -- emulator helpers ------------------------------------------------------------------------------------------------
def explicit_fleet(count, prefix='ws-r', **fields):
    """``count`` explicit desktop specs (AVAILABLE, AUTO_STOP, DISCONNECTED unless ``fields`` say otherwise)."""
    desktops = []
    for index in range(count):
        desktop = {'workspace_id': '%s%08d' % (prefix, index), 'directory_id': DIRECTORY, 'user_name': 'rel%06d' % index}
        desktop.update(fields)
        desktops.append(desktop)
    return desktops


def seed(emulator, desktops=None, directories=None, region=REGION, fleet_seed=11):
    """Seed one region with explicit desktops and/or directory specs; returns the seeded dumps. Clears the call log."""
    spec = {}
    if desktops:
        spec['workspaces'] = desktops
    if directories:
        spec['directories'] = directories
    answer = emulator.seed({'seed': fleet_seed, 'regions': {region: spec}})
    emulator.reset_calls()
    return answer['workspaces']


def states(emulator, region=REGION):
    return {w['workspace_id']: w['state'] for w in emulator.workspaces(region=region)}


def stop_calls(emulator, since=0):
    """Every StopWorkspaces call as ``(seq, outcome, [ids])``, oldest first."""
    return [(c['seq'], c['outcome'], [r['WorkspaceId'] for r in c['params'].get('StopWorkspaceRequests', [])])
            for c in emulator.calls(operation='StopWorkspaces', since=since)]


def accepted_stops(calls):
    """{id: number of successful StopWorkspaces calls that carried it}.

    The call log does not record FailedRequests, so this counts accepted stops only where nothing can be refused
    (every desktop sent was stoppable and nobody else stops them).
    """
    counted = {}
    for dummy_seq, outcome, ids in calls:
        if outcome == 'ok':
            for workspace_id in ids:
                counted[workspace_id] = counted.get(workspace_id, 0) + 1
    return counted


def sent_ids(calls):
    return [workspace_id for dummy_seq, dummy_outcome, ids in calls for workspace_id in ids]


def mutating_calls(calls):
    return [c['operation'] for c in calls if not c['operation'].startswith(READ_ONLY_PREFIXES)]


def last_seq(emulator):
    calls = emulator.calls()
    return calls[-1]['seq'] if calls else 0


def wait_until(predicate, timeout, interval=0.02, what='condition'):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(interval)


def wait_for_quiet_log(emulator, quiet=2.0, timeout=60):
    """Wait until no new API call was logged for ``quiet`` seconds (requests in flight have landed); returns the last seq."""
    deadline = time.monotonic() + timeout
    seen, since = last_seq(emulator), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = last_seq(emulator)
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return seen
    raise AssertionError('the call log kept growing for %ss' % timeout)


def fault_summary(calls):
    """{operation: {'calls': n, 'ok': n, 'throttled': n, 'server_errors': n}} from call-log entries."""
    summary = {}
    for call in calls:
        entry = summary.setdefault(call['operation'], {'calls': 0, 'ok': 0, 'throttled': 0, 'server_errors': 0})
        entry['calls'] += 1
        if call['outcome'] == 'ok':
            entry['ok'] += 1
        elif call['outcome'] == 'ThrottlingException':
            entry['throttled'] += 1
        elif call['status'] >= 500:
            entry['server_errors'] += 1
    return summary


# -- playbooks ----------------------------------------------------------------------------------------------------------
def module_play(module, args, result_path):
    """A play running one module task (errors ignored) and saving its registered result to ``result_path`` as JSON."""
    return """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Run %(module)s
          %(module)s: %(args)s
          register: result
          ignore_errors: true
        - name: Save
          save_json:
            content: "{{ result | to_json }}"
            dest: %(dest)s
          check_mode: false
          diff: false
    """ % {'module': module, 'args': json.dumps(args), 'dest': result_path}


def role_play(result_path):
    """tests/functional/test_role.py's play: include the role, then always save workspaces_stop_result."""
    return ROLE_PLAY % result_path


def errors_in(output, limit=5):
    """The error messages in ansible-playbook output (``[ERROR]`` lines and the ``msg`` of results), for assertion messages."""
    found = re.findall(r'\[ERROR\]: [^\n]{0,800}', output) + re.findall(r'"msg": "((?:[^"\\]|\\.){0,800})', output)
    return found[:limit] or output[-3000:]


def read_result(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def descendants(pid):
    """Process ids of every live descendant of ``pid`` (from /proc; Linux)."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='utf-8', errors='replace') as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pids):
    """The pids among ``pids`` that still run (zombies count as gone)."""
    running = []
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid, encoding='utf-8', errors='replace') as handle:
                state = handle.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if state != 'Z':
            running.append(pid)
    return running


def module_processes(pids):
    """The pids among ``pids`` that are running an Ansible module (AnsiballZ payload)."""
    found = []
    for pid in alive(pids):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                if b'AnsiballZ_' in handle.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def kill_pids(pids, sig=signal.SIGKILL):
    """Send ``sig`` to each of ``pids`` still alive (processes this suite started, listed by pid)."""
    for pid in alive(pids):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class Background:
    """An ansible-playbook started in its own session (process group = its pid); output goes to a file."""

    def __init__(self, proc, output_path, started):
        self.proc = proc
        self.output_path = output_path
        self.started = started
        self.elapsed = None

    @property
    def pid(self):
        return self.proc.pid

    def kill_group(self, sig=signal.SIGKILL):
        """Send ``sig`` to ansible-playbook's process group.

        Since ansible-core 2.19 every forked worker calls ``setsid()`` (WORKER_SESSION_ISOLATION, on by default), so
        the workers and the module processes they start are in process groups of their own: this signal does not reach them.
        """
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def descendants(self):
        return descendants(self.proc.pid)

    def kill_tree(self, sig=signal.SIGKILL):
        """Send ``sig`` to ansible-playbook's process group and to the group of every descendant (as a container kill
        would): the descendants are listed first, while they are still linked to ansible-playbook. Returns them."""
        tree = self.descendants()
        self.kill_group(sig)
        for pid in tree:
            for kill in (os.killpg, os.kill):
                try:
                    kill(os.getpgid(pid) if kill is os.killpg else pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        return tree

    def wait(self, timeout=900):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            if self.elapsed is None:
                self.elapsed = time.monotonic() - self.started
        return self.proc.returncode

    @property
    def rc(self):
        return self.proc.returncode

    @property
    def output(self):
        with open(self.output_path, encoding='utf-8', errors='replace') as handle:
            return handle.read()

    def __repr__(self):
        return 'Background(rc=%s)\n--- output (last 8000 characters)\n%s' % (self.rc, self.output[-8000:])


@pytest.fixture
def start_playbook(ansible_env, tmp_path):
    """``start_playbook(text, extra_vars=None, name='run', args=(), env=None)``: ansible-playbook in the background.

    Each run gets its own session, so ``kill_group()`` reaches every process it started. Runs still alive at the end
    of the test are killed (their process group only).
    """
    started = []
    inventory = tmp_path / 'background-localhost.ini'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)

    def start(playbook, extra_vars=None, name='run', args=(), env=None):
        path = tmp_path / ('%s.yml' % name)
        path.write_text(textwrap.dedent(playbook))
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory), str(path)]
        if extra_vars:
            cmd += ['-e', json.dumps(extra_vars)]
        cmd += list(args)
        full_env = dict(ansible_env)
        full_env.update(env or {})
        output_path = tmp_path / ('%s.out' % name)
        with open(output_path, 'w', encoding='utf-8') as output:
            proc = subprocess.Popen(cmd, env=full_env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                    cwd=str(tmp_path), start_new_session=True)
        handle = Background(proc, str(output_path), time.monotonic())
        started.append(handle)
        return handle

    yield start
    for handle in started:
        if handle.proc.poll() is None:
            handle.kill_group()
            handle.proc.wait(timeout=30)


@pytest.fixture
def run_cli(ansible_env, tmp_path):
    """``run_cli(args, env=None, env_remove=(), timeout=600)``: run an Ansible command line (``ansible-playbook ...``,
    ``ansible-inventory ...``) from the venv with the test environment, optionally without some of its variables.
    Returns ``(CompletedProcess, seconds)``."""

    def run(args, env=None, env_remove=(), timeout=600):
        full_env = {k: v for k, v in ansible_env.items() if k not in env_remove}
        full_env.update(env or {})
        cmd = [os.path.join(BIN, args[0])] + list(args[1:])
        started = time.monotonic()
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=str(tmp_path), check=False)
        return proc, time.monotonic() - started

    return run


@pytest.fixture
def closed_port():
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


METRICS_PATH = os.path.join(REPO, 'tests', 'output', 'reliability', 'metrics.jsonl')


@pytest.fixture
def report_metrics(request):
    """``report_metrics(**figures)``: print the figures a scenario measured and append them, with the test id and the
    size (ci or soak), to tests/output/reliability/metrics.jsonl (the source of the figures in docs/reliability.md)."""

    def report(**figures):
        record = dict(figures, test=request.node.nodeid, size='soak' if SOAK else 'ci', at=time.strftime('%Y-%m-%dT%H:%M:%S'))
        line = json.dumps(record, sort_keys=True)
        print('reliability-metrics %s' % line)
        os.makedirs(os.path.dirname(METRICS_PATH), exist_ok=True)
        with open(METRICS_PATH, 'a', encoding='utf-8') as handle:
            handle.write(line + '\n')

    return report


# -- guarantees checked after every test ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def only_allowed_operations(request):
    """After every test that used the emulator: the collection called nothing but ALLOWED_OPERATIONS."""
    server = request.getfixturevalue('emulator_server') if 'emulator' in request.fixturenames else None
    yield
    if server is None:
        return
    called = {(c['service'], c['operation']) for c in server.client.calls()}
    assert called <= ALLOWED_OPERATIONS, 'operations outside the allowed set: %s' % sorted(called - ALLOWED_OPERATIONS)
