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
from collections.abc import Callable, Iterable, Iterator
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


_BASELINE_FAULTS: dict[str, dict] = {}


@pytest.fixture
def emulator(emulator_server: EmulatorServerHandle) -> EmulatorClient:  # pylint: disable=redefined-outer-name
    """The session emulator, reset (no desktops, start-up faults and delays, empty call log); an EmulatorClient with ``.url``.

    One server serves every test of a pytest worker; the reset between tests is checked, so that no test inherits
    another's desktops, faults, delays or calls: the faults must equal those of the session's first reset.
    """
    client = emulator_server.client
    answer = client.reset()
    baseline = _BASELINE_FAULTS.setdefault(client.url, answer["faults"])
    assert answer["faults"] == baseline, f"the emulator reset to other faults than at start-up: {answer['faults']} != {baseline}"
    assert client.calls() == [] and client.health()["workspaces"] == 0, "the emulator reset left calls or desktops behind"
    return client


# -- a gate in front of the emulator: hold calls to make races and concurrency deterministic -----------------------------
class GateProxy:
    """A loopback HTTP proxy in front of the emulator that can hold AWS calls, so that tests prove orderings and
    concurrency with events instead of sleeps and latencies.

    Point clients at ``.url`` (``AWS_ENDPOINT_URL``); calls are forwarded to the emulator unchanged. ``hold(operation,
    after=n)`` makes every call of ``operation`` beyond the first ``n`` wait until ``release()``; ``wait_held(k)`` blocks
    until ``k`` calls are waiting. ``barrier(n, operations)`` holds calls of ``operations`` until ``n`` of them are in
    flight together (then lets them all go): reaching it proves that ``n`` calls overlapped. ``peak`` is the most calls
    ever in flight at once through the proxy (per operation in ``peaks``). A held call whose client went away is still
    forwarded when released, like a request that reached AWS before its sender died.
    """

    GUARD = 120.0  # a barrier never reached or a hold never released fails the call (HTTP 599) after this long

    def __init__(self, upstream: str):
        import http.server  # pylint: disable=import-outside-toplevel
        from urllib.parse import urlsplit  # pylint: disable=import-outside-toplevel

        self.upstream = urlsplit(upstream)
        self.cond = threading.Condition()
        self.in_flight: dict[str, int] = {}
        self.total_in_flight = 0
        self.peak = 0
        self.peaks: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        self.holds: dict[str, int] = {}
        self.held = 0
        self.held_total = 0
        self.released = True
        self.barrier_size = 0
        self.barrier_ops: frozenset[str] = frozenset()
        self.barrier_reached = False
        self.guard_expired = 0
        self.failures: dict[str, tuple[str, int, str]] = {}
        self.failed_calls: list[tuple[str, bytes]] = []  # (operation, request body) of every call answered by fail()
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, answer = gate.forward(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                try:
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away while its call was held (a killed process): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any  # noqa: N815

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    @staticmethod
    def operation(path: str, headers: dict[str, str], body: bytes) -> str:
        target = {k.lower(): v for k, v in headers.items()}.get("x-amz-target", "")
        if target:
            return target.rsplit(".", 1)[-1]
        if path.startswith("/_emulator"):
            return "_control"
        from urllib.parse import parse_qs  # pylint: disable=import-outside-toplevel

        action = parse_qs(body.decode("utf-8", "replace")).get("Action") or parse_qs(path.partition("?")[2]).get("Action")
        return action[0] if action else path

    # -- configuration (from the test) --
    def hold(self, operation: str, after: int = 0) -> None:
        """Hold every call of ``operation`` beyond the first ``after`` (counted from now) until :meth:`release`."""
        with self.cond:
            self.holds[operation] = self.seen.get(operation, 0) + after
            self.released = False

    def fail(self, operation: str, code: str = "AccessDeniedException", status: int = 400,
             message: str = "User is not authorized to perform this action") -> None:
        """Answer every call of ``operation`` with this AWS JSON error (not retried by clients when it is a 4xx)."""
        with self.cond:
            self.failures[operation] = (code, status, message)

    def release(self) -> None:
        with self.cond:
            self.holds.clear()
            self.released = True
            self.cond.notify_all()

    def wait_held(self, count: int = 1, timeout: float = GUARD) -> None:
        """Block until ``count`` calls are being held (AssertionError after ``timeout``)."""
        with self.cond:
            if not self.cond.wait_for(lambda: self.held >= count, timeout=timeout):
                raise AssertionError(f"fewer than {count} calls were ever held (held now: {self.held})")

    def barrier(self, size: int, operations: Iterable[str]) -> None:
        """Hold calls of ``operations`` until ``size`` of them are in flight at once (once); see :attr:`barrier_reached`."""
        with self.cond:
            self.barrier_size, self.barrier_ops, self.barrier_reached = size, frozenset(operations), False

    def reset_counts(self) -> None:
        with self.cond:
            self.peak, self.peaks, self.seen = 0, {}, {}

    # -- the proxy --
    def _must_wait(self, operation: str, number: int) -> bool:
        if operation in self.holds and number > self.holds[operation] and not self.released:
            return True
        if self.barrier_size and operation in self.barrier_ops and not self.barrier_reached:
            return True
        return False

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        import http.client  # pylint: disable=import-outside-toplevel

        operation = self.operation(path, headers, body)
        counted = operation != "_control"
        expired = False
        with self.cond:
            if counted:
                self.seen[operation] = number = self.seen.get(operation, 0) + 1
                self.in_flight[operation] = self.in_flight.get(operation, 0) + 1
                self.total_in_flight += 1
                self.peak = max(self.peak, self.total_in_flight)
                self.peaks[operation] = max(self.peaks.get(operation, 0), self.in_flight[operation])
                if self.barrier_size and operation in self.barrier_ops and not self.barrier_reached:
                    if sum(self.in_flight.get(op, 0) for op in self.barrier_ops) >= self.barrier_size:
                        self.barrier_reached = True
                        self.cond.notify_all()
                if self._must_wait(operation, number):
                    self.held += 1
                    self.held_total += 1
                    self.cond.notify_all()
                    if not self.cond.wait_for(lambda: not self._must_wait(operation, number), timeout=self.GUARD):
                        self.guard_expired += 1
                        expired = True
                    self.held -= 1
        try:
            if expired:
                return 599, [("Content-Type", "text/plain")], b"gate guard expired"
            if operation in self.failures:
                import json  # pylint: disable=import-outside-toplevel

                code, status, message = self.failures[operation]
                with self.cond:
                    self.failed_calls.append((operation, body))
                return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                                ("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")], \
                    json.dumps({"__type": code, "message": message}).encode("utf-8")
            conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=600)
            try:
                headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                return response.status, list(response.getheaders()), response.read()
            finally:
                conn.close()
        finally:
            if counted:
                with self.cond:
                    self.in_flight[operation] -= 1
                    self.total_in_flight -= 1

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def emulator_gate(emulator: EmulatorClient) -> Iterator[GateProxy]:  # pylint: disable=redefined-outer-name
    """A :class:`GateProxy` in front of the (reset) emulator; closed (every held call released) after the test."""
    gate = GateProxy(emulator.url)
    try:
        yield gate
    finally:
        gate.close()
