# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the emulator's own tests: boto3 clients whose every successful response is checked
against botocore's output shape (raw JSON: unknown keys, types, enums, patterns, lengths, required)."""
from __future__ import annotations

import json
import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.model import OperationModel, Shape

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIAFLEETOPSTESTKEY0", "aws_secret_access_key": "fleetops-test-secret"}


def shape_errors(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """Every way ``value`` (raw JSON) departs from ``shape``."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__}"]
        errors = [f"{path}: unknown key {key!r}" for key in value if key not in shape.members]
        errors += [f"{path}: missing required {key!r}" for key in shape.required_members if key not in value]
        for key, item in value.items():
            if key in shape.members:
                errors += shape_errors(item, shape.members[key], f"{path}.{key}")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected list, got {type(value).__name__}"]
        errors = []
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} items > max {meta['max']}")
        for index, item in enumerate(value):
            errors += shape_errors(item, shape.member, f"{path}[{index}]")
        return errors
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected map, got {type(value).__name__}"]
        errors = []
        for key, item in value.items():
            errors += shape_errors(key, shape.key, f"{path}<key>") + shape_errors(item, shape.value, f"{path}[{key!r}]")
        return errors
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected string, got {value!r}"]
        errors = []
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} not in enum {shape.enum}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: longer than {meta['max']}")
        return errors
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected integer, got {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected boolean, got {value!r}"]
    if kind in ("timestamp", "double", "float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected number, got {value!r}"]
    return []


def check_response(http_response: Any, model: OperationModel, **_: Any) -> None:
    """botocore ``after-call`` hook: fail loudly if a 200 response does not match the output shape."""
    if http_response.status_code != 200 or model.output_shape is None:
        return
    raw = json.loads(http_response.content or b"{}")
    errors = shape_errors(raw, model.output_shape)
    if errors:
        raise AssertionError(f"{model.name} response does not match botocore's shape: {errors[:10]}")


_SESSION = boto3.session.Session()  # one loader cache: creating clients stays cheap


def make_client(url: str, service: str = "workspaces", region: str = REGION, **config: Any) -> Any:
    """A boto3 client for the emulator; WorkSpaces and tagging responses are checked against the model."""
    client = _SESSION.client(
        service, region_name=region, endpoint_url=url, config=Config(**config) if config else None, **CREDENTIALS,
    )
    if service in ("workspaces", "resourcegroupstaggingapi"):
        client.meta.events.register("after-call", check_response)
    return client


def seed_desktops(emulator, *desktops: dict[str, Any], region: str = REGION) -> list[str]:
    """Seed explicit desktops (seed-spec ``workspaces`` entries) in directory d-1111111111; return their ids."""
    result = emulator.seed({"seed": 7, "regions": {region: {"workspaces": [dict({"directory_id": "d-1111111111"}, **d) for d in desktops]}}})
    return [w["workspace_id"] for w in result["workspaces"]]


def fleet_spec(count: int, **directory: Any) -> dict[str, Any]:
    return {"seed": 1, "regions": {REGION: {"directories": [dict({"directory_id": "d-2222222222", "count": count}, **directory)]}}}
