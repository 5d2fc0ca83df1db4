# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource Groups Tagging API GetResources for WorkSpaces desktops."""
from __future__ import annotations

import math

import pytest
from botocore.exceptions import ClientError

from tests.emulator.emulator_helpers import REGION, make_client

ARN_PREFIX = f"arn:aws:workspaces:{REGION}:123456789012:workspace/"


def _fleet(emulator, count=1000):
    spec = {"seed": 5, "regions": {REGION: {
        "directories": [
            {"directory_id": "d-2222222222", "count": count, "tags": {"Schedule": "office-hours", "Team": "blue"}, "tag_fraction": 0.5},
            {"directory_id": "d-3333333333", "count": 10, "tags": {"Schedule": "always", "Team": "red"}},
            {"directory_id": "d-4444444444", "count": 10},
        ],
    }}}
    return emulator.seed(spec)["workspaces"]


def _arns(pages):
    return [r["ResourceARN"] for page in pages for r in page["ResourceTagMappingList"]]


def test_pages_of_100_and_only_tagged_desktops(emulator, tagging):
    desktops = _fleet(emulator)
    tagged = {ARN_PREFIX + d["workspace_id"] for d in desktops if d["tags"]}
    assert len(tagged) == 510
    emulator.reset_calls()
    pages = list(tagging.get_paginator("get_resources").paginate(ResourceTypeFilters=["workspaces:workspace"], ResourcesPerPage=100))
    arns = _arns(pages)
    assert len(arns) == len(set(arns)) and set(arns) == tagged
    assert len(pages) == math.ceil(len(tagged) / 100) == emulator.counts()["GetResources"]
    assert [len(p["ResourceTagMappingList"]) for p in pages] == [100] * 5 + [10]
    assert pages[-1]["PaginationToken"] == ""
    first = pages[0]["ResourceTagMappingList"][0]
    assert sorted(first["Tags"], key=lambda t: t["Key"]) == [{"Key": "Schedule", "Value": "office-hours"}, {"Key": "Team", "Value": "blue"}]


def test_service_filter_and_default_page_size(emulator, tagging):
    _fleet(emulator, count=100)
    page = tagging.get_resources(ResourceTypeFilters=["workspaces"])
    assert len(page["ResourceTagMappingList"]) == 50 and page["PaginationToken"]
    assert all(r["ResourceARN"].startswith(ARN_PREFIX) for r in page["ResourceTagMappingList"])


def test_tag_filters(emulator, tagging):
    desktops = _fleet(emulator, count=40)

    def ids(**kw):
        pages = tagging.get_paginator("get_resources").paginate(ResourceTypeFilters=["workspaces:workspace"], **kw)
        return {arn.rsplit("/", 1)[1] for arn in _arns(pages)}

    def expect(predicate):
        return {d["workspace_id"] for d in desktops if predicate(d["tags"])}

    assert ids(TagFilters=[{"Key": "Schedule"}]) == expect(lambda t: "Schedule" in t)
    assert ids(TagFilters=[{"Key": "Schedule", "Values": ["always"]}]) == expect(lambda t: t.get("Schedule") == "always")
    assert ids(TagFilters=[{"Key": "Team", "Values": ["red", "blue"]}]) == expect(lambda t: t.get("Team") in ("red", "blue"))
    assert ids(TagFilters=[{"Key": "Team", "Values": ["red"]}, {"Key": "Schedule", "Values": ["office-hours"]}]) == set()
    assert ids(TagFilters=[{"Key": "Team", "Values": ["blue"]}, {"Key": "Schedule", "Values": ["office-hours"]}]) == expect(
        lambda t: t.get("Team") == "blue")
    assert ids(TagFilters=[{"Key": "Nope"}]) == set()


def test_tags_per_page_never_splits_a_resource(emulator, tagging):
    _fleet(emulator, count=0)  # 10 desktops with two tags each
    page = tagging.get_resources(ResourceTypeFilters=["workspaces:workspace"], TagsPerPage=100, ResourcesPerPage=100)
    assert len(page["ResourceTagMappingList"]) == 10


def test_validation(tagging):
    for params in ({"ResourcesPerPage": 101}, {"TagsPerPage": 99}, {"PaginationToken": "bogus"},
                   {"ResourceARNList": [ARN_PREFIX + "ws-abcdefghi"], "ResourceTypeFilters": ["workspaces"]}):
        with pytest.raises(ClientError) as info:
            tagging.get_resources(**params)
        assert info.value.response["Error"]["Code"] == "InvalidParameterException", params


def test_coexists_with_other_resource_types(emulator, tagging):
    _fleet(emulator, count=0)
    ec2 = make_client(emulator.url, "ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Team", "Value": "red"}]}])["Vpc"]["VpcId"]
    everything = _arns(tagging.get_paginator("get_resources").paginate(TagFilters=[{"Key": "Team", "Values": ["red"]}]))
    assert len(everything) == 11
    assert any(arn.endswith(f"vpc/{vpc_id}") for arn in everything)
    assert _arns([tagging.get_resources(ResourceTypeFilters=["ec2:vpc"])]) == [a for a in everything if "ec2" in a]
    workspace_arn = next(a for a in everything if a.startswith(ARN_PREFIX))
    assert _arns([tagging.get_resources(ResourceARNList=[workspace_arn])]) == [workspace_arn]


def test_tag_and_untag_resources_through_the_tagging_api(emulator, tagging, ws):
    desktops = _fleet(emulator, count=0)
    workspace_id = desktops[0]["workspace_id"]
    arn = ARN_PREFIX + workspace_id
    assert tagging.tag_resources(ResourceARNList=[arn], Tags={"CostCenter": "42"})["FailedResourcesMap"] == {}
    assert {"Key": "CostCenter", "Value": "42"} in ws.describe_tags(ResourceId=workspace_id)["TagList"]
    tagging.untag_resources(ResourceARNList=[arn], TagKeys=["CostCenter"])
    assert "CostCenter" not in emulator.workspace(workspace_id, REGION)["tags"]
