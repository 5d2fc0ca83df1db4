# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures: ``emulator_server`` (session) and ``emulator`` (per test, reset first).

By default the server runs as a subprocess (``python -m emulator serve --port 0``), which keeps moto's
global state out of the test process (tests using ``moto.mock_aws`` stay unaffected) and lets the server
use its own CPU.  ``--emulator-in-process`` runs it in a thread instead; ``--emulator-url URL`` uses a
server that is already running.  Nothing global (``os.environ``...) is changed: pass ``emulator.url``
as ``endpoint_url``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from emulator.client import EmulatorClient

START_TIMEOUT = 60.0


@dataclass
class EmulatorServerHandle:
    """What ``emulator_server`` yields."""

    url: str
    client: EmulatorClient
    log_path: str | None = None
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def stop(self) -> None:
        self._stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emulator", "WorkSpaces emulator")
    group.addoption("--emulator-in-process", action="store_true", default=False, help="run the emulator in a thread of the test process")
    group.addoption("--emulator-url", default=None, help="use an emulator that is already running at this URL")


def _read_url_line(proc: subprocess.Popen, timeout: float) -> str | None:
    found: list[str] = []

    def reader() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("EMULATOR_URL="):
                found.append(line.split("=", 1)[1])
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    return found[0] if found else None


def start_subprocess(log_path: str, extra_args: tuple[str, ...] = ()) -> EmulatorServerHandle:
    """``python -m emulator serve --port 0`` with stderr to ``log_path``; returns once the URL is printed."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "emulator", "serve", "--port", "0", *extra_args],
            stdout=subprocess.PIPE, stderr=log, env=env, cwd=root,
        )
    url = _read_url_line(proc, START_TIMEOUT)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    if url is None:
        stop()
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            raise RuntimeError(f"the emulator did not start (exit code {proc.returncode}):\n{handle.read()[-4000:]}")
    return EmulatorServerHandle(url=url, client=EmulatorClient(url), log_path=log_path, _stop=stop)


@pytest.fixture(scope="session")
def emulator_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServerHandle]:
    """One emulator for the whole session (``.url``, ``.client``)."""
    url = request.config.getoption("--emulator-url")
    if url:
        yield EmulatorServerHandle(url=url, client=EmulatorClient(url))
        return
    if request.config.getoption("--emulator-in-process"):
        from emulator.server import start_in_thread  # pylint: disable=import-outside-toplevel

        url, stop = start_in_thread()
        handle = EmulatorServerHandle(url=url, client=EmulatorClient(url), _stop=stop)
    else:
        handle = start_subprocess(str(tmp_path_factory.mktemp("emulator") / "emulator.log"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServerHandle) -> EmulatorClient:  # pylint: disable=redefined-outer-name
    """The session emulator, reset (no desktops, start-up faults, empty call log); an EmulatorClient with ``.url``."""
    emulator_server.client.reset()
    return emulator_server.client
