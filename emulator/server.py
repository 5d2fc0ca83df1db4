# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator server: moto's threaded werkzeug server and Flask apps, wrapped by a small WSGI layer.

:class:`EmulatorApp` sits in front of moto's ``DomainDispatcherApplication``: it serves ``/_emulator/``
itself (:mod:`emulator.control`), and for every AWS API call applies latency / throttling / 5xx faults,
serialises backend access with :data:`emulator.runtime.LOCK` and records the call and its outcome.
"""
from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from moto import backends as moto_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from emulator import control
from emulator.extension import install
from emulator.runtime import CALLS, FAULTS, LOCK, wall
from emulator.seed import seed

_SCOPE_RE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request")
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
# moto Flask apps built during start-up so the first API call does not pay for them.
WARM_SERVICES = ("workspaces", "resourcegroupstaggingapi")


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back for moto to read again (left alone when there is no Content-Length)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def identify(environ: dict[str, Any]) -> dict[str, Any] | None:
    """service / operation / region / params of a SigV4-signed AWS call, or None for anything else."""
    scope = _SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return None
    region, service = scope.groups()
    body = _read_body(environ)
    params: Any = {}
    if body:
        try:
            params = json.loads(body)
        except ValueError:
            params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation = target.rsplit(".", 1)[-1] if target else (query.get("Action") or (params.get("Action") if isinstance(params, dict) else None))
    return {"service": service, "operation": operation or environ.get("PATH_INFO", ""), "region": region, "params": params}


def _access_key_id(authorization: str) -> str | None:
    """The access key id of a SigV4 ``Authorization`` header (``... Credential=AKID/date/region/service/aws4_request, ...``)."""
    marker = "Credential="
    if marker not in authorization:
        return None
    return authorization.split(marker, 1)[1].split("/", 1)[0] or None


def account_id_of(environ: dict[str, Any], access_key_id: str | None) -> str:
    """The account moto serves this call from (as moto's BaseResponse.get_current_account decides it)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    if access_key_id:
        from moto.iam.models import get_account_id_from  # pylint: disable=import-outside-toplevel

        return get_account_id_from(access_key_id)
    return DEFAULT_ACCOUNT_ID


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _json_error(code: str, status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode("utf-8")
    headers = [
        ("Content-Type", JSON_CONTENT_TYPE),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("x-amzn-ErrorType", code),
    ]
    return status, headers, body


def _ec2_error(code: str, status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An EC2 (query protocol) error response."""
    request_id = str(uuid.uuid4())
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{html.escape(message)}</Message>'
        f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
    ).encode("utf-8")
    return status, [("Content-Type", "text/xml;charset=UTF-8"), ("Content-Length", str(len(body)))], body


def error_code(status: int, headers: list[tuple[str, str]], body: bytes) -> str:
    """The AWS error code of a moto error response (JSON ``__type``, ``x-amzn-ErrorType`` or XML ``<Code>``)."""
    for name, value in headers:
        if name.lower() == "x-amzn-errortype" and value:
            return value.split(":")[0].split("#")[-1]
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and parsed.get("__type"):
            return str(parsed["__type"]).rsplit("#", maxsplit=1)[-1]
    except ValueError:
        match = re.search(rb"<Code>([^<]+)</Code>", body)
        if match:
            return match.group(1).decode("utf-8", "replace")
    return f"HTTP{status}"


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, minus one cost: moto's own ``get_backend_for_host`` lists moto's package directory (an
    ``isdir`` per service module, several hundred) on every request to ask whether the host names a moto module. That
    list cannot change while the server runs, so it is read once; the rest is moto's logic unchanged. Measured with
    py-spy: a third of the emulator's CPU per DescribeWorkspaces call went to that listing."""

    _moto_modules: frozenset[str] | None = None

    def get_backend_for_host(self, host: str | None) -> Any:
        if host is None or host == "moto_api":
            return host
        if _Dispatcher._moto_modules is None:
            _Dispatcher._moto_modules = frozenset(moto_backends.list_of_moto_modules())
        if host in _Dispatcher._moto_modules:
            return host
        for backend, pattern in self.backend_url_patterns:
            if pattern.match(f"http://{host}"):
                return backend
        return None


class EmulatorApp:
    """WSGI layer in front of moto's dispatcher: control endpoint, faults, call log, locking."""

    def __init__(self, moto_app: DomainDispatcherApplication):
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == control.PREFIX or path.startswith(control.PREFIX + "/"):
            return control.handle(environ, start_response)
        call = identify(environ)
        if call is None:  # unsigned: moto's own /moto-api/, metadata endpoints...
            with LOCK:
                status, headers, body = self._call_moto(environ)
        else:
            status, headers, body = self._aws_call(environ, call)
        start_response(_status_line(status), headers)
        return [body]

    def _aws_call(self, environ: dict[str, Any], call: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        service, operation, region = call["service"], call["operation"], call["region"]
        received = wall()
        access_key_id = _access_key_id(environ.get("HTTP_AUTHORIZATION", ""))
        with LOCK:  # moto creates IAM backends lazily
            account_id = account_id_of(environ, access_key_id)
        latency = FAULTS.latency_seconds(service, operation)
        if latency:
            time.sleep(latency)
        kind: str | None = None
        gated = FAULTS.gate(service, operation, region, account_id)
        if gated is not None:
            kind, fault = gated
        else:
            fault = FAULTS.pick_fault(service, operation)
            if fault is not None:
                kind = "throttle" if fault[0] == "ThrottlingException" else "error"
        if fault is None and service == "ec2" and FAULTS.ec2_denied(operation):
            kind, fault = "access_denied", ("UnauthorizedOperation", 403, (
                f"You are not authorized to perform this operation. User: arn:aws:iam::{account_id}:user/emulator is not authorized "
                f"to perform: ec2:{operation} because no identity-based policy allows the ec2:{operation} action"))
            status, headers, body = _ec2_error(*fault)
            outcome = fault[0]
        elif fault is not None:
            status, headers, body = _json_error(*fault)
            outcome = fault[0]
        else:
            with LOCK:
                status, headers, body = self._call_moto(environ)
            outcome = "ok" if status < 400 else error_code(status, headers, body)
        CALLS.record({
            "time": received,
            "service": service,
            "operation": operation,
            "region": region,
            "account_id": account_id,
            "params": call["params"],
            "outcome": outcome,
            "status": status,
            "injected": fault is not None,
            # Which injected fault: throttle, error, rate_limit, access_denied, expired_token (None: served by moto).
            "fault": kind,
            "duration_ms": round((wall() - received) * 1000, 3),
            # Who signed it (the access key id is not a secret) and whether an STS session token came along (never its value).
            "access_key_id": access_key_id,
            "session_token_sent": bool(environ.get("HTTP_X_AMZ_SECURITY_TOKEN")),
        })
        return status, headers, body

    def _call_moto(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:  # pylint: disable=unused-argument
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), list(headers)
            return written.append

        try:
            result = self.moto_app(environ, start_response)
            try:
                body = b"".join(written) + b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except NotImplementedError as exc:
            # Not retryable (botocore retries 500/502/503/504 only), so clients fail fast with a clear message.
            return _json_error("NotImplementedError", 501, f"The WorkSpaces emulator (moto) does not implement this call: {exc}")
        except Exception as exc:  # pylint: disable=broad-exception-caught
            traceback.print_exc(file=sys.stderr)
            return _json_error("InternalFailure", 500, f"Emulator error: {type(exc).__name__}: {exc}")
        return captured["status"], captured["headers"], body


class _RequestHandler(MotoRequestHandler):
    """moto's request handler; per-request access logging only when ``verbose``."""

    verbose = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.verbose:
            super().log_request(code, size)


def _warm_up(dispatcher: DomainDispatcherApplication) -> None:
    """Build the Flask apps (and import the modules) the first API calls would otherwise pay for."""
    with LOCK:
        import moto.iam.models  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        with dispatcher.lock:
            for service in WARM_SERVICES:
                if service not in dispatcher.app_instances:
                    dispatcher.app_instances[service] = create_backend_app(service)  # type: ignore[arg-type]


class EmulatorServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer serving :class:`EmulatorApp` (a threaded werkzeug server)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        super().__init__(ip_address=host, port=port, verbose=False)
        self._handler = type("EmulatorRequestHandler", (_RequestHandler,), {"verbose": verbose})
        self._error: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            dispatcher = _Dispatcher(create_backend_app)
            _warm_up(dispatcher)
            self._server = make_server(self._ip_address, self._port, EmulatorApp(dispatcher), True, request_handler=self._handler)
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            self._error = exc
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.1)

    def start(self) -> None:
        install()
        super().start()
        if self._error is not None:
            raise RuntimeError(f"emulator could not listen on {self._ip_address}:{self._port}: {self._error}") from self._error

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"


def configure(faults: dict[str, Any] | None = None) -> None:
    """Install the moto extension and make ``faults`` the start-up (baseline) fault configuration."""
    install()
    if faults:
        FAULTS.update(faults, baseline=True)


def start_in_thread(port: int = 0, host: str = "127.0.0.1", verbose: bool = False, seed_spec: dict[str, Any] | None = None,
                    **faults: Any) -> tuple[str, Callable[[], None]]:
    """Start a server in a background thread of this process; return ``(url, stop)``.

    ``faults`` are fault settings (see :mod:`emulator.faults`, e.g. ``throttle_rate=0.3, latency_ms=50``)
    and become the baseline that ``/_emulator/reset`` returns to.  All servers of one process share state.
    """
    configure(faults)
    server = EmulatorServer(host, port, verbose)
    server.start()
    if seed_spec:
        seed(seed_spec)
    return server.url, server.stop


@contextlib.contextmanager
def running(**opts: Any) -> Iterator[str]:
    """``with running(latency_ms=10) as url: ...``: a server for the duration of the block."""
    url, stop = start_in_thread(**opts)
    try:
        yield url
    finally:
        stop()
