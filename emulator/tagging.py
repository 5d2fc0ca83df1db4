# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extension of moto's Resource Groups Tagging API: GetResources paging as AWS pages.

moto's GetResources already walks every taggable backend (ours yields ``workspaces:workspace``
resources, see :meth:`emulator.workspaces.EmulatedWorkSpacesBackend.iter_tagged_resources`); this
subclass replaces its paging: stateless tokens (moto keeps live generators), ``TagsPerPage`` only
applied when given (moto's default of 100 tags caps a 100-resource page at 99), ``PaginationToken``
``""`` on the last page as AWS returns, and the ResourceARNList / ResourceTypeFilters exclusion.
Every other resource type keeps moto's behaviour, since the same generator serves them.
"""
from __future__ import annotations

import itertools
import types
from typing import Any, cast

from moto.core.responses import ActionResult
from moto.core.resource_tagging import TaggedResource
from moto.resourcegroupstaggingapi import urls as moto_urls
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

from emulator import paging

DEFAULT_RESOURCES_PER_PAGE = 50
MAX_RESOURCES_PER_PAGE = 100


def _invalid(message: str) -> ResourceGroupsTaggingAPIError:
    return ResourceGroupsTaggingAPIError("InvalidParameterException", message)


class EmulatedTaggingBackend(ResourceGroupsTaggingAPIBackend):
    """moto's tagging backend with offset-token paging for GetResources."""

    @property
    def _url_module(self) -> Any:
        return URLS

    def get_resources_page(  # pylint: disable=too-many-arguments
        self,
        *,
        pagination_token: str | None,
        resources_per_page: int,
        tags_per_page: int | None,
        tag_filters: list[dict[str, Any]],
        resource_type_filters: list[str],
        resource_arn_list: list[str],
    ) -> tuple[list[TaggedResource], str]:
        """One page of resources and the next token ("" on the last page)."""
        query = paging.fingerprint("GetResources", self.account_id, self.region_name, tag_filters, resource_type_filters, resource_arn_list)
        offset = 0
        if pagination_token:
            decoded = paging.decode(pagination_token, query)
            if decoded is None:
                raise _invalid("The specified PaginationToken is invalid or does not belong to this query.")
            offset = decoded
        resources = self._get_resources_generator(
            tag_filters=tag_filters, resource_type_filters=resource_type_filters, resource_arn_list=resource_arn_list,
        )
        result: list[TaggedResource] = []
        tag_count = 0
        for resource in itertools.islice(resources, offset, None):
            weight = max(1, len(resource.tags))  # AWS counts an untagged resource as one tag
            if len(result) >= resources_per_page or (tags_per_page is not None and result and tag_count + weight > tags_per_page):
                return result, paging.encode(offset + len(result), query)
            result.append(resource)
            tag_count += weight
        return result, ""


class EmulatedTaggingResponse(ResourceGroupsTaggingAPIResponse):
    """GetResources backed by :meth:`EmulatedTaggingBackend.get_resources_page`."""

    def get_resources(self) -> ActionResult:
        resources_per_page = self._get_int_param("ResourcesPerPage", DEFAULT_RESOURCES_PER_PAGE)
        tags_per_page = self._get_int_param("TagsPerPage")
        if not 1 <= resources_per_page <= MAX_RESOURCES_PER_PAGE:
            raise _invalid(f"ResourcesPerPage must be between 1 and {MAX_RESOURCES_PER_PAGE}")
        if tags_per_page is not None and not 100 <= tags_per_page <= 500:
            raise _invalid("TagsPerPage must be between 100 and 500")
        resource_arn_list = self._get_param("ResourceARNList", [])
        resource_type_filters = self._get_param("ResourceTypeFilters", [])
        if resource_arn_list and resource_type_filters:
            raise _invalid("You can't specify both ResourceARNList and ResourceTypeFilters in the same request.")
        resources, token = cast(EmulatedTaggingBackend, self.backend).get_resources_page(
            pagination_token=self._get_param("PaginationToken") or None,
            resources_per_page=resources_per_page,
            tags_per_page=tags_per_page,
            tag_filters=self._get_param("TagFilters", []),
            resource_type_filters=resource_type_filters,
            resource_arn_list=resource_arn_list,
        )
        return ActionResult({
            "ResourceTagMappingList": [
                {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]} for r in resources
            ],
            "PaginationToken": token,
        })


URLS = types.SimpleNamespace(url_bases=moto_urls.url_bases, url_paths={"{0}/$": EmulatedTaggingResponse.dispatch})
