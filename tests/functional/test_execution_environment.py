# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml renders, offline, into the build context that podman or docker would build.

No container engine runs here: the test builds the collection tarball as ``make build`` does, runs ``ansible-builder
create`` on the definition and checks what the image build would do (package manager, base image, collections, Python
requirements), then runs ansible-builder's own introspection script, as the image build does, over the collections it
would install, to show that every Python package that ends up on top of the base image is pinned to one version.
"""
from __future__ import annotations

import filecmp
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

import ansible_collections.amazon.aws as amazon_aws

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
TARBALL = 'fleetops-workspaces-0.1.0.tar.gz'


def run(*cmd, cwd=None, env=None):
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300, check=False, cwd=cwd, env=env)
    assert proc.returncode == 0, '%s\n%s\n%s' % (' '.join(cmd), proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """A copy of the definition next to .build/<tarball>, as after ``make build``."""
    root = tmp_path_factory.mktemp('ee')
    shutil.copy(os.path.join(REPO, 'execution-environment.yml'), root / 'execution-environment.yml')
    env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    env.update(ANSIBLE_HOME=str(root / 'ansible-home'), ANSIBLE_NOCOLOR='1')
    run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', REPO, '--output-path', str(root / '.build'), '--force', env=env)
    return root, env


def create(root, name):
    run(os.path.join(BIN, 'ansible-builder'), 'create', '--file', 'execution-environment.yml', '--context', name,
        '--output-filename', 'Containerfile', cwd=str(root))
    return root / name


@pytest.fixture(scope='module')
def context(project):
    return create(project[0], 'context')


def definition():
    with open(os.path.join(REPO, 'execution-environment.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def test_containerfile_uses_microdnf_on_the_pinned_base_image(context):
    containerfile = (context / 'Containerfile').read_text()
    base = definition()['images']['base_image']['name']
    assert 'ee-minimal-rhel9' in base
    assert re.fullmatch(r'[^:@]+(:[\w.-]+|@sha256:[0-9a-f]{64})', base) and not base.endswith(':latest'), base
    assert 'ARG EE_BASE_IMAGE="%s"' % base in containerfile
    # ee-minimal-rhel9 has no dnf: every package manager call of the build goes through microdnf.
    assert 'ARG PKGMGR="/usr/bin/microdnf"' in containerfile and '/usr/bin/dnf' not in containerfile
    # ansible-core and ansible-runner come with the base image: nothing installs them again, the build checks them.
    assert 'ansible-core' not in containerfile and 'ansible-runner' not in containerfile
    assert 'check_ansible' in containerfile
    assert 'ansible-galaxy collection install' in containerfile and '-r requirements.yml' in containerfile


def test_collections_are_pinned(context, project):
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    collections = {c['name']: c for c in requirements['collections']}
    with open(os.path.join(list(amazon_aws.__path__)[0], 'MANIFEST.json'), encoding='utf-8') as handle:
        tested = json.load(handle)['collection_info']['version']
    assert collections.pop('amazon.aws') == {'name': 'amazon.aws', 'version': tested}
    # This collection is the tarball built from the checkout, copied into the context (no git, no Galaxy).
    ours = collections.pop('/build/collections/%s' % TARBALL)
    assert ours['type'] == 'file'
    assert collections == {}
    assert filecmp.cmp(context / '_build' / 'collections' / TARBALL, project[0] / '.build' / TARBALL, shallow=False)
    # The image build copies _build to /build before installing the collections.
    assert 'COPY _build /build' in (context / 'Containerfile').read_text()


def test_python_requirements_are_pinned_to_the_tested_versions(context):
    lines = [line.split('#')[0].strip() for line in (context / '_build' / 'requirements.txt').read_text().splitlines()]
    pins = dict(line.split('==') for line in lines if line)
    assert {'boto3', 'botocore'} <= set(pins)
    for name, version in pins.items():
        assert importlib.metadata.version(name) == version, name  # the versions the tests run with
    assert (context / '_build' / 'exclude-requirements.txt').read_text().split() == ['aiobotocore']


def test_every_python_package_of_the_collections_is_pinned(context, project, tmp_path):
    """ansible-builder's introspection (what the image build runs) over amazon.aws and this collection: every package
    it would install is pinned with == by the definition, and the excluded one is gone."""
    root, env = project
    collections = tmp_path / 'collections'
    run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', str(root / '.build' / TARBALL), '-p', str(collections),
        '--no-deps', '--offline', env=env)
    (collections / 'ansible_collections' / 'amazon').mkdir()
    os.symlink(list(amazon_aws.__path__)[0], collections / 'ansible_collections' / 'amazon' / 'aws', target_is_directory=True)
    build = context / '_build'
    out = tmp_path / 'requirements.txt'
    run(sys.executable, str(build / 'scripts' / 'introspect.py'), 'introspect', str(collections),
        '--user-pip', str(build / 'requirements.txt'), '--exclude-pip-reqs', str(build / 'exclude-requirements.txt'), '--write-pip', str(out))
    combined = [line.split('#')[0].strip() for line in out.read_text().splitlines() if line.split('#')[0].strip()]
    names = {re.split(r'[<>=!~ \[;]', line, maxsplit=1)[0].lower() for line in combined}
    pinned = {line.split('==')[0].lower() for line in combined if '==' in line}
    assert {'boto3', 'botocore'} <= names
    assert 'aiobotocore' not in names
    assert names <= pinned, sorted(names - pinned)


def test_two_creates_give_the_same_context(context, project):
    again = create(project[0], 'context-again')
    compared = filecmp.dircmp(context, again)

    def differences(cmp):
        found = list(cmp.left_only) + list(cmp.right_only) + list(cmp.diff_files)
        for sub in cmp.subdirs.values():
            found.extend(differences(sub))
        return found

    assert differences(compared) == []
