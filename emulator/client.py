# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client for the emulator's control endpoint (standard library only)."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DUMMY_CREDENTIALS = {"aws_access_key_id": "AKIAEMULATOREXAMPLE0", "aws_secret_access_key": "emulator-secret"}


def load_spec(path: str) -> dict[str, Any]:
    """Read a YAML or JSON seed spec file (``.json`` is parsed as JSON, anything else as YAML)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith(".json"):
        return json.loads(text)
    import yaml  # pylint: disable=import-outside-toplevel

    return yaml.safe_load(text)


class EmulatorError(Exception):
    """The control endpoint answered with an error (``status`` is the HTTP status)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class EmulatorClient:
    """Talks to ``<url>/_emulator/``; ``url`` is also the ``endpoint_url`` for boto3."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"EmulatorClient({self.url!r})"

    def _request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        url = f"{self.url}/_emulator/{path}"
        query = {k: v for k, v in (query or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("error", raw.decode("utf-8", "replace"))
            except ValueError:
                message = raw.decode("utf-8", "replace")
            raise EmulatorError(exc.code, message) from None

    def health(self) -> dict[str, Any]:
        return self._request("GET", "health")

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Seed a fleet; returns ``{"count", "workspaces": [...], "directories": [...]}``."""
        return self._request("POST", "seed", spec)

    def reset(self) -> dict[str, Any]:
        """Drop all moto state, restore the start-up faults and clear the call log."""
        return self._request("POST", "reset", {})

    def call_report(self, operation: str | None = None, service: str | None = None, since: int = 0) -> dict[str, Any]:
        """The raw ``GET /_emulator/calls`` answer: ``{"calls", "counts", "counts_ok"}``."""
        return self._request("GET", "calls", query={"operation": operation, "service": service, "since": since or None})

    def calls(self, operation: str | None = None, service: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Logged AWS calls (oldest first), optionally only one operation / service / after a ``seq``."""
        return self.call_report(operation, service, since)["calls"]

    def rate_stats(self, since: int = 0) -> dict[str, Any]:
        """``GET /_emulator/rate``: per account and region, attempted / accepted / rate-limited calls, the accepted rate,
        per-second windows and the largest bursts over the limit (from the call log), plus the current ``rate_limit``."""
        return self._request("GET", "rate", query={"since": since or None})

    def reset_calls(self) -> int:
        return self._request("DELETE", "calls")["cleared"]

    def counts(self, ok_only: bool = False) -> dict[str, int]:
        """Calls per operation (all outcomes, or only successful ones with ``ok_only``)."""
        report = self.call_report()
        return report["counts_ok" if ok_only else "counts"]

    def get_faults(self) -> dict[str, Any]:
        return self._request("GET", "faults")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Merge fault settings, e.g. ``set_faults(throttle_rate=0.3, fault_seed=1)``; ``clear=True`` starts from none."""
        return self._request("POST", "faults", settings)

    def set_workspace(self, workspace_id: str, region: str, **fields: Any) -> dict[str, Any]:
        """Force one desktop's state / running_mode / connection_state (None: no entry) / user_name / tags / workspace_name /
        last_connected_minutes_ago / last_known_user_connection_timestamp (None or "never": never connected)."""
        return self._request("POST", f"workspaces/{urllib.parse.quote(workspace_id)}", dict(fields, region=region))

    def set_connection(self, workspace_id: str, region: str, connection_state: str | None = "DISCONNECTED", **last: Any) -> dict[str, Any]:
        """Change one desktop's connection at run time, e.g. ``set_connection(i, r, "CONNECTED")`` (a user connects now) or
        ``set_connection(i, r, "DISCONNECTED", last_connected_minutes_ago=90)``; ``connection_state=None``: no status entry.
        ``last`` is ``last_connected_minutes_ago`` or ``last_known_user_connection_timestamp`` (None / "never": never)."""
        return self.set_workspace(workspace_id, region, connection_state=connection_state, **last)

    def workspaces(self, region: str | None = None, account_id: str | None = None) -> list[dict[str, Any]]:
        """Ground truth: every desktop with region, state, running_mode, connection_state, tags, ..."""
        return self._request("GET", "workspaces", query={"region": region, "account_id": account_id})["workspaces"]

    def workspace(self, workspace_id: str, region: str | None = None) -> dict[str, Any]:
        """One desktop from :meth:`workspaces` (KeyError when absent)."""
        for item in self.workspaces(region):
            if item["workspace_id"] == workspace_id:
                return item
        raise KeyError(workspace_id)

    def boto3_client(self, service: str, region_name: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 client pointed at this emulator with dummy credentials (imports boto3 lazily)."""
        import boto3  # pylint: disable=import-outside-toplevel

        options = dict(DUMMY_CREDENTIALS, region_name=region_name, endpoint_url=self.url)
        options.update(kwargs)
        return boto3.client(service, **options)
