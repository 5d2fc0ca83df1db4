# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection builds into a tarball that installs offline next to the venv's amazon.aws, without dev files."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def galaxy(*args, env=None):
    return subprocess.run([os.path.join(BIN, 'ansible-galaxy')] + list(args), capture_output=True, text=True, check=False, env=env, timeout=300)


def test_build_and_offline_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    env.update(ANSIBLE_HOME=str(tmp_path / 'home'), ANSIBLE_NOCOLOR='1')
    built = galaxy('collection', 'build', REPO, '--output-path', str(tmp_path), '--force', env=env)
    assert built.returncode == 0, built.stderr
    tarball = tmp_path / 'fleetops-workspaces-0.1.0.tar.gz'
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert 'plugins/modules/workspaces_stop.py' in names and 'meta/runtime.yml' in names and 'MANIFEST.json' in names
    leaked = [n for n in names if n.split('/')[0] in ('.venv', '.venv-core217', '.build', 'emulator', 'benchmarks', 'tools', '.git', '.ci')]
    assert leaked == []

    target = tmp_path / 'collections'
    installed = galaxy('collection', 'install', str(tarball), '-p', str(target), '--no-deps', '--offline', env=env)
    assert installed.returncode == 0, installed.stderr
    assert (target / 'ansible_collections' / 'fleetops' / 'workspaces' / 'plugins' / 'modules' / 'workspaces_stop.py').is_file()

    env['ANSIBLE_COLLECTIONS_PATH'] = str(target)  # amazon.aws still comes from the venv's ansible package
    doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '--json', 'fleetops.workspaces.workspaces_stop'], capture_output=True, text=True,
                         check=False, env=env, timeout=120)
    assert doc.returncode == 0, doc.stderr
    assert str(target) in doc.stdout and '"wait_timeout"' in doc.stdout and '"access_key"' in doc.stdout
