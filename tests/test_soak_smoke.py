"""The soak benchmark runs (2 s, 4 clients): a smoke test of ``benchmarks/soak.py``, not a
timed test; nothing here asserts latency or throughput."""

from __future__ import annotations

from benchmarks.soak import run_soak


def test_soak_smoke() -> None:
    result = run_soak(seconds=2.0, clients=4)
    assert result.requests > 0
    assert result.server_errors == 0
    assert result.unexpected == {}
    assert result.digest_mismatches == 0
    assert result.failures == []
    assert result.blobs_checked > 0
    assert "5xx responses" in result.report()
