# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Token-bucket rate limit per account and region (issue 14): the bucket on an injected clock, the statistics, and the
server through boto3 (with a refill so slow that no token comes back during a test: nothing depends on timing)."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.client import EmulatorError
from emulator.ratelimit import TokenBucket, stats
from tests.emulator.emulator_helpers import REGION, make_client

NO_RETRY = {"retries": {"mode": "standard", "total_max_attempts": 1}}
# One token per 10,000 seconds: after the burst, every call in a test is over the limit.
NO_REFILL = 0.0001


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_bucket_starts_full_and_refuses_beyond_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(5, 5, clock=clock)
    assert [bucket.take() for dummy in range(7)] == [True] * 5 + [False] * 2
    clock.now += 0.2  # one token at 5/s
    assert [bucket.take() for dummy in range(2)] == [True, False]
    clock.now += 0.1  # half a token
    assert bucket.take() is False
    clock.now += 0.1
    assert bucket.take() is True


def test_bucket_refill_is_capped_at_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(5, 3, clock=clock)
    for dummy in range(3):
        bucket.take()
    clock.now += 3600
    assert bucket.available() == 3
    assert [bucket.take() for dummy in range(4)] == [True, True, True, False]


def test_bucket_sustains_exactly_its_rate():
    clock = FakeClock()
    bucket = TokenBucket(5, 5, clock=clock)
    accepted = 0
    for step in range(1000):  # 10 s of attempts every 10 ms
        clock.now = 1000.0 + step * 0.01
        accepted += bucket.take()
    # The burst, then what 9.99 s of refill at 5/s bring (49.95 tokens: 49 whole ones).
    assert accepted == 5 + 49


def test_bucket_ignores_a_clock_going_backwards():
    clock = FakeClock()
    bucket = TokenBucket(1, 1, clock=clock)
    assert bucket.take() is True
    clock.now -= 10
    assert bucket.take() is False
    clock.now += 11
    assert bucket.take() is True


