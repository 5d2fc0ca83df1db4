# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extension of moto's WorkSpaces service.

Subclasses moto's ``Workspace`` model, ``WorkSpacesBackend`` and ``WorkSpacesResponse`` and installs the
backend subclass into moto's ``workspaces_backends`` (see :func:`install`).  Added: Stop/Start/Reboot,
DescribeWorkspacesConnectionStatus, DescribeWorkspaces validation and pagination, ModifyWorkspaceProperties,
ModifyWorkspaceState, DeleteTags, upserting CreateTags, and a lazy state machine (transitions are evaluated
against the clock whenever a desktop's state is read; there are no timer threads).
"""
from __future__ import annotations

import json
import re
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from moto.core.exceptions import JsonRESTError
from moto.core.resource_tagging import TaggedResource
from moto.workspaces import urls as moto_urls
from moto.workspaces.exceptions import InvalidParameterValuesException, ResourceNotFoundException, ValidationException
from moto.workspaces.models import Workspace, WorkSpacesBackend, workspaces_backends
from moto.workspaces.responses import WorkSpacesResponse

from emulator import paging
from emulator.runtime import FAULTS, monotonic, wall

WORKSPACE_ID_RE = re.compile(r"^ws-[0-9a-z]{8,63}$")
WORKSPACE_STATES = (
    "PENDING", "AVAILABLE", "IMPAIRED", "UNHEALTHY", "REBOOTING", "STARTING", "REBUILDING", "RESTORING", "MAINTENANCE",
    "ADMIN_MAINTENANCE", "TERMINATING", "TERMINATED", "SUSPENDED", "UPDATING", "STOPPING", "STOPPED", "ERROR",
)
RUNNING_MODES = ("AUTO_STOP", "ALWAYS_ON", "MANUAL")
CONNECTION_STATES = ("CONNECTED", "DISCONNECTED", "UNKNOWN")
MAX_BATCH = 25
DEFAULT_AUTO_STOP_TIMEOUT = 60

# FailedRequests entries (AWS does not publish these codes; see emulator/README.md).
NOT_FOUND_CODE = "ResourceNotFound.Workspace"
INVALID_STATE_CODE = "ResourceInvalidState.Workspace"

# States in which ModifyWorkspaceProperties is accepted (a documented guess).
MODIFIABLE_STATES = frozenset({"AVAILABLE", "STOPPED", "IMPAIRED", "UNHEALTHY", "ERROR"})


class InvalidResourceStateException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidResourceStateException", message)


class ResourceLimitExceededException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ResourceLimitExceededException", message)


@dataclass(frozen=True)
class Transition:
    """What StopWorkspaces / StartWorkspaces / RebootWorkspaces accept and do."""

    verb: str
    states: frozenset[str]
    running_modes: frozenset[str] | None
    interim: str
    final: str
    disconnects: bool


_RUNNING = frozenset({"AVAILABLE", "IMPAIRED", "UNHEALTHY", "ERROR"})
_STOPPABLE_MODES = frozenset({"AUTO_STOP", "MANUAL"})
TRANSITIONS = {
    "stop": Transition("stopped", _RUNNING, _STOPPABLE_MODES, "STOPPING", "STOPPED", True),
    "start": Transition("started", frozenset({"STOPPED"}), _STOPPABLE_MODES, "STARTING", "AVAILABLE", False),
    "reboot": Transition("rebooted", _RUNNING, None, "REBOOTING", "AVAILABLE", True),
}


class EmulatedWorkspace(Workspace):
    """moto's Workspace plus network identity, a connection status and a lazily evaluated state."""

    def __init__(self, workspace: dict[str, Any], running_mode: str, error_code: str = "", error_msg: str = "", workspace_id: str | None = None):
        self._state = "AVAILABLE"
        self._pending: tuple[str, float] | None = None
        super().__init__(workspace, running_mode, error_code, error_msg)
        if workspace_id:
            self.workspace_id = workspace_id
        self.ip_address: str = workspace.get("IpAddress", "")
        self.subnet_id: str = workspace.get("SubnetId", "")
        self.computer_name = workspace.get("ComputerName", "")
        self.workspace_name: str = workspace.get("WorkspaceName", "")
        # None means "no DescribeWorkspacesConnectionStatus entry" (as AWS does for some desktops).
        self.connection_state: str | None = "UNKNOWN"
        self.connection_checked: float = wall()
        self.last_connection: float | None = None

    @classmethod
    def adopt(cls, plain: Workspace) -> EmulatedWorkspace:
        """Rebuild a desktop created by moto's own CreateWorkspaces as an EmulatedWorkspace."""
        new = cls(plain.workspace, plain.workspace_properties["RunningMode"], plain.error_code, plain.error_message, plain.workspace_id)
        new.tags = plain.tags
        return new

    # -- state machine -------------------------------------------------------------------------
    @property  # type: ignore[override]
    def state(self) -> str:
        pending = self._pending
        if pending is not None and monotonic() >= pending[1]:
            self._state, self._pending = pending[0], None
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value
        self._pending = None

    def begin(self, interim: str, final: str, delay: float) -> None:
        """Enter ``interim`` now and ``final`` after ``delay`` seconds (evaluated on the next read)."""
        self._state = interim
        self._pending = (final, monotonic() + delay)

    def pending(self) -> dict[str, Any] | None:
        current = self.state  # settles an expired transition first
        if self._pending is None:
            return None
        return {"from": current, "to": self._pending[0], "in_seconds": round(max(0.0, self._pending[1] - monotonic()), 3)}

    @property
    def running_mode(self) -> str:
        return self.workspace_properties.get("RunningMode", "ALWAYS_ON")

    def set_running_mode(self, mode: str, auto_stop_timeout: int | None = None) -> None:
        props = self.workspace_properties
        props["RunningMode"] = mode
        if mode == "AUTO_STOP":
            props["RunningModeAutoStopTimeoutInMinutes"] = auto_stop_timeout or props.get("RunningModeAutoStopTimeoutInMinutes") or DEFAULT_AUTO_STOP_TIMEOUT
        else:
            props.pop("RunningModeAutoStopTimeoutInMinutes", None)

    # -- connection status ---------------------------------------------------------------------
    def set_connection(self, state: str | None, when: float | None = None) -> None:
        now = wall()
        if self.connection_state == "CONNECTED" and state != "CONNECTED":
            self.last_connection = now
        if state == "CONNECTED":
            self.last_connection = now
        if when is not None:
            self.last_connection = when
        self.connection_state = state
        self.connection_checked = now

    def disconnect(self) -> None:
        """The user session ends (stop, reboot); desktops without a status entry keep none."""
        if self.connection_state is not None:
            self.set_connection("DISCONNECTED")

    def connection_status(self) -> dict[str, Any] | None:
        if self.connection_state is None:
            return None
        entry: dict[str, Any] = {
            "WorkspaceId": self.workspace_id,
            "ConnectionState": self.connection_state,
            "ConnectionStateCheckTimestamp": self.connection_checked,
        }
        if self.connection_state == "CONNECTED":
            # The user is connected right now: the last known connection is the time of this read (as AWS reports it).
            now = wall()
            entry["ConnectionStateCheckTimestamp"] = entry["LastKnownUserConnectionTimestamp"] = now
        elif self.last_connection is not None:
            entry["LastKnownUserConnectionTimestamp"] = self.last_connection
        return entry

    # -- output --------------------------------------------------------------------------------
    def tag_dict(self) -> dict[str, str]:
        return {t["Key"]: t.get("Value", "") for t in (self.tags or [])}

    def to_dict_pending(self) -> dict[str, Any]:
        out = super().to_dict_pending()
        for key, value in (("IpAddress", self.ip_address), ("SubnetId", self.subnet_id), ("WorkspaceName", self.workspace_name)):
            if value:
                out[key] = value
        return out

    def dump(self, account_id: str, region: str) -> dict[str, Any]:
        """The ground-truth view used by the control endpoint."""
        return {
            "workspace_id": self.workspace_id,
            "account_id": account_id,
            "region": region,
            "directory_id": self.directory_id,
            "user_name": self.user_name,
            "bundle_id": self.bundle_id,
            "workspace_name": self.workspace_name or None,
            "state": self.state,
            "pending": self.pending(),
            "running_mode": self.running_mode,
            "connection_state": self.connection_state,
            # Epoch seconds; for a CONNECTED desktop the time the session began (the API then reports the time of the read).
            "last_known_user_connection_timestamp": self.last_connection,
            "connection_state_check_timestamp": self.connection_checked,
            "tags": self.tag_dict(),
            "ip_address": self.ip_address,
            "subnet_id": self.subnet_id,
            "computer_name": self.computer_name,
        }


def _failed(workspace_id: str, code: str, message: str) -> dict[str, str]:
    return {"WorkspaceId": workspace_id, "ErrorCode": code, "ErrorMessage": message}


def _tag_pairs(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class EmulatedWorkSpacesBackend(WorkSpacesBackend):
    """moto's WorkSpaces backend with the operations and semantics the emulator adds."""

    MAX_TAGS = 50

    @property
    def _url_module(self) -> Any:
        return URLS

    # -- desktops ------------------------------------------------------------------------------
    def add_workspace(self, workspace: EmulatedWorkspace) -> None:
        if workspace.workspace_id in self.workspaces:
            raise ValueError(f"workspace {workspace.workspace_id} already exists in {self.region_name}")
        self.workspaces[workspace.workspace_id] = workspace

    def get_workspace(self, workspace_id: str) -> EmulatedWorkspace | None:
        return cast("EmulatedWorkspace | None", self.workspaces.get(workspace_id))

    def _select(self, workspace_ids: list[str] | None) -> Iterable[Workspace]:
        """All desktops in insertion order, or the known ones of ``workspace_ids`` in request order."""
        if workspace_ids:
            return (self.workspaces[i] for i in dict.fromkeys(workspace_ids) if i in self.workspaces)
        return self.workspaces.values()

    def create_workspaces(self, workspaces: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        failed, pending = super().create_workspaces(workspaces)
        for item in pending:
            plain = self.workspaces[item["WorkspaceId"]]
            if not isinstance(plain, EmulatedWorkspace):
                self.workspaces[plain.workspace_id] = EmulatedWorkspace.adopt(plain)
        return failed, pending

    def describe_workspaces(  # pylint: disable=arguments-differ,too-many-arguments,unknown-option-value,too-many-positional-arguments
        self,
        workspace_ids: list[str] | None,
        directory_id: str | None,
        user_name: str | None,
        bundle_id: str | None,
        workspace_name: str | None = None,
    ) -> list[Workspace]:
        if sum(1 for x in (workspace_ids, directory_id, bundle_id) if x) > 1:
            raise InvalidParameterValuesException(
                "An invalid number of parameters provided with DescribeWorkspaces. Only one of the following are allowed to be specified: "
                "BundleId, DirectoryId, WorkSpaceIds, Filters."
            )
        if user_name and not directory_id:
            raise InvalidParameterValuesException("The DirectoryId parameter is required when UserName is used.")
        found = self._select(workspace_ids)
        return [
            ws for ws in found
            if (not directory_id or ws.directory_id == directory_id)
            and (not user_name or ws.user_name == user_name)
            and (not bundle_id or ws.bundle_id == bundle_id)
            and (not workspace_name or getattr(ws, "workspace_name", "") == workspace_name)
        ]

    def change_workspaces(self, kind: str, workspace_ids: list[str]) -> list[dict[str, str]]:
        """Stop, start or reboot: return the FailedRequests entries."""
        rule = TRANSITIONS[kind]
        failed = []
        for workspace_id in workspace_ids:
            ws = self.get_workspace(workspace_id)
            if ws is None:
                failed.append(_failed(workspace_id, NOT_FOUND_CODE, f"The WorkSpace {workspace_id} could not be found."))
                continue
            state = ws.state
            if state not in rule.states:
                failed.append(_failed(workspace_id, INVALID_STATE_CODE, f"The WorkSpace {workspace_id} is in state {state} and cannot be {rule.verb}."))
                continue
            if rule.running_modes is not None and ws.running_mode not in rule.running_modes:
                failed.append(_failed(
                    workspace_id, INVALID_STATE_CODE,
                    f"The WorkSpace {workspace_id} has running mode {ws.running_mode} and cannot be {rule.verb}. "
                    f"Only WorkSpaces with running mode AUTO_STOP or MANUAL can be {rule.verb}.",
                ))
                continue
            final = "ERROR" if FAULTS.fails(kind, workspace_id) else rule.final
            ws.begin(rule.interim, final, FAULTS.delay(kind))
            if rule.disconnects:
                ws.disconnect()
        return failed

    def terminate_workspaces(self, terminate_workspace_requests: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        failed = []
        for request in terminate_workspace_requests:
            workspace_id = request["WorkspaceId"]
            if self.workspaces.pop(workspace_id, None) is None:
                failed.append(_failed(workspace_id, NOT_FOUND_CODE, f"The WorkSpace {workspace_id} could not be found."))
        return {"FailedRequests": failed}

    def with_connection_status(self, workspace_ids: list[str] | None) -> list[EmulatedWorkspace]:
        """Desktops that have a DescribeWorkspacesConnectionStatus entry (all, or those of ``workspace_ids``)."""
        found = self._select(workspace_ids)
        return [cast(EmulatedWorkspace, ws) for ws in found if getattr(ws, "connection_state", None) is not None]

    def _require(self, workspace_id: str) -> EmulatedWorkspace:
        ws = self.get_workspace(workspace_id)
        if ws is None:
            raise ResourceNotFoundException(
                f"The specified WorkSpace {workspace_id} cannot be found. Confirm that the workspace exists in your AWS account, and try again."
            )
        return ws

    def modify_workspace_properties(self, workspace_id: str, properties: dict[str, Any]) -> None:
        ws = self._require(workspace_id)
        if ws.state not in MODIFIABLE_STATES:
            raise InvalidResourceStateException(f"The WorkSpace {workspace_id} is in state {ws.state}; its properties cannot be modified now.")
        mode = properties.get("RunningMode")
        if mode is not None and mode not in RUNNING_MODES:
            raise ValidationException(
                f"1 validation error detected: Value '{mode}' at 'workspaceProperties.runningMode' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(RUNNING_MODES)}]"
            )
        timeout = properties.get("RunningModeAutoStopTimeoutInMinutes")
        effective_mode = mode or ws.running_mode
        if timeout is not None and effective_mode != "AUTO_STOP":
            raise InvalidParameterValuesException(
                f"RunningModeAutoStopTimeoutInMinutes is not applicable for WorkSpace with running mode set to {effective_mode}."
            )
        for key, value in properties.items():
            if key not in ("RunningMode", "RunningModeAutoStopTimeoutInMinutes"):
                ws.workspace_properties[key] = value
        ws.set_running_mode(effective_mode, timeout)

    def modify_workspace_state(self, workspace_id: str, new_state: str) -> None:
        ws = self._require(workspace_id)
        if new_state not in ("AVAILABLE", "ADMIN_MAINTENANCE"):
            raise ValidationException(
                f"1 validation error detected: Value '{new_state}' at 'workspaceState' failed to satisfy constraint: "
                "Member must satisfy enum value set: [AVAILABLE, ADMIN_MAINTENANCE]"
            )
        if ws.state not in ("AVAILABLE", "ADMIN_MAINTENANCE"):
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is in state {ws.state}; only AVAILABLE and ADMIN_MAINTENANCE WorkSpaces can change state."
            )
        ws.state = new_state

    # -- tags ----------------------------------------------------------------------------------
    def _tag_owner(self, resource_id: str) -> Any:
        for prefix, table in (("ws-", self.workspaces), ("d-", self.workspace_directories), ("wsi-", self.workspace_images)):
            if resource_id.startswith(prefix) and resource_id in table:
                return table[resource_id]
        raise ResourceNotFoundException(f"The resource {resource_id} could not be found.")

    def create_tags(self, resource_id: str, tags: list[dict[str, str]]) -> None:
        owner = self._tag_owner(resource_id)
        merged = {t["Key"]: t.get("Value", "") for t in (owner.tags or [])}
        merged.update({t["Key"]: t.get("Value", "") for t in tags})
        if len(merged) > self.MAX_TAGS:
            raise ResourceLimitExceededException(f"The resource {resource_id} can have at most {self.MAX_TAGS} tags.")
        owner.tags = _tag_pairs(merged)

    def delete_tags(self, resource_id: str, tag_keys: list[str]) -> None:
        owner = self._tag_owner(resource_id)
        owner.tags = [t for t in (owner.tags or []) if t["Key"] not in set(tag_keys)]

    def describe_tags(self, resource_id: str) -> list[dict[str, str]]:
        return list(self._tag_owner(resource_id).tags or [])

    # -- Resource Groups Tagging API -------------------------------------------------------------
    def iter_tagged_resources(self) -> Iterator[TaggedResource]:
        # Only tagged resources: GetResources drops untagged ones anyway, and this keeps
        # a 10,000-desktop region cheap to page through.
        prefix = f"arn:{self.partition}:workspaces:{self.region_name}:{self.account_id}"
        tables = (
            ("workspace", self.workspaces, "workspace_id"),
            ("directory", self.workspace_directories, "directory_id"),
            ("workspaceimage", self.workspace_images, "image_id"),
        )
        for kind, table, id_attribute in tables:
            for item in table.values():
                if item.tags:
                    tags = {t["Key"]: t.get("Value", "") for t in item.tags}
                    yield TaggedResource(f"{prefix}:{kind}/{getattr(item, id_attribute)}", tags, f"workspaces:{kind}")

    def untag_resource(self, arn: str, tag_keys: list[str]) -> None:
        self.delete_tags(arn.split("/")[-1], tag_keys)


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _validation(field: str, constraint: str) -> ValidationException:
    return ValidationException(f"1 validation error detected: Value at '{field}' failed to satisfy constraint: {constraint}")


def _check_list(value: Any, field: str, required: bool = True) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value:
        raise _validation(field, "Member must have length greater than or equal to 1")
    if len(value) > MAX_BATCH:
        raise _validation(field, f"Member must have length less than or equal to {MAX_BATCH}")
    return value


def _check_workspace_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not WORKSPACE_ID_RE.match(value):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {WORKSPACE_ID_RE.pattern}"
        )
    return value


class EmulatedWorkSpacesResponse(WorkSpacesResponse):
    """moto's WorkSpaces responses plus the operations of :class:`EmulatedWorkSpacesBackend`."""

    @property
    def backend(self) -> EmulatedWorkSpacesBackend:
        return cast(EmulatedWorkSpacesBackend, workspaces_backends[self.current_account][self.region])

    def _params(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @staticmethod
    def _offset(token: str | None, query: str) -> int:
        if token is None:
            return 0
        offset = paging.decode(token, query)
        if offset is None:
            raise InvalidParameterValuesException("The specified value for NextToken is invalid.")
        return offset

    def describe_workspaces(self) -> str:
        params = self._params()
        ids = params.get("WorkspaceIds")
        if ids is not None:
            for index, workspace_id in enumerate(_check_list(ids, "workspaceIds"), 1):
                _check_workspace_id(workspace_id, f"workspaceIds.{index}.member")
        limit = params.get("Limit", MAX_BATCH)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_BATCH:
            raise ValidationException(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                f"Member must have value {'less than or equal to 25' if isinstance(limit, int) and limit > MAX_BATCH else 'greater than or equal to 1'}"
            )
        filters = [params.get(k) for k in ("DirectoryId", "UserName", "BundleId", "WorkspaceName")]
        workspaces = self.backend.describe_workspaces(ids, *filters)
        query = paging.fingerprint("DescribeWorkspaces", self.current_account, self.region, ids, filters)
        chunk, token = paging.page(workspaces, self._offset(params.get("NextToken"), query), limit, query)
        out: dict[str, Any] = {"Workspaces": [ws.to_dict_pending() for ws in chunk]}
        if token:
            out["NextToken"] = token
        return json.dumps(out)

    def _change(self, kind: str, member: str) -> str:
        requests = _check_list(self._params().get(member), member[0].lower() + member[1:])
        ids = []
        for index, request in enumerate(requests, 1):
            field = f"{member[0].lower() + member[1:]}.{index}.member.workspaceId"
            ids.append(_check_workspace_id(request.get("WorkspaceId") if isinstance(request, dict) else None, field))
        return json.dumps({"FailedRequests": self.backend.change_workspaces(kind, ids)})

    def stop_workspaces(self) -> str:
        return self._change("stop", "StopWorkspaceRequests")

    def start_workspaces(self) -> str:
        return self._change("start", "StartWorkspaceRequests")

    def reboot_workspaces(self) -> str:
        return self._change("reboot", "RebootWorkspaceRequests")

    def describe_workspaces_connection_status(self) -> str:
        params = self._params()
        ids = params.get("WorkspaceIds")
        if ids is not None:
            for index, workspace_id in enumerate(_check_list(ids, "workspaceIds"), 1):
                _check_workspace_id(workspace_id, f"workspaceIds.{index}.member")
        query = paging.fingerprint("DescribeWorkspacesConnectionStatus", self.current_account, self.region, ids)
        if params.get("NextToken") is None and FAULTS.get("connection_status_empty_first_page"):
            # As AWS sometimes does: nothing on the first page, but a NextToken (to the first entry).
            return json.dumps({"WorkspacesConnectionStatus": [], "NextToken": paging.encode(0, query)})
        workspaces = self.backend.with_connection_status(ids)
        chunk, token = paging.page(workspaces, self._offset(params.get("NextToken"), query), MAX_BATCH, query)
        out: dict[str, Any] = {"WorkspacesConnectionStatus": [ws.connection_status() for ws in chunk]}
        if token:
            out["NextToken"] = token
        return json.dumps(out)

    def modify_workspace_properties(self) -> str:
        params = self._params()
        workspace_id = _check_workspace_id(params.get("WorkspaceId"), "workspaceId")
        self.backend.modify_workspace_properties(workspace_id, params.get("WorkspaceProperties") or {})
        return "{}"

    def modify_workspace_state(self) -> str:
        params = self._params()
        workspace_id = _check_workspace_id(params.get("WorkspaceId"), "workspaceId")
        self.backend.modify_workspace_state(workspace_id, params.get("WorkspaceState", ""))
        return "{}"

    def describe_workspace_directories(self) -> str:
        # moto sends "" for unset nested strings (CustomSecurityGroupId, SamlProperties.UserAccessUrl),
        # which break the model's patterns; AWS leaves them out.
        return json.dumps(_drop_empty(json.loads(super().describe_workspace_directories())))

    def delete_tags(self) -> str:
        params = self._params()
        self.backend.delete_tags(params.get("ResourceId", ""), params.get("TagKeys") or [])
        return "{}"


# Handed to moto's Flask app builder through EmulatedWorkSpacesBackend._url_module.
URLS = types.SimpleNamespace(url_bases=moto_urls.url_bases, url_paths={"{0}/$": EmulatedWorkSpacesResponse.dispatch})
