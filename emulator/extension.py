# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install the emulator's backend subclasses into moto (at run time; nothing under site-packages changes)."""
from __future__ import annotations

from typing import Any

from moto import settings as moto_settings
from moto.core import base_backend
from moto.core.base_backend import BackendDict, backend_lock
from moto.core.model_instances import reset_model_data
from moto.resourcegroupstaggingapi.models import resourcegroupstaggingapi_backends
from moto.workspaces.models import workspaces_backends

from emulator.tagging import EmulatedTaggingBackend
from emulator.workspaces import EmulatedWorkSpacesBackend


def _use_backend_class(backend_dict: BackendDict, cls: type) -> None:
    """Make ``backend_dict`` build ``cls``; region backends that already exist are converted in place.

    ``cls`` only adds methods to moto's class, so re-classing existing instances keeps their state.
    """
    backend_dict.backend = cls
    for account_backend in dict.values(backend_dict):
        account_backend.backend = cls
        for region_backend in dict.values(account_backend):
            region_backend.__class__ = cls


def _any_region() -> bool:
    return True


def _no_default_amis() -> bool:
    return False


def install() -> None:
    """Idempotent.  Also lets moto build backends for regions botocore does not list for a service
    (WorkSpaces is not offered in us-west-1, but the emulator serves any region), the programmatic
    equivalent of ``MOTO_ALLOW_NONEXISTENT_REGION=true``. And no EC2 backend loads moto's catalogue of AMIs (the
    equivalent of ``MOTO_EC2_LOAD_DEFAULT_AMIS=false``): the emulator only needs EC2 for the VPC and subnets of a
    directory and for DescribeRegions; the catalogue cost ~0.15 s of CPU in every reset and seed of two regions."""
    _use_backend_class(workspaces_backends, EmulatedWorkSpacesBackend)
    _use_backend_class(resourcegroupstaggingapi_backends, EmulatedTaggingBackend)
    setattr(base_backend, "allow_unknown_region", _any_region)
    setattr(moto_settings, "ec2_load_default_amis", _no_default_amis)


def installed() -> bool:
    backend_class: Any = workspaces_backends.backend
    return backend_class is EmulatedWorkSpacesBackend


def reset_backends() -> None:
    """Drop every moto backend of every service, account and region.

    Same end state as moto's ``/moto-api/reset``, without re-initialising each backend before dropping
    it (ec2 alone would rebuild its AMI catalogue for nothing, ~0.3 s per reset).
    """
    with backend_lock:
        for backend_dict in list(BackendDict._instances):  # pylint: disable=protected-access
            backend_dict.clear()
        BackendDict._instances.clear()  # pylint: disable=protected-access
    reset_model_data()
