# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create or update .venv-bench (awscli, matplotlib) from requirements/bench.txt, idempotently.

awscli pins its own botocore, so it must not share .venv with ansible/boto3. Like tools/bootstrap.sh, the
requirements are (re)installed only when the file changes: a hash of it is kept in ``.venv-bench/.fleetops-stamp``.
"""
from __future__ import annotations

import hashlib
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, '.venv-bench')
REQUIREMENTS = os.path.join(ROOT, 'requirements', 'bench.txt')
STAMP = os.path.join(VENV, '.fleetops-stamp')
PYTHON_VERSION = '3.12'


def wanted_stamp():
    with open(REQUIREMENTS, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:16]


def is_current():
    try:
        with open(STAMP, encoding='utf-8') as handle:
            current = handle.read().strip()
    except OSError:
        return False
    return current == wanted_stamp() and os.access(os.path.join(VENV, 'bin', 'python'), os.X_OK)


def ensure(log=print):
    """Return the path of .venv-bench, creating or updating it first when requirements/bench.txt changed."""
    if is_current():
        return VENV
    log('>>> installing %s into %s (Python %s)' % (os.path.relpath(REQUIREMENTS, ROOT), os.path.relpath(VENV, ROOT), PYTHON_VERSION))
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK='1', PIP_NO_INPUT='1')
    python = os.path.join(VENV, 'bin', 'python')
    if not os.access(python, os.X_OK):
        base = subprocess.run([os.path.join(ROOT, 'tools', 'find-python.sh'), PYTHON_VERSION], check=True,
                              capture_output=True, text=True).stdout.strip()
        subprocess.run([base, '-m', 'venv', VENV], check=True)
    # --no-compile: see tools/bootstrap.sh (Python compiles what is imported, on first import).
    proc = subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-compile', '-r', REQUIREMENTS], env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError('could not install %s into %s:\n%s' % (REQUIREMENTS, VENV, (proc.stdout + proc.stderr)[-4000:]))
    with open(STAMP, 'w', encoding='utf-8') as handle:
        handle.write(wanted_stamp() + '\n')
    return VENV


def tool(name):
    """Path of an executable of .venv-bench (``aws``, ``python``)."""
    return os.path.join(VENV, 'bin', name)


if __name__ == '__main__':
    print(ensure())