@pytest.mark.parametrize("rate,burst", [(0, 1), (-1, 1), (1, 0)])
def test_bucket_rejects_bad_settings(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def _call(seq, second, fault=None, region=REGION, service="workspaces"):
    return {"seq": seq, "time": second, "service": service, "region": region, "account_id": "123456789012", "fault": fault,
            "outcome": "ThrottlingException" if fault else "ok"}


def test_stats_windows_rate_and_bursts():
    calls = [_call(1, 100.0), _call(2, 100.1), _call(3, 100.2, "rate_limit"), _call(4, 100.3, "rate_limit"), _call(5, 100.4, "rate_limit"),
             _call(6, 101.0), _call(7, 101.5, "rate_limit"), _call(8, 102.0), _call(9, 100.5, service="ec2"),
             _call(10, 100.0, region="eu-west-1", service="tagging")]
    (east, west) = sorted(stats(calls, 2)["regions"], key=lambda r: r["region"], reverse=True)
    assert (east["attempted"], east["accepted"], east["rate_limited"], east["throttled"]) == (8, 4, 4, 4)
    assert east["seconds"] == 2.0 and east["accepted_per_second"] == 2.0
    assert east["windows"] == [
        {"second": 100, "attempted": 5, "accepted": 2, "rate_limited": 3},
        {"second": 101, "attempted": 2, "accepted": 1, "rate_limited": 1},
        {"second": 102, "attempted": 1, "accepted": 1, "rate_limited": 0},
    ]
    assert (east["max_attempted_in_a_second"], east["max_rate_limited_in_a_second"], east["longest_rate_limited_run"]) == (5, 3, 3)
    assert east["max_over_limit_in_a_second"] == 3
    assert (west["region"], west["attempted"], west["accepted_per_second"]) == ("eu-west-1", 1, 0.0)


def _outcomes(call, count):
    result = []
    for dummy in range(count):
        try:
            call()
            result.append("ok")
        except ClientError as exc:
            result.append(exc.response["Error"]["Code"])
    return result


def _with_account(client, account_id):
    """Calls from another account (moto's x-moto-account-id header)."""
    def add_header(request, **_):
        request.headers["x-moto-account-id"] = account_id
    client.meta.events.register("before-send", add_header)
    return client


def test_bucket_is_shared_by_workspaces_and_tagging_per_account_and_region(emulator):
    emulator.set_faults(rate_limit={"calls_per_second": NO_REFILL, "burst": 3})
    ws = make_client(emulator.url, **NO_RETRY)
    tagging = make_client(emulator.url, "resourcegroupstaggingapi", **NO_RETRY)
    assert _outcomes(ws.describe_workspaces, 2) == ["ok", "ok"]
    assert _outcomes(tagging.get_resources, 2) == ["ok", "ThrottlingException"]
    assert _outcomes(ws.describe_workspaces_connection_status, 1) == ["ThrottlingException"]
    # Another region and another account have buckets of their own.
    west = make_client(emulator.url, region="eu-west-1", **NO_RETRY)
    assert _outcomes(west.describe_workspaces, 4) == ["ok"] * 3 + ["ThrottlingException"]
    other = _with_account(make_client(emulator.url, **NO_RETRY), "210987654321")
    assert _outcomes(other.describe_workspaces, 4) == ["ok"] * 3 + ["ThrottlingException"]
    # Other services are not limited.
    ec2 = emulator.boto3_client("ec2")
    assert all(ec2.describe_regions()["Regions"] for dummy in range(5))

    refused = [c for c in emulator.calls() if c["fault"] == "rate_limit"]
    assert len(refused) == 4
    assert all((c["outcome"], c["status"], c["injected"]) == ("ThrottlingException", 400, True) for c in refused)
    report = {(r["account_id"], r["region"]): r for r in emulator.rate_stats()["regions"]}
    assert {k: (r["attempted"], r["accepted"], r["rate_limited"]) for k, r in report.items()} == {
        ("123456789012", REGION): (5, 3, 2), ("123456789012", "eu-west-1"): (4, 3, 1), ("210987654321", REGION): (4, 3, 1),
    }
    assert emulator.rate_stats()["rate_limit"] == {"calls_per_second": NO_REFILL, "burst": 3}


def test_botocore_retries_rate_limited_calls(emulator):
    emulator.set_faults(rate_limit={"calls_per_second": NO_REFILL, "burst": 1})
    client = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 3})
    client.describe_workspaces()
    with pytest.raises(ClientError) as info:
        client.describe_workspaces()
    assert info.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert [c["fault"] for c in emulator.calls()] == [None, "rate_limit", "rate_limit", "rate_limit"]


def test_setting_and_reset_refill_the_buckets(emulator):
    client = make_client(emulator.url, **NO_RETRY)
    emulator.set_faults(rate_limit={"calls_per_second": NO_REFILL, "burst": 1})
    assert _outcomes(client.describe_workspaces, 2) == ["ok", "ThrottlingException"]
    emulator.set_faults(rate_limit={"calls_per_second": NO_REFILL, "burst": 1})  # a new bucket, full
    assert _outcomes(client.describe_workspaces, 2) == ["ok", "ThrottlingException"]
    emulator.set_faults(latency_ms=0)  # other settings leave the buckets alone
    assert _outcomes(client.describe_workspaces, 1) == ["ThrottlingException"]
    emulator.reset()
    assert emulator.get_faults()["rate_limit"] is None
    assert _outcomes(client.describe_workspaces, 5) == ["ok"] * 5
    assert emulator.rate_stats()["regions"][0]["rate_limited"] == 0


def test_rate_limit_settings(emulator):
    assert emulator.set_faults(rate_limit={"calls_per_second": 5, "burst": 5})["rate_limit"] == {"calls_per_second": 5.0, "burst": 5}
    assert emulator.set_faults(rate_limit=2)["rate_limit"] == {"calls_per_second": 2.0, "burst": 2}
    assert emulator.set_faults(rate_limit=None)["rate_limit"] is None
    for bad in ({"calls_per_second": 0}, {"burst": 5}, {"calls_per_second": 5, "burst": 0}, {"calls_per_second": 5, "size": 1}, "fast"):
        with pytest.raises(EmulatorError) as info:
            emulator.set_faults(rate_limit=bad)
        assert info.value.status == 400
