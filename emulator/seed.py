# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet seeding: directories and desktops inserted straight into moto's backends.

The spec format is documented in emulator/README.md.  Given the same ``seed`` and the same server
state, a spec always produces the same ids, users, states, tags and connection states.
"""
from __future__ import annotations

import datetime
import ipaddress
import itertools
import random
import string
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ds.models import Directory, ds_backends
from moto.ec2 import ec2_backends
from moto.workspaces.models import workspaces_backends

from emulator.runtime import LOCK, wall
from emulator.workspaces import CONNECTION_STATES, DEFAULT_AUTO_STOP_TIMEOUT, RUNNING_MODES, WORKSPACE_ID_RE, WORKSPACE_STATES, EmulatedWorkspace

DIRECTORY_ID_CHARS = "0123456789abcdef"
ID_CHARS = string.digits + string.ascii_lowercase
NO_CONNECTION = "NONE"

SPEC_KEYS = {"seed", "account_id", "regions"}
REGION_KEYS = {"directories", "workspaces"}
DIRECTORY_KEYS = {
    "directory_id", "directory_name", "count", "bundle_id", "user_prefix", "running_modes", "states", "connection_states",
    "tags", "tag_fraction", "last_connected_minutes_ago",
}
WORKSPACE_KEYS = {
    "workspace_id", "directory_id", "user_name", "state", "running_mode", "connection_state", "tags", "bundle_id",
    "workspace_name", "computer_name", "ip_address", "last_connected_minutes_ago", "last_known_user_connection_timestamp",
}
# Spellings of "never connected" (no LastKnownUserConnectionTimestamp) besides null.
NEVER = ("never", "none", "null")
# Marks "no idle setting given: keep the default" (None means never connected).
DEFAULT = object()


class SeedError(ValueError):
    """The seed spec is invalid."""


def _check_keys(what: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SeedError(f"{what} must be a mapping, got {type(value).__name__}")
    unknown = set(value) - allowed
    if unknown:
        raise SeedError(f"{what}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    return value


def _check_choice(what: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SeedError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def allocate(what: str, dist: Any, count: int, rng: random.Random, allowed: tuple[str, ...]) -> list[str]:
    """``count`` labels drawn from a plain label or a {label: weight} mapping, in exact proportions
    (largest remainder) and shuffled with ``rng``."""
    if isinstance(dist, str):
        return [_check_choice(what, dist, allowed)] * count
    if not isinstance(dist, dict) or not dist:
        raise SeedError(f"{what} must be a label or a non-empty mapping of label to fraction, got {dist!r}")
    weights = {}
    for label, weight in dist.items():
        _check_choice(what, label, allowed)
        if not isinstance(weight, (int, float)) or weight < 0:
            raise SeedError(f"{what}[{label}] must be a number >= 0, got {weight!r}")
        weights[label] = float(weight)
    total = sum(weights.values())
    if total <= 0:
        raise SeedError(f"{what}: the fractions add up to 0")
    exact = {label: count * weight / total for label, weight in weights.items()}
    counts = {label: int(value) for label, value in exact.items()}
    by_remainder = sorted(weights, key=lambda label: exact[label] - counts[label], reverse=True)
    for label in by_remainder[:count - sum(counts.values())]:
        counts[label] += 1
    labels = [label for label in weights for dummy in range(counts[label])]
    rng.shuffle(labels)
    return labels


def _is_never(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in NEVER)


def minutes_ago(what: str, value: Any, now: float) -> float | None:
    """Epoch seconds ``value`` minutes before ``now``; None for null / "never" (never connected)."""
    if _is_never(value):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise SeedError(f"{what} must be a number of minutes >= 0, null or 'never', got {value!r}")
    return now - float(value) * 60.0


def timestamp(what: str, value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 string (UTC unless it has an offset) or a number; None for null / "never"."""
    if _is_never(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime.datetime):  # YAML parses unquoted timestamps
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise SeedError(f"{what} must be an ISO 8601 timestamp, epoch seconds, null or 'never', got {value!r}") from exc
    else:
        raise SeedError(f"{what} must be an ISO 8601 timestamp, epoch seconds, null or 'never', got {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def last_connection(what: str, spec: dict[str, Any], now: float) -> Any:
    """The last-connection time an explicit desktop (or a control request) asks for: epoch seconds, None (never), or DEFAULT."""
    given = [key for key in ("last_connected_minutes_ago", "last_known_user_connection_timestamp") if key in spec]
    if len(given) > 1:
        raise SeedError(f"{what}: give last_connected_minutes_ago or last_known_user_connection_timestamp, not both")
    if not given:
        return DEFAULT
    if given[0] == "last_connected_minutes_ago":
        return minutes_ago(f"{what}.last_connected_minutes_ago", spec[given[0]], now)
    return timestamp(f"{what}.last_known_user_connection_timestamp", spec[given[0]])


def idle_times(what: str, value: Any, count: int, rng: random.Random, now: float) -> list[Any]:
    """Per-desktop last-connection times (epoch seconds or None) of a directory group's ``last_connected_minutes_ago``.

    A number / null / "never": the same for all; a list: assigned in order (cycled when shorter than ``count``);
    ``{min: M, max: N}``: uniform minutes drawn with the seed; ``{minutes or "never": fraction}``: exact proportions,
    shuffled with the seed.
    """
    if count == 0:
        return []
    if isinstance(value, list):
        if not value:
            raise SeedError(f"{what} must not be an empty list")
        times = [minutes_ago(f"{what}[{i}]", v, now) for i, v in enumerate(value)]
        return list(itertools.islice(itertools.cycle(times), count))
    if isinstance(value, dict) and value and set(value) <= {"min", "max"}:
        low = minutes_ago(f"{what}.min", value.get("min", 0), now)
        high = minutes_ago(f"{what}.max", value.get("max", value.get("min", 0)), now)
        if low is None or high is None or high > low:
            raise SeedError(f"{what} needs numbers with min <= max, got {value!r}")
        return [rng.uniform(high, low) for dummy in range(count)]
    if isinstance(value, dict):
        keys = tuple(value)
        labels = allocate(what, value, count, rng, keys)
        times = {key: minutes_ago(f"{what} key {key!r}", key, now) for key in keys}
        return [times[label] for label in labels]
    return [minutes_ago(what, value, now)] * count


def _random_id(rng: random.Random, prefix: str, chars: str, length: int) -> str:
    return prefix + "".join(rng.choice(chars) for dummy in range(length))


def _tags(what: str, value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise SeedError(f"{what} must be a mapping of tag key to value")
    return [{"Key": str(k), "Value": "" if v is None else str(v)} for k, v in value.items()]


def _network(account_id: str, region: str) -> tuple[str, list[str]]:
    """A VPC and two subnets in different availability zones (the default VPC when moto has one)."""
    ec2 = ec2_backends[account_id][region]
    vpc = ec2.get_default_vpc()
    if vpc is not None:
        by_zone: dict[str, str] = {}
        for subnet in ec2.describe_subnets(filters={"vpc-id": [vpc.id]}):
            by_zone.setdefault(subnet.availability_zone, subnet.id)
        if len(by_zone) >= 2:
            return vpc.id, [by_zone[zone] for zone in sorted(by_zone)[:2]]
    vpc = ec2.create_vpc(cidr_block="10.200.0.0/16")
    subnets = [
        ec2.create_subnet(vpc_id=vpc.id, cidr_block=f"10.200.{16 * i}.0/20", availability_zone=f"{region}{zone}")
        for i, zone in enumerate("ab")
    ]
    return vpc.id, [s.id for s in subnets]


def ensure_directory(account_id: str, region: str, directory_id: str, name: str | None = None) -> Any:
    """Register ``directory_id`` with WorkSpaces (creating the Simple AD directory in moto's DS backend first)."""
    ws_backend = workspaces_backends[account_id][region]
    if directory_id in ws_backend.workspace_directories:
        return ws_backend.workspace_directories[directory_id]
    ds_backend = ds_backends[account_id][region]
    if directory_id not in ds_backend.directories:
        vpc_id, subnet_ids = _network(account_id, region)
        directory = Directory(
            account_id, region, name or f"{directory_id}.corp.example.com", "Seeded-Passw0rd!", "SimpleAD",
            size="Small", vpc_settings={"VpcId": vpc_id, "SubnetIds": subnet_ids},
        )
        directory.directory_id = directory.alias = directory_id
        directory.access_url = f"{directory_id}.awsapps.com"
        ds_backend.directories[directory_id] = directory
    ws_backend.register_workspace_directory(directory_id=directory_id, subnet_ids=[], enable_self_service=False, tenancy="SHARED", tags=[])
    return ws_backend.workspace_directories[directory_id]


class _Seeder:  # pylint: disable=too-few-public-methods
    """State of one seed() call: RNG, account, and the id sets used to keep new ids unique."""

    def __init__(self, spec: dict[str, Any]):
        _check_keys("seed spec", spec, SPEC_KEYS)
        self.rng = random.Random(spec.get("seed", 0))
        self.account_id = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
        self.created: list[EmulatedWorkspace] = []
        self.added: list[tuple[str, str]] = []
        self.registered: list[tuple[str, str]] = []
        self.dump: list[dict[str, Any]] = []
        self.directories: list[dict[str, Any]] = []
        self._subnets: dict[str, list[tuple[str, Any]]] = {}
        self.now = wall()

    def run(self, regions: Any) -> dict[str, Any]:
        if not isinstance(regions, dict) or not regions:
            raise SeedError("regions must be a non-empty mapping of region name to {directories: [...], workspaces: [...]}")
        for region, region_spec in regions.items():
            region_spec = _check_keys(f"regions.{region}", region_spec or {}, REGION_KEYS)
            default_directory = None
            for index, dspec in enumerate(region_spec.get("directories") or []):
                directory_id = self._directory(region, f"regions.{region}.directories[{index}]", dspec)
                default_directory = default_directory or directory_id
            for index, wspec in enumerate(region_spec.get("workspaces") or []):
                default_directory = self._explicit(region, f"regions.{region}.workspaces[{index}]", wspec, default_directory)
        return {"count": len(self.dump), "workspaces": self.dump, "directories": self.directories}

    def rollback(self) -> None:
        for region, workspace_id in self.added:
            workspaces_backends[self.account_id][region].workspaces.pop(workspace_id, None)
        for region, directory_id in self.registered:
            workspaces_backends[self.account_id][region].workspace_directories.pop(directory_id, None)
            ds_backends[self.account_id][region].directories.pop(directory_id, None)

    def _new_directory_id(self, region: str) -> str:
        existing = workspaces_backends[self.account_id][region].workspace_directories
        while True:
            candidate = _random_id(self.rng, "d-", DIRECTORY_ID_CHARS, 10)
            if candidate not in existing:
                return candidate

    def _register(self, region: str, what: str, directory_id: str | None, name: str | None = None) -> str:
        directory_id = directory_id or self._new_directory_id(region)
        if not isinstance(directory_id, str) or not directory_id.startswith("d-") or len(directory_id) != 12 \
                or any(c not in DIRECTORY_ID_CHARS for c in directory_id[2:]):
            raise SeedError(f"{what}.directory_id must look like d-0123456789 (10 hex digits), got {directory_id!r}")
        if directory_id not in workspaces_backends[self.account_id][region].workspace_directories:
            self.registered.append((region, directory_id))
        directory = ensure_directory(self.account_id, region, directory_id, name)
        if directory_id not in self._subnets:
            ec2 = ec2_backends[self.account_id][region]
            networks = {s.id: ipaddress.ip_network(s.cidr_block) for s in ec2.describe_subnets(subnet_ids=directory.subnet_ids)}
            self._subnets[directory_id] = [(subnet_id, networks[subnet_id]) for subnet_id in directory.subnet_ids]
        return directory_id

    def _new_workspace_id(self, region: str) -> str:
        existing = workspaces_backends[self.account_id][region].workspaces
        while True:
            candidate = _random_id(self.rng, "ws-", ID_CHARS, 9)
            if candidate not in existing:
                return candidate

    def _directory(self, region: str, what: str, dspec: Any) -> str:
        dspec = _check_keys(what, dspec, DIRECTORY_KEYS)
        count = dspec.get("count", 0)
        if not isinstance(count, int) or count < 0:
            raise SeedError(f"{what}.count must be an integer >= 0, got {count!r}")
        directory_id = self._register(region, what, dspec.get("directory_id"), dspec.get("directory_name"))
        bundle_id = dspec.get("bundle_id") or _random_id(self.rng, "wsb-", ID_CHARS, 9)
        prefix = dspec.get("user_prefix", "user")
        modes = allocate(f"{what}.running_modes", dspec.get("running_modes", "AUTO_STOP"), count, self.rng, RUNNING_MODES)
        states = allocate(f"{what}.states", dspec.get("states", "AVAILABLE"), count, self.rng, WORKSPACE_STATES)
        connections = allocate(
            f"{what}.connection_states", dspec.get("connection_states", "DISCONNECTED"), count, self.rng, CONNECTION_STATES + (NO_CONNECTION,)
        )
        fraction = dspec.get("tag_fraction", 1.0)
        if not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise SeedError(f"{what}.tag_fraction must be between 0 and 1, got {fraction!r}")
        tags = _tags(f"{what}.tags", dspec.get("tags"))
        tagged = set(self.rng.sample(range(count), round(count * fraction))) if tags else set()
        width = max(4, len(str(count)))
        if "last_connected_minutes_ago" in dspec:
            idle = idle_times(f"{what}.last_connected_minutes_ago", dspec["last_connected_minutes_ago"], count, self.rng, self.now)
        else:
            idle = [DEFAULT] * count
        for i in range(count):
            self._add(region, {
                "directory_id": directory_id, "bundle_id": bundle_id, "user_name": f"{prefix}{i + 1:0{width}d}",
                "running_mode": modes[i], "state": states[i], "connection_state": connections[i], "last_connection": idle[i],
            }, tags if i in tagged else [])
        self.directories.append({"directory_id": directory_id, "region": region, "account_id": self.account_id, "count": count})
        return directory_id

    def _explicit(self, region: str, what: str, wspec: Any, default_directory: str | None) -> str:
        wspec = _check_keys(what, wspec, WORKSPACE_KEYS)
        directory_id = self._register(region, what, wspec.get("directory_id") or default_directory)
        fields = dict(wspec, directory_id=directory_id)
        fields.setdefault("user_name", f"user{len(self.created) + 1:04d}")
        _check_choice(f"{what}.state", fields.setdefault("state", "AVAILABLE"), WORKSPACE_STATES)
        _check_choice(f"{what}.running_mode", fields.setdefault("running_mode", "AUTO_STOP"), RUNNING_MODES)
        conn = fields.get("connection_state", "DISCONNECTED")
        fields["connection_state"] = _check_choice(f"{what}.connection_state", NO_CONNECTION if conn is None else conn, CONNECTION_STATES + (NO_CONNECTION,))
        fields["last_connection"] = last_connection(what, wspec, self.now)
        if fields["last_connection"] is not DEFAULT and fields["connection_state"] == "CONNECTED":
            raise SeedError(f"{what}: a CONNECTED desktop's last connection is now; last-connection keys need another connection_state")
        workspace_id = fields.get("workspace_id")
        if workspace_id is not None and not WORKSPACE_ID_RE.match(str(workspace_id)):
            raise SeedError(f"{what}.workspace_id must match {WORKSPACE_ID_RE.pattern}, got {workspace_id!r}")
        if workspace_id in workspaces_backends[self.account_id][region].workspaces:
            raise SeedError(f"{what}.workspace_id {workspace_id} already exists in {region}")
        fields.setdefault("bundle_id", _random_id(self.rng, "wsb-", ID_CHARS, 9))
        self._add(region, fields, _tags(f"{what}.tags", wspec.get("tags")))
        return directory_id

    def _add(self, region: str, fields: dict[str, Any], tags: list[dict[str, str]]) -> None:
        backend = workspaces_backends[self.account_id][region]
        mode = fields["running_mode"]
        props: dict[str, Any] = {"RunningMode": mode, "RootVolumeSizeGib": 80, "UserVolumeSizeGib": 50, "ComputeTypeName": "STANDARD"}
        if mode == "AUTO_STOP":
            props["RunningModeAutoStopTimeoutInMinutes"] = DEFAULT_AUTO_STOP_TIMEOUT
        subnets = self._subnets[fields["directory_id"]]
        position = len(backend.workspaces)
        subnet_id, network = subnets[position % len(subnets)]
        ip_address = fields.get("ip_address") or str(network.network_address + 16 + (position // len(subnets)) % (network.num_addresses - 32))
        request = {
            "DirectoryId": fields["directory_id"],
            "UserName": fields["user_name"],
            "BundleId": fields["bundle_id"],
            "WorkspaceProperties": props,
            "Tags": [dict(t) for t in tags],
            "IpAddress": ip_address,
            "SubnetId": subnet_id,
            "ComputerName": fields.get("computer_name") or _random_id(self.rng, "WSAMZN-", string.digits + string.ascii_uppercase, 8),
            "WorkspaceName": fields.get("workspace_name") or "",
        }
        ws = EmulatedWorkspace(request, mode, workspace_id=fields.get("workspace_id") or self._new_workspace_id(region))
        ws.state = fields["state"]
        conn = fields["connection_state"]
        ws.connection_state = None if conn == NO_CONNECTION else conn
        ws.connection_checked = self.now
        given = fields.get("last_connection", DEFAULT)
        if conn == "CONNECTED":
            ws.last_connection = self.now - self.rng.uniform(60, 8 * 3600)  # when the session began
        elif given is not DEFAULT:
            ws.last_connection = given
        elif conn == "DISCONNECTED":
            ws.last_connection = self.now - self.rng.uniform(3600, 7 * 86400)
        backend.add_workspace(ws)
        self.added.append((region, ws.workspace_id))
        self.created.append(ws)
        self.dump.append(ws.dump(self.account_id, region))


def seed(spec: dict[str, Any]) -> dict[str, Any]:
    """Insert the fleet described by ``spec``; return ``{"count", "workspaces", "directories"}``.

    All or nothing: when the spec is invalid, desktops and directories added so far are removed again.
    """
    seeder = _Seeder(spec)
    with LOCK:
        try:
            return seeder.run(spec.get("regions"))
        except Exception:
            seeder.rollback()
            raise
