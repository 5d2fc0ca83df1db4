# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX's remote-execution path: the stop job through ansible-runner's streaming mode, as receptor carries it.

AWX does not run a job on the control node: it ``transmit``s the private data directory (project, inventory, extra vars,
the credential's environment) as a stream, an execution node runs it with ``ansible-runner worker`` (which streams the
job's events and, at the end, its artifacts back), and the control node ``process``es that stream into the job's events,
stdout and artifacts. This test runs those three ``ansible-runner`` commands, connected by their streams (receptor only
carries the bytes), for the two slices of a sliced job template: AWX gives each slice its part of the inventory's hosts
as a static inventory, with their host variables from the inventory source; both workers run at the same time.
"""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RUNNER = os.path.join(BIN, 'ansible-runner')
PLAYBOOK = os.path.join(REPO, 'playbooks', 'stop_workspaces.yml')
SURVEY = os.path.join(REPO, 'docs', 'awx', 'survey.json')
SECRET_KEY = 'fleetops-stream-secret-access-key-9f3b'
SESSION_TOKEN = 'fleetops-stream-session-token-FwoGZXIvYXdzEXAMPLE'
ACCESS_KEY = 'ASIAFLEETOPSSTREAM01'
SLICES = 2


def credential_env(emulator, collections_path, home):
    """The job's environment: AWX's Amazon Web Services credential (21.11+: both token variables) and test plumbing."""
    return {
        'AWS_ACCESS_KEY_ID': ACCESS_KEY,
        'AWS_SECRET_ACCESS_KEY': SECRET_KEY,
        'AWS_SESSION_TOKEN': SESSION_TOKEN,
        'AWS_SECURITY_TOKEN': SESSION_TOKEN,
        'AWS_ENDPOINT_URL': emulator.url,
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_HOME': str(home / 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': str(home / 'ansible-tmp'),
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    }


def survey_answers(**overrides):
    """Every question's default as AWX sends it (read from the survey file at run time), then ``overrides``."""
    with open(SURVEY, encoding='utf-8') as handle:
        answers = {q['variable']: q['default'] for q in json.load(handle)['spec']}
    answers.update(overrides)
    return answers


def inventory_update(emulator, collections_path, tmp_path):
    """What AWX's inventory update stores: ansible-inventory --list of the inventory source, run with the credential."""
    source = tmp_path / 'vdi.workspaces.yml'
    source.write_text('plugin: fleetops.workspaces.workspaces\nregions: [us-east-1, eu-west-1]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AWS_', 'ANSIBLE_'))}
    env.update(credential_env(emulator, collections_path, tmp_path))
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', str(source), '--list', '--export'], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    # ansible-core 2.19+ marks strings that must never be templated (all of them, from an inventory plugin) as
    # {"__ansible_unsafe": "..."}; the seeded values are plain (no "{{"), so they are written back as plain strings.
    return json.loads(proc.stdout, object_hook=lambda v: v['__ansible_unsafe'] if set(v) == {'__ansible_unsafe'} else v)


def slice_inventory(listing, index, count):
    """The static inventory AWX hands to slice ``index`` of ``count``: every ``count``-th host, in the inventory's order,
    with its host variables and its region group under aws_workspaces."""
    hostvars = listing['_meta']['hostvars']
    hosts = sorted(hostvars)[index::count]
    groups = {}
    for host in hosts:
        group = 'aws_workspaces_' + hostvars[host]['region'].replace('-', '_')
        groups.setdefault(group, {'hosts': {}})['hosts'][host] = hostvars[host]
    return hosts, {'all': {'children': {'aws_workspaces': {'children': groups}}}}


def private_data_dir(root, emulator, collections_path, inventory, extravars):
    for sub in ('env', 'project', 'inventory'):
        (root / sub).mkdir(parents=True)
    shutil.copy(PLAYBOOK, root / 'project' / 'stop_workspaces.yml')
    (root / 'inventory' / 'hosts.yml').write_text(yaml.safe_dump(inventory))
    (root / 'env' / 'envvars').write_text(yaml.safe_dump(credential_env(emulator, collections_path, root)))
    (root / 'env' / 'extravars').write_text(yaml.safe_dump(extravars))
    return root


