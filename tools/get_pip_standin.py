# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write offline stand-ins for ansible-test's get-pip bootstrap into its cache.

ansible-test bootstraps pip in each virtual environment it creates by downloading
``get-pip-<version>.py`` from a host that this machine cannot reach. When the script is
already in ``~/.ansible/test/cache/get_pip_<version>.py`` it uses that copy. The stand-in
installs pip from the running Python's own ``ensurepip`` and then upgrades to the requested
packages from the package index, which is reachable. No installed file is edited.
"""
from __future__ import annotations

import glob
import os
import re
import sys

STANDIN = '''\
# Offline stand-in for get-pip.py, written by fleetops.workspaces tools/get_pip_standin.py.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + args))
'''


def pip_versions(venv):
    versions = set()
    pattern = os.path.join(venv, 'lib', 'python*', 'site-packages', 'ansible_test', '_internal', 'python_requirements.py')
    for path in glob.glob(pattern):
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        versions.update(re.findall(r"pip\s*=\s*'([0-9][0-9.]*)'", text))
        versions.update(re.findall(r"'pip'\s*:\s*'([0-9][0-9.]*)'", text))
    return versions


def main(venvs):
    cache = os.path.expanduser('~/.ansible/test/cache')
    os.makedirs(cache, exist_ok=True)
    found = set()
    for venv in venvs:
        found |= pip_versions(venv)
    if not found and any(os.path.isdir(v) for v in venvs):
        sys.exit('get_pip_standin: no pip version found in ansible-test of %s' % ', '.join(venvs))
    for version in sorted(found):
        path = os.path.join(cache, 'get_pip_%s.py' % version.replace('.', '_'))
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(STANDIN)


if __name__ == '__main__':
    main(sys.argv[1:])
