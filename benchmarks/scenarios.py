# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark scenarios: what each one runs, against an emulator already seeded with the fleet.

Each ``prepare_*`` function writes the files a scenario needs into ``work`` and returns a :class:`Command`:
the argv to measure and the desktops that must be STOPPED afterwards (checked against the emulator's ground truth).
"""
from __future__ import annotations

import json
import os
import sys

from benchmarks import fleet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)

ROLE_INVENTORY_UNACCOUNTED = 'role-inventory-unaccounted'
ROLE_TAG_IDLE = 'role-tag-idle'
MODULE_START = 'module-start'
BASELINE_START = 'baseline-start'
COLLECTION_SCENARIOS = ('role-tag', ROLE_TAG_IDLE, 'role-inventory', ROLE_INVENTORY_UNACCOUNTED, 'module-ids', MODULE_START)
BASELINE_A = 'baseline-a'
BASELINE_B_MODULE = 'baseline-b-module-per-host'
BASELINE_B_CLI = 'baseline-b-cli'
SAMPLED_SCENARIOS = (BASELINE_B_MODULE, BASELINE_B_CLI)
ALL_SCENARIOS = COLLECTION_SCENARIOS + (BASELINE_A, BASELINE_START) + SAMPLED_SCENARIOS

DESCRIPTIONS = {
    'role-tag': 'the role, selector mode: `ansible-playbook fleetops.workspaces.stop_workspaces` with workspaces_stop_regions '
                '+ workspaces_stop_tags (skip_connected on, max_count above N)',
    'role-inventory': 'the role, inventory mode: the same playbook on the group aws_workspaces of a `bench.workspaces.yml` '
                      'inventory (plugin fleetops.workspaces.workspaces filtering the tag), with its host accounting (each stopped '
                      'desktop marked changed, each failed one failed, by later plays)',
    ROLE_TAG_IDLE: 'role-tag with workspaces_stop_min_idle_minutes: 60 (idle-aware stopping, checked in the same connection-status '
                   'calls; desktops without a connection-status entry are skipped)',
    ROLE_INVENTORY_UNACCOUNTED: 'role-inventory without the host accounting (`workspaces_stop_account_hosts: none`): the '
                                'difference is what the accounting costs',
    'module-ids': '`fleetops.workspaces.workspaces_stop` with the ids to stop (from the ground truth), one task per region',
    MODULE_START: 'the morning counterpart: `fleetops.workspaces.workspaces_start` with the ids of the tagged STOPPED desktops '
                  '(from the ground truth), one task per region, waiting until AVAILABLE',
    BASELINE_START: '`benchmarks/baselines/boto3_start.py`: the boto3 script a user would write for module-start (same ids, '
                    'sequential per region, waits until AVAILABLE)',
    'baseline-a': '`benchmarks/baselines/boto3_stop.py`: the boto3 script a user would write (same work as role-tag, sequential per region)',
    'baseline-b-module-per-host': 'the module once per inventory host (`workspace_ids: [\'{{ workspace_id }}\']`, '
                                  '`delegate_to: localhost`, skip_connected, default forks 5)',
    'baseline-b-cli': 'one `aws workspaces stop-workspaces --stop-workspace-requests WorkspaceId=ID` per desktop to stop (awscli v1 '
                      'has no `--workspace-ids` for this command), one after another, no wait',
}

INVENTORY_FILE = 'bench.workspaces.yml'

MODULE_IDS_PLAYBOOK = """---
- name: Benchmark module-ids, workspaces_stop with explicit ids, region by region
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Stop the desktops of each region
      fleetops.workspaces.workspaces_stop:
        region: "{{ item.region }}"
        workspace_ids: "{{ item.ids }}"
        skip_connected: false  # the scenario's definition (skip_connected off); the module's default is now true
      loop: "{{ bench_regions }}"
      loop_control:
        label: "{{ item.region }}"
"""

MODULE_START_PLAYBOOK = """---
- name: Benchmark module-start, workspaces_start with explicit ids, region by region
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the desktops of each region
      fleetops.workspaces.workspaces_start:
        region: "{{ item.region }}"
        workspace_ids: "{{ item.ids }}"
      loop: "{{ bench_regions }}"
      loop_control:
        label: "{{ item.region }}"
"""

MODULE_PER_HOST_PLAYBOOK = """---
- name: Baseline B, one workspaces_stop call per inventory host
  hosts: aws_workspaces
  gather_facts: false
  tasks:
    - name: Stop this desktop
      fleetops.workspaces.workspaces_stop:
        region: "{{ region }}"
        workspace_ids: ["{{ workspace_id }}"]
        skip_connected: true
      delegate_to: localhost
"""


class Command:
    def __init__(self, argv, expected_stopped, accept_stopping=False, sample=None, fixed_argv=None, done='STOPPED'):
        self.argv = argv
        self.done = done                # the state the expected desktops must end in (AVAILABLE for the start scenarios)
        self.expected_stopped = expected_stopped
        self.accept_stopping = accept_stopping
        self.sample = sample            # {'size': k, 'population': n, 'ids': [...]} for sampled scenarios
        self.fixed_argv = fixed_argv    # the fixed-cost part of a sampled scenario (inventory parsing), measured apart


def all_ids(truth, key):
    return [i for info in truth.values() for i in info[key]]


def sample_ids(ids, size, strata=()):
    """A fixed, representative sample of ``size`` ids (all of them when there are not more), sorted.

    The ids are ordered by stratum (the index of the first set of ``strata`` holding them, then the rest), then by id,
    and picked evenly spaced, so that each stratum keeps its share of the population.
    """
    def stratum(workspace_id):
        return next((n for n, members in enumerate(strata) if workspace_id in members), len(strata))

    ordered = sorted(ids, key=lambda i: (stratum(i), i))
    if size >= len(ordered):
        return sorted(ordered)
    return sorted(ordered[int((n + 0.5) * len(ordered) / size)] for n in range(size))


def _write(path, text):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return path


def _write_json(path, data):
    return _write(path, json.dumps(data))


def collections_tree(work):
    """An ansible_collections tree whose fleetops/workspaces is this checkout (a symlink), as tools/demo.sh does."""
    base = os.path.join(work, 'collections')
    link = os.path.join(base, 'ansible_collections', 'fleetops', 'workspaces')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


def ansible_env(work, url):
    """Environment for ansible-playbook and the baselines: the emulator as AWS, dummy credentials, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'ANSIBLE_'))}
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_tree(work),
        'ANSIBLE_LOCAL_TEMP': os.path.join(work, 'ansible-tmp'),
        'ANSIBLE_HOME': os.path.join(work, 'ansible-home'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        'ANSIBLE_HOST_KEY_CHECKING': 'false',
        # A realistic secret: Ansible masks no_log values wherever they appear in results, so a short one would
        # mangle the workspace ids that modules return.
        'AWS_ACCESS_KEY_ID': 'AKIAFLEETOPSBENCH000',
        'AWS_SECRET_ACCESS_KEY': 'fleetops/benchmark/secret/key/0123456789ABCDEF',
        'AWS_ENDPOINT_URL': url,
        'AWS_REGION': 'us-east-1',
        'AWS_DEFAULT_REGION': 'us-east-1',
        'PATH': VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
        'PYTHONDONTWRITEBYTECODE': '1',
    })
    return env