def transmit(pdd, ident):
    stream = pdd.parent / ('%s.transmit' % ident)
    with open(stream, 'wb') as out:
        proc = subprocess.run([RUNNER, 'transmit', str(pdd), '-p', 'stop_workspaces.yml', '--ident', ident], stdout=out,
                              stderr=subprocess.PIPE, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return stream


def stream_events(path):
    """The job events in a worker's output stream (one JSON object per line; the artifacts come last, as a zip)."""
    events = []
    with open(path, 'rb') as handle:
        for line in handle:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and 'event' in data:
                events.append(data)
    return events


def stream_lines_with(path, secret):
    """Which messages of a worker's output stream contain ``secret``: 'status:<status>', 'event', 'artifacts-zip' (the
    base64 payload after the zipfile header) or 'other'."""
    found, after_zip_header = [], False
    with open(path, 'rb') as handle:
        for line in handle:
            is_payload, after_zip_header = after_zip_header, False
            try:
                data = json.loads(line)
            except ValueError:
                data = None
            if isinstance(data, dict) and 'zipfile' in data:
                after_zip_header = True
            if is_payload:
                payload = line.split(b'{"eof"')[0]
                with zipfile.ZipFile(io.BytesIO(base64.b64decode(payload))) as archive:
                    if any(secret.encode() in archive.read(name) for name in archive.namelist()):
                        found.append('artifacts-zip')
                continue
            if secret.encode() not in line:
                continue
            if isinstance(data, dict) and 'status' in data:
                found.append('status:%s' % data['status'])
            elif isinstance(data, dict) and 'event' in data:
                found.append('event')
            else:
                found.append('other')
    return found


def test_stop_job_through_transmit_worker_process_in_two_parallel_slices(emulator, collections_path, tmp_path):
    regions = {'us-east-1': 'use', 'eu-west-1': 'euw'}
    desktops = {region: [{'workspace_id': 'ws-%sstr%03d' % (prefix, i), 'tags': {'Team': 'blue'}} for i in range(5)]
                for region, prefix in regions.items()}
    emulator.seed({'regions': {region: {'workspaces': workspaces} for region, workspaces in desktops.items()}})
    fleet = sorted(w['workspace_id'] for w in emulator.workspaces())
    listing = inventory_update(emulator, collections_path, tmp_path)
    emulator.reset_calls()
    answers = survey_answers(workspaces_stop_hosts='aws_workspaces')

    # Control node: one private data directory per slice, transmitted as a stream.
    slices = []
    for index in range(SLICES):
        hosts, inventory = slice_inventory(listing, index, SLICES)
        pdd = private_data_dir(tmp_path / ('slice%d' % index), emulator, collections_path, inventory, answers)
        slices.append({'hosts': hosts, 'pdd': pdd, 'ident': 'slice%d' % index, 'stream': transmit(pdd, 'slice%d' % index)})
    assert sorted(h for s in slices for h in s['hosts']) == fleet and all(s['hosts'] for s in slices)

    # Execution nodes: both workers at the same time, each in its own directory, reading the transmitted stream.
    for job in slices:
        job['results'] = tmp_path / ('%s.worker' % job['ident'])
        with open(job['stream'], 'rb') as stdin, open(job['results'], 'wb') as stdout:
            node = tmp_path / ('node-%s' % job['ident'])
            job['worker'] = subprocess.Popen([RUNNER, 'worker', '--private-data-dir', str(node)],  # pylint: disable=consider-using-with
                                             stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    for job in slices:
        stderr = job['worker'].communicate(timeout=600)[1]
        assert job['worker'].returncode == 0, stderr.decode(errors='replace')

    # Control node again: process each worker's stream into the job's events and artifacts.
    for job in slices:
        with open(job['results'], 'rb') as stdin:
            proc = subprocess.run([RUNNER, 'process', str(job['pdd']), '--ident', job['ident']], stdin=stdin,
                                  capture_output=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr.decode(errors='replace')
        artifacts = job['pdd'] / 'artifacts' / job['ident']
        status, rc = (artifacts / 'status').read_text().strip(), (artifacts / 'rc').read_text().strip()
        assert (status, rc) == ('successful', '0'), (artifacts / 'stdout').read_text()[-6000:]
        events = [json.loads(p.read_text()) for p in (artifacts / 'job_events').iterdir()]
        streamed = stream_events(job['results'])
        # The events came back through the stream and process wrote each of them into the job's artifacts.
        assert streamed and sorted(e['uuid'] for e in events) == sorted(e['uuid'] for e in streamed)
        assert any(e['event'] == 'playbook_on_start' for e in events)
        stats = [e for e in events if e['event'] == 'playbook_on_stats']
        assert len(stats) == 1
        # set_stats arrived: AWX's job artifacts.
        summary = stats[0]['event_data']['artifact_data']['workspaces_stop']
        assert summary['mode'] == 'inventory' and summary['totals']['stopped'] == len(job['hosts'])
        assert summary['totals']['failed'] == 0
        # No secret in the streamed events, nor in the stdout and events that process wrote from them. The stream
        # carries the job's environment in exactly two places, both ansible-runner's own records of how it started the
        # job (AWX stores that environment redacted): the "starting" status message and the artifacts' "command" file.
        for secret in (SECRET_KEY, SESSION_TOKEN):
            assert secret not in json.dumps(streamed)
            assert secret not in (artifacts / 'stdout').read_text()
            assert all(secret not in p.read_text() for p in (artifacts / 'job_events').iterdir())
            assert [p.name for p in artifacts.rglob('*') if p.is_file() and secret in p.read_text(errors='replace')] == ['command']
            assert stream_lines_with(job['results'], secret) == ['status:starting', 'artifacts-zip']

    # Every desktop stopped exactly once, across both slices, each by the slice that has it.
    requests = [(c['region'], r['WorkspaceId']) for c in emulator.calls(operation='StopWorkspaces') for r in c['params']['StopWorkspaceRequests']]
    assert sorted(w for _region, w in requests) == fleet
    assert {c['access_key_id'] for c in emulator.calls()} == {ACCESS_KEY}
    assert all(c['session_token_sent'] for c in emulator.calls())
    assert {w['state'] for w in emulator.workspaces()} == {'STOPPED'}  # the role waited for them
