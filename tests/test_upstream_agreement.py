"""Every engine profile against the engines' own test tables (fixtures/upstream).

``fakeregistry.engine.agreement`` turns each upstream case into index selections; this pins
the profile x table agreement counts (the closing table of issue 13) and checks that each
profile agrees with every case of the tests of the code it follows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeregistry.engine.agreement import agreement, load_tables, main, render
from fakeregistry.engine.profiles import ENGINES

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "upstream"
TABLES = load_tables(ROOT)

RC4 = "containerd-platforms-v1.0.0-rc.4/"
ONLY = RC4 + "compare_test.TestOnly.json"
STRICT = RC4 + "compare_test.TestOnlyStrict.json"
FEATURES = RC4 + "compare_test.TestCompareOSFeatures.json"
WINDOWS = RC4 + "platform_windows_compat_test.Test_PlatformCompat.json"
NORMALIZE = "containers-common-v0.50.1/libimage.normalize_test.TestNormalizePlatform.json"
WANTED_523 = "containers-image-v5.23.1/platform_matcher_test.TestWantedPlatforms.json"
CURRENT = "go.podman.io-image-v5-amd64-levels/platform_matcher_test."
WANTED = CURRENT + "TestWantedPlatforms.json"
MATCHES = CURRENT + "TestMatchesPlatform.json"
ORDER = (FEATURES, ONLY, STRICT, WINDOWS, NORMALIZE, WANTED_523, MATCHES, WANTED)

# (tried, agreed) per table, in ORDER; a profile that never normalises tries no libimage case.
EXPECTED = {
    "docker-1.10": [(6, 1), (154, 108), (129, 93), (12, 6), (0, 0), (13, 1), (6, 5), (19, 4)],
    "docker-18.09": [(6, 2), (154, 84), (129, 102), (12, 9), (0, 0), (13, 7), (6, 4), (19, 10)],
    "moby": [(6, 6), (154, 152), (129, 90), (12, 9), (0, 0), (13, 8), (6, 6), (19, 14)],
    "moby-containerd": [(6, 6), (154, 154), (129, 93), (12, 12), (0, 0), (13, 8), (6, 6), (19, 14)],
    "containerd": [(6, 6), (154, 154), (129, 93), (12, 12), (0, 0), (13, 8), (6, 6), (19, 14)],
    "containerd-strict":
        [(6, 6), (154, 96), (129, 129), (12, 12), (0, 0), (13, 5), (6, 6), (19, 8)],
    "podman": [(6, 2), (154, 105), (129, 119), (12, 6), (16, 16), (13, 9), (6, 6), (19, 15)],
    "podman-4.3": [(6, 2), (154, 105), (129, 119), (12, 6), (16, 16), (13, 9), (6, 5), (19, 14)],
    "skopeo": [(6, 1), (154, 105), (129, 117), (12, 6), (0, 0), (13, 13), (6, 6), (19, 19)],
    "skopeo-1.9": [(6, 1), (154, 105), (129, 117), (12, 6), (0, 0), (13, 13), (6, 5), (19, 18)],
    "full": [(6, 6), (154, 154), (129, 93), (12, 12), (0, 0), (13, 8), (6, 6), (19, 14)],
}  # fmt: skip

# Each profile agrees with every case of the upstream tests of the code it follows.
HOME = {
    "containerd": (ONLY, FEATURES, WINDOWS),
    "moby-containerd": (ONLY, FEATURES, WINDOWS),
    "containerd-strict": (STRICT, FEATURES, WINDOWS),
    "skopeo": (WANTED, MATCHES),
    "skopeo-1.9": (WANTED_523,),
    "podman": (NORMALIZE,),
    "podman-4.3": (NORMALIZE,),
}


def test_every_table_names_its_upstream_file() -> None:
    assert sorted(t.name for t in TABLES) == sorted(ORDER)
    for table in TABLES:
        upstream = table.upstream
        assert {"repository", "version", "commit", "file", "test"} <= set(upstream), table.name
        assert len(upstream["commit"]) == 40
        assert table.cases, table.name


def test_agreement_counts() -> None:
    counts = agreement(TABLES)
    assert list(counts) == list(ENGINES)
    for profile, expected in EXPECTED.items():
        assert [counts[profile][name] for name in ORDER] == expected, profile


@pytest.mark.parametrize("profile", list(HOME))
def test_profile_agrees_with_the_tests_of_its_own_upstream(profile: str) -> None:
    counts = agreement(TABLES, [profile])[profile]
    for name in HOME[profile]:
        tried, agreed = counts[name]
        assert tried, name
        assert agreed == tried, (name, tried, agreed)


def test_render_and_main(capsys: pytest.CaptureFixture[str]) -> None:
    text = render(TABLES)
    assert text.splitlines()[0].startswith("| profile |")
    assert len(text.splitlines()) == 2 + len(ENGINES)
    assert main([str(ROOT)]) == 0
    assert capsys.readouterr().out.strip() == text