def _playbook_argv(*args):
    return [os.path.join(VENV_BIN, 'ansible-playbook')] + list(args)


def _inventory(work):
    return _write(os.path.join(work, INVENTORY_FILE), json.dumps({
        'plugin': 'fleetops.workspaces.workspaces',
        'regions': list(fleet.REGIONS),
        'tags': {fleet.TAG_KEY: fleet.TAG_VALUE},
    }, indent=2) + '\n')


def prepare_role_tag(work, size, truth, idle=False):
    extra = _write_json(os.path.join(work, 'role-tag.json'), {
        'workspaces_stop_regions': list(fleet.REGIONS),
        'workspaces_stop_tags': {fleet.TAG_KEY: fleet.TAG_VALUE},
        'workspaces_stop_max_count': size + 1,
        'workspaces_stop_min_idle_minutes': 60 if idle else 0,
    })
    return Command(_playbook_argv('fleetops.workspaces.stop_workspaces', '-e', '@' + extra), all_ids(truth, 'to_stop_idle' if idle else 'to_stop'))


def prepare_role_inventory(work, size, truth, accounting=True):
    extra = _write_json(os.path.join(work, 'role-inventory.json'), {
        'workspaces_stop_hosts': 'aws_workspaces',
        'workspaces_stop_max_count': size + 1,
        'workspaces_stop_account_hosts': 'all' if accounting else 'none',
    })
    return Command(_playbook_argv('-i', _inventory(work), 'fleetops.workspaces.stop_workspaces', '-e', '@' + extra),
                   all_ids(truth, 'to_stop'))


