"""Every test is in exactly one tier, by its folder, and a pure test reaches no AWS, no network
and no process (tests/tiers.py)."""

from __future__ import annotations

import socket
import subprocess

import boto3
import pytest

from tests.tiers import TESTS, OutsideItsTier, tier_of


def test_every_test_file_is_in_one_tier() -> None:
    files = sorted(TESTS.rglob("test_*.py"))
    assert files and [f for f in files if tier_of(f) is None] == []
    assert {tier_of(f) for f in files} == {"unit", "moto", "e2e"}


def test_the_tier_marker_is_the_folders(request: pytest.FixtureRequest) -> None:
    assert [m.name for m in request.node.iter_markers() if m.name in ("unit", "moto", "e2e")] == ["unit"]


def test_a_pure_test_reaches_no_aws_no_network_and_no_process() -> None:
    with pytest.raises(OutsideItsTier, match="unit test may not call AWS"):
        sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
        sts.get_caller_identity()
    with pytest.raises(OutsideItsTier, match="unit test may not open a connection"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(OutsideItsTier, match="unit test may not listen on a port"):
        socket.socket().bind(("127.0.0.1", 0))
    with pytest.raises(OutsideItsTier, match="unit test may not start a process"):
        subprocess.run(["true"], check=False)