def prepare_module_ids(work, size, truth):
    playbook = _write(os.path.join(work, 'module-ids.yml'), MODULE_IDS_PLAYBOOK)
    extra = _write_json(os.path.join(work, 'module-ids.json'), {
        'bench_regions': [{'region': region, 'ids': truth[region]['to_stop']} for region in fleet.REGIONS if truth[region]['to_stop']],
    })
    return Command(_playbook_argv(playbook, '-e', '@' + extra), all_ids(truth, 'to_stop'))


def prepare_module_start(work, size, truth):
    playbook = _write(os.path.join(work, 'module-start.yml'), MODULE_START_PLAYBOOK)
    extra = _write_json(os.path.join(work, 'module-start.json'), {
        'bench_regions': [{'region': region, 'ids': truth[region]['to_start']} for region in fleet.REGIONS if truth[region]['to_start']],
    })
    return Command(_playbook_argv(playbook, '-e', '@' + extra), all_ids(truth, 'to_start'), done='AVAILABLE')


def prepare_baseline_start(work, size, truth):
    ids = _write_json(os.path.join(work, 'baseline-start.json'), {region: truth[region]['to_start'] for region in fleet.REGIONS})
    script = os.path.join(ROOT, 'benchmarks', 'baselines', 'boto3_start.py')
    return Command([sys.executable, script, '--ids-file', ids], all_ids(truth, 'to_start'), done='AVAILABLE')


def prepare_baseline_a(work, size, truth):
    script = os.path.join(ROOT, 'benchmarks', 'baselines', 'boto3_stop.py')
    return Command([sys.executable, script, '--regions', ','.join(fleet.REGIONS), '--tag', '%s=%s' % (fleet.TAG_KEY, fleet.TAG_VALUE)],
                   all_ids(truth, 'to_stop'))


def prepare_module_per_host(work, size, truth, sample_size):
    population = all_ids(truth, 'tagged')
    strata = (set(all_ids(truth, 'to_stop')), set(all_ids(truth, 'candidates')))  # to stop, connected, not stoppable
    sample = sample_ids(population, sample_size, strata)
    playbook = _write(os.path.join(work, 'module-per-host.yml'), MODULE_PER_HOST_PLAYBOOK)
    inventory = _inventory(work)
    limit = _write(os.path.join(work, 'module-per-host.limit'), '\n'.join(sample) + '\n')
    to_stop = set(all_ids(truth, 'to_stop'))
    argv = _playbook_argv('-i', inventory, playbook)
    fixed = None
    if len(sample) < len(population):
        argv += ['--limit', '@' + limit]
        fixed = argv + ['--list-hosts']
    return Command(argv, [i for i in sample if i in to_stop], sample={'size': len(sample), 'population': len(population)}, fixed_argv=fixed)


def prepare_cli(work, size, truth, sample_size, aws):
    region_of = {i: region for region, info in truth.items() for i in info['to_stop']}
    population = sorted(region_of)
    sample = sample_ids(population, sample_size)
    lines = ['#!/bin/bash', '# one aws CLI call per desktop, as a shell loop would do', 'set -e']
    for workspace_id in sample:
        lines.append('"%s" workspaces stop-workspaces --stop-workspace-requests WorkspaceId=%s --region %s --endpoint-url "$AWS_ENDPOINT_URL" >/dev/null'
                     % (aws, workspace_id, region_of[workspace_id]))
    script = _write(os.path.join(work, 'cli.sh'), '\n'.join(lines) + '\n')
    return Command(['/bin/bash', script], sample, accept_stopping=True, sample={'size': len(sample), 'population': len(population)})
