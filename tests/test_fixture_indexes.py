"""The index and list fixtures in ``fixtures/indexes/`` (see ``fixtures/README.md``): each parses,
is self-consistent, round-trips through a fresh registry byte for byte, and each engine picks
the entry the engines' rules say (``docs/platform-rules.md`` part A), for a few hosts per fixture.

Expected picks are written as the chosen entry's platform (``os[(os.version)]/arch[/variant]``,
``+zstd`` for a zstd-annotated entry, ``[features]`` for CPU features), ``attestation`` for an
attestation entry, ``index > …`` when the pick is a nested index, and ``!`` for no match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeregistry.engine.selection import ENGINES, NoMatchingManifest, select_manifest
from fakeregistry.rules.model import parse_manifest
from tests.fixture_files import (
    INDEX_TYPES,
    REFERENCE_DIGEST,
    ZSTD,
    Node,
    expected_descriptor,
    index_by_digest,
    index_files,
    is_attestation,
    load,
    push,
    sha256,
    tree,
)

FILES = index_files()
BY_NAME = {path.name: path for path in FILES}


def test_there_are_fixtures() -> None:
    assert len(FILES) >= 10


# -- the documents themselves ------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_parses(path: Path) -> None:
    document = load(path)
    manifest = parse_manifest(path.read_bytes(), document["mediaType"])
    assert manifest.is_index
    assert [d.digest for d in manifest.manifests] == [m["digest"] for m in document["manifests"]]
    assert manifest.required_manifests() == [m["digest"] for m in document["manifests"]]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_self_consistent(path: Path) -> None:
    """Digests and sizes are those of the generated children (or of the nested fixture file),
    and every attestation names an image of the same index."""
    known = index_by_digest()
    document = load(path)
    images = {m["digest"] for m in document["manifests"] if not is_attestation(m)}
    for i, descriptor in enumerate(document["manifests"]):
        digest, size = expected_descriptor(descriptor, known)
        assert (descriptor["digest"], descriptor["size"]) == (digest, size), (
            f"manifests[{i}] is stale: run python -m tests.fixture_files"
        )
        if is_attestation(descriptor):
            assert descriptor["platform"] == {"architecture": "unknown", "os": "unknown"}
            assert descriptor["annotations"][REFERENCE_DIGEST] in images


def _walk(node: Node) -> list[Node]:
    return [node, *(n for child in node.children for n in _walk(child))]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_round_trip(path: Path, http: httpx.Client) -> None:
    """The registry checks every reference, so it takes the fixture only if the set is
    complete; it gives back the exact bytes and type, by tag and by digest."""
    root = tree(path)
    push(http, "fixtures/index", root, "v1")
    for reference in ("v1", root.digest):
        response = http.get(
            f"/v2/fixtures/index/manifests/{reference}", headers={"Accept": root.media_type}
        )
        assert response.status_code == 200
        assert response.content == path.read_bytes()
        assert response.headers["Content-Type"] == root.media_type
        assert response.headers["Docker-Content-Digest"] == sha256(path.read_bytes())
    for node in _walk(root)[1:]:
        response = http.get(
            f"/v2/fixtures/index/manifests/{node.digest}", headers={"Accept": node.media_type}
        )
        assert response.status_code == 200
        assert response.content == node.manifest


# -- what each engine pulls --------------------------------------------------------------------


def label(descriptor: dict[str, Any]) -> str:
    if is_attestation(descriptor):
        return "attestation"
    platform = descriptor.get("platform")
    if not platform:
        return "index" if descriptor["mediaType"] in INDEX_TYPES else "no-platform"
    text = str(platform["os"])
    if platform.get("os.version"):
        text += f"({platform['os.version']})"
    text += f"/{platform['architecture']}"
    if platform.get("variant"):
        text += f"/{platform['variant']}"
    if platform.get("features"):
        text += f"[{','.join(platform['features'])}]"
    if (descriptor.get("annotations") or {}).get(ZSTD) == "true":
        text += "+zstd"
    return text


def pick(name: str, host: str, engine: str, requested: str | None = None) -> str:
    """What *engine* on *host* pulls from fixture *name*, following nested indexes."""
    known = index_by_digest()
    path = BY_NAME[name]
    labels: list[str] = []
    for _ in range(8):
        try:
            chosen = select_manifest(path.read_bytes(), host, engine, requested=requested)
        except NoMatchingManifest:
            return " > ".join([*labels, "!"])
        labels.append(label(chosen.descriptor))
        if chosen.descriptor["mediaType"] not in INDEX_TYPES:
            break
        path = known[chosen.descriptor["digest"]]
    return " > ".join(labels)


ALL = "*"  # every engine in ENGINES not named otherwise in the row

# (fixture, id (the rule), host, requested, {engine: expected}).
CASES: list[tuple[str, str, str, str | None, dict[str, str]]] = [
    # -- alpine: official image, attestations interleaved -------------------------------------
    ("alpine-3.23.4.oci-index.json", "amd64", "linux/amd64", None, {ALL: "linux/amd64"}),
    ("alpine-3.23.4.oci-index.json", "arm64-v8-host", "linux/arm64/v8", None,
     {ALL: "linux/arm64/v8"}),
    # Docker 1.10-18.05 compare os/architecture literally and take the first: arm/v6 (A8).
    ("alpine-3.23.4.oci-index.json", "armv7-host-1.10-takes-first-arm", "linux/arm/v7", None,
     {"docker-1.10": "linux/arm/v6", ALL: "linux/arm/v7"}),
    # Only(arm/v5) is just arm/v5 (A4); 18.06-20.10 fall back to any arm entry (A8);
    # containers/image wants [v5, ""] exactly (A9).
    ("alpine-3.23.4.oci-index.json", "armv5-host-no-v5", "linux/arm/v5", None,
     {"docker-1.10": "linux/arm/v6", "docker-18.09": "linux/arm/v6", ALL: "!"}),
    # moby's amd64 level chain v3, v2, v1 (= plain amd64) (A7/A8); containerd has no level.
    ("alpine-3.23.4.oci-index.json", "amd64-v3-host", "linux/amd64/v3", None,
     {"moby": "linux/amd64", "containerd": "linux/amd64", "containerd-strict": "linux/amd64",
      "containers-image": "linux/amd64", "full": "linux/amd64"}),
    ("alpine-3.23.4.oci-index.json", "arm64-host-asks-armv7", "linux/arm64/v8", "linux/arm/v7",
     {"moby": "linux/arm/v7", "containerd": "linux/arm/v7", "containers-image": "linux/arm/v7",
      "full": "linux/arm/v7"}),
    ("alpine-3.23.4.oci-index.json", "mips64le-absent", "linux/mips64le", None, {ALL: "!"}),
    # Attestations lose on their platform only: a (nonsense) unknown/unknown host matches them
    # literally in every real engine (Only(p) = [p] for an unknown arch, A4); `full` refuses.
    ("alpine-3.23.4.oci-index.json", "unknown-host-matches-attestation", "unknown/unknown", None,
     {"full": "!", ALL: "attestation"}),
    # -- BuildKit: arm64 without variant, attestations last -----------------------------------
    # arm64/v8 normalizes to arm64 (A1); containers/image wants [v8, ""] (A9).
    ("moby-buildkit-master.oci-index.json", "arm64-v8-host-takes-bare-arm64", "linux/arm64/v8",
     None, {ALL: "linux/arm64"}),
    # Pi Zero: Only(arm/v6) = v6, v5 (A4); 18.09's arm fallback takes arm/v7 (A8).
    ("moby-buildkit-master.oci-index.json", "armv6-host-no-v6", "linux/arm/v6", None,
     {"docker-1.10": "linux/arm/v7", "docker-18.09": "linux/arm/v7", ALL: "!"}),
    # arm/v8 chain v8, v7, v6, v5 (A4); OnlyStrict has no sub-platforms.
    ("moby-buildkit-master.oci-index.json", "arm32-v8-host-falls-back-to-v7", "linux/arm/v8",
     None, {"moby": "linux/arm/v7", "containerd": "linux/arm/v7", "containerd-strict": "!",
            "containers-image": "linux/arm/v7"}),
    ("moby-buildkit-master.oci-index.json", "amd64", "linux/amd64", None, {ALL: "linux/amd64"}),
    ("moby-buildkit-master.docker-list.json", "arm64-v8-host-takes-bare-arm64", "linux/arm64/v8",
     None, {ALL: "linux/arm64"}),
    ("moby-buildkit-master.docker-list.json", "armv7-host", "linux/arm/v7", None,
     {ALL: "linux/arm/v7"}),
    # -- dotnet/runtime:7.0: Linux and two Windows builds -------------------------------------
    ("dotnet-runtime-7.0.docker-list.json", "armv6-host-engine-specific", "linux/arm/v6", None,
     {"docker-1.10": "linux/arm/v7", "docker-18.09": "linux/arm/v7", ALL: "!"}),
    ("dotnet-runtime-7.0.docker-list.json", "arm64-v8-host", "linux/arm64/v8", None,
     {ALL: "linux/arm64/v8"}),
    ("dotnet-runtime-7.0.docker-list.json", "amd64", "linux/amd64", None, {ALL: "linux/amd64"}),
    # Windows daemon: drop newer builds, host build first (A8); containerd: build-compat (A6);
    # containers/image ignores os.version, Docker 1.10 takes the first windows/amd64.
    ("dotnet-runtime-7.0.docker-list.json", "ltsc2022-host", "windows(10.0.20348.2340)/amd64",
     None, {"containers-image": "windows(10.0.17763.3532)/amd64",
            "docker-1.10": "windows(10.0.17763.3532)/amd64",
            ALL: "windows(10.0.20348.1129)/amd64"}),
    ("dotnet-runtime-7.0.docker-list.json", "ltsc2019-host", "windows(10.0.17763.5576)/amd64",
     None, {ALL: "windows(10.0.17763.3532)/amd64"}),
    # -- openjdk windowsservercore: three LTSC builds, newest first ---------------------------
    ("openjdk-25-ea-13-jdk-windowsservercore.docker-list.json", "ltsc2025-host",
     "windows(10.0.26100.3775)/amd64", None, {ALL: "windows(10.0.26100.3194)/amd64"}),
    ("openjdk-25-ea-13-jdk-windowsservercore.docker-list.json", "ltsc2022-host",
     "windows(10.0.20348.3453)/amd64", None,
     {"containers-image": "windows(10.0.26100.3194)/amd64",
      "docker-1.10": "windows(10.0.26100.3194)/amd64", ALL: "windows(10.0.20348.3207)/amd64"}),
    # host < 20348: exact build only (A6); the daemon drops newer builds.
    ("openjdk-25-ea-13-jdk-windowsservercore.docker-list.json", "ltsc2019-host",
     "windows(10.0.17763.7009)/amd64", None,
     {"containers-image": "windows(10.0.26100.3194)/amd64",
      "docker-1.10": "windows(10.0.26100.3194)/amd64", ALL: "windows(10.0.17763.6893)/amd64"}),
    # Windows 11 22H2 (22621): floor 20348 <= build <= 22621 (A6); the daemon keeps 20348 and
    # 17763 (not newer) in list order.
    ("openjdk-25-ea-13-jdk-windowsservercore.docker-list.json", "win11-22h2-host",
     "windows(10.0.22621.4890)/amd64", None,
     {"moby": "windows(10.0.20348.3207)/amd64", "containerd": "windows(10.0.20348.3207)/amd64",
      "full": "windows(10.0.20348.3207)/amd64"}),
    ("openjdk-25-ea-13-jdk-windowsservercore.docker-list.json", "rs1-host-everything-newer",
     "windows(10.0.14393.7428)/amd64", None,
     {"moby": "!", "containerd": "!", "containerd-strict": "!", "full": "!"}),
    ("openjdk-25-ea-13-jdk-windowsservercore.docker-list.json", "linux-host", "linux/amd64",
     None, {ALL: "!"}),
    # -- hylang: Linux with attestations, then Windows ----------------------------------------
    ("hylang-pypy3.11.oci-index.json", "amd64", "linux/amd64", None, {ALL: "linux/amd64"}),
    ("hylang-pypy3.11.oci-index.json", "arm64-v8-host", "linux/arm64/v8", None,
     {ALL: "linux/arm64/v8"}),
    ("hylang-pypy3.11.oci-index.json", "armv7-host-no-arm", "linux/arm/v7", None, {ALL: "!"}),
    ("hylang-pypy3.11.oci-index.json", "ltsc2022-host", "windows(10.0.20348.4529)/amd64", None,
     {"moby": "windows(10.0.20348.4529)/amd64", "containerd": "windows(10.0.20348.4529)/amd64",
      "full": "windows(10.0.20348.4529)/amd64",
      "containers-image": "windows(10.0.26100.7462)/amd64"}),
    ("hylang-pypy3.11.oci-index.json", "ltsc2025-host", "windows(10.0.26100.7462)/amd64", None,
     {"moby": "windows(10.0.26100.7462)/amd64", "containerd": "windows(10.0.26100.7462)/amd64",
      "full": "windows(10.0.26100.7462)/amd64"}),
    # -- containers/image ocilist-variants: its own TestOCI1IndexChooseInstanceByCompression
    # rows (preferGzip false) as overrides on an amd64 host, and containerd's reading ----------
    ("containers-image-ocilist-variants.oci-index.json", "asks-armv7", "linux/amd64",
     "linux/arm/v7", {"containers-image": "linux/arm/v7", "moby": "linux/arm/v7"}),
    # zstd preferred by containers/image; containerd ignores compression: first v6 in order.
    ("containers-image-ocilist-variants.oci-index.json", "asks-armv6-zstd-preferred",
     "linux/amd64", "linux/arm/v6",
     {"containers-image": "linux/arm/v6+zstd", "moby": "linux/arm/v6",
      "containerd": "linux/arm/v6",
      # containers/image 5.23.1 has no compression preference: list order.
      "podman-4.3": "linux/arm/v6", "skopeo-1.9": "linux/arm/v6"}),
    ("containers-image-ocilist-variants.oci-index.json", "asks-armv5-takes-bare-arm",
     "linux/amd64", "linux/arm/v5", {"containers-image": "linux/arm", "moby": "!"}),
    # Parse("linux/arm") normalizes to arm/v7: arm/v7 and bare arm tie, list order wins (A4).
    ("containers-image-ocilist-variants.oci-index.json", "asks-bare-arm", "linux/amd64",
     "linux/arm", {"containers-image": "linux/arm", "moby": "linux/arm/v7",
                   # libimage normalizes --arch arm to arm/v7 before containers/image looks.
                   "podman": "linux/arm/v7", "podman-4.3": "linux/arm/v7"}),
    ("containers-image-ocilist-variants.oci-index.json", "asks-unrecognized-present",
     "linux/amd64", "linux/arm/unrecognized-present",
     {"containers-image": "linux/arm/unrecognized-present",
      "moby": "linux/arm/unrecognized-present"}),
    ("containers-image-ocilist-variants.oci-index.json", "asks-unrecognized-not-present",
     "linux/amd64", "linux/arm/unrecognized-not-present",
     {"containers-image": "linux/arm", "moby": "!"}),
    ("containers-image-ocilist-variants.oci-index.json", "armv6-host", "linux/arm/v6", None,
     {"containers-image": "linux/arm/v6+zstd", "moby": "linux/arm/v6",
      "docker-1.10": "linux/arm/v7", "podman-4.3": "linux/arm/v6",
      "skopeo-1.9": "linux/arm/v6"}),
    # -- moby daemon/containerd/platform_matchers_test.go (Only column → moby/containerd,
    # OnlyStrict column → containerd-strict), daemon linux/arm64/v8 ---------------------------
    ("moby-matchers-arm64-daemon.oci-index.json", "nil", "linux/arm64/v8", None,
     {"moby": "linux/arm64/v8", "containerd": "linux/arm64/v8",
      "containerd-strict": "linux/arm64/v8"}),
    ("moby-matchers-arm64-daemon.oci-index.json", "asks-amd64", "linux/arm64/v8", "linux/amd64",
     {"moby": "linux/amd64", "containerd": "linux/amd64", "containerd-strict": "linux/amd64"}),
    ("moby-matchers-arm64-daemon.oci-index.json", "asks-windows", "linux/arm64/v8",
     "windows/amd64", {"moby": "windows(10.0.14393)/amd64",
                       "containerd-strict": "windows(10.0.14393)/amd64"}),
    ("moby-matchers-arm64-daemon.oci-index.json", "asks-arm", "linux/arm64/v8", "linux/arm",
     {"moby": "linux/arm/v6", "containerd": "linux/arm/v6", "containerd-strict": "!"}),
    ("moby-matchers-arm64-daemon.oci-index.json", "asks-armv5", "linux/arm64/v8", "linux/arm/v5",
     {"moby": "linux/arm/v5", "containerd-strict": "linux/arm/v5"}),
    ("moby-matchers-arm64-daemon.oci-index.json", "asks-armv8", "linux/arm64/v8", "linux/arm/v8",
     {"moby": "linux/arm/v6", "containerd-strict": "!"}),
    ("moby-matchers-arm64-daemon.oci-index.json", "asks-s390x", "linux/arm64/v8", "linux/s390x",
     {"moby": "!", "containerd-strict": "!"}),
    # -- same file, amd64/v4 daemon ----------------------------------------------------------
    ("moby-matchers-amd64-v1-v3.oci-index.json", "nil", "linux/amd64/v4", None,
     {"moby": "linux/amd64/v3", "containerd": "linux/amd64"}),
    ("moby-matchers-amd64-v1-v3.oci-index.json", "asks-amd64", "linux/amd64/v4", "linux/amd64",
     {"moby": "linux/amd64", "containerd-strict": "linux/amd64"}),
    ("moby-matchers-amd64-v1-v3.oci-index.json", "asks-v3", "linux/amd64/v4", "linux/amd64/v3",
     {"moby": "linux/amd64/v3", "containerd-strict": "linux/amd64/v3"}),
    # containerd's DefaultSpec has no level: Only(amd64) = amd64, 386 (A4 NB).
    ("moby-matchers-amd64-v2-v3.oci-index.json", "nil", "linux/amd64/v4", None,
     {"moby": "linux/amd64/v3", "containerd": "!"}),
    ("moby-matchers-amd64-v2-v3.oci-index.json", "asks-v4", "linux/amd64/v4", "linux/amd64/v4",
     {"moby": "linux/amd64/v3", "containerd": "linux/amd64/v3", "containerd-strict": "!"}),
    # -- distribution's spec example: CPU features count only for `full` ---------------------
    ("distribution-spec-example.docker-list.json", "amd64-host-without-sse4", "linux/amd64",
     None, {"moby": "linux/amd64[sse4]", "containerd": "linux/amd64[sse4]",
            "containers-image": "linux/amd64[sse4]", "full": "!"}),
    ("distribution-spec-example.docker-list.json", "ppc64le", "linux/ppc64le", None,
     {ALL: "linux/ppc64le"}),
    # -- nested: a platform-less index entry is kept, ranked last, and recursed into (A5) -----
    ("nested-outer.oci-index.json", "amd64-recurses", "linux/amd64", None,
     {"moby": "index > linux/amd64", "containerd": "index > linux/amd64",
      "containerd-strict": "index > linux/amd64", "containers-image": "index > linux/amd64",
      "full": "index > linux/amd64",
      # Docker 1.10-20.10 compare the (never nil) platform struct: an empty one fails (A8).
      "docker-1.10": "!", "docker-18.09": "!"}),
    ("nested-outer.oci-index.json", "arm64-recurses", "linux/arm64/v8", None,
     {"moby": "index > linux/arm64", "containerd": "index > linux/arm64"}),
    ("nested-outer.oci-index.json", "s390x-inner-no-match", "linux/s390x", None,
     {"moby": "index > !", "containerd": "index > !"}),
    ("nested-outer.oci-index.json", "windows-host-takes-image", "windows(10.0.20348.2655)/amd64",
     None, {"moby": "windows(10.0.20348.2655)/amd64",
            "containerd": "windows(10.0.20348.2655)/amd64"}),
]  # fmt: skip


CONTAINERS_IMAGE = ("podman", "podman-4.3", "skopeo", "skopeo-1.9")


def _column(engine: str) -> str:
    """The column of CASES an engine's expectation is in: the containers/image profiles share
    "containers-image" (with no requested platform they differ only in amd64 levels and
    compression, which these fixtures do not exercise unless they say so)."""
    return "containers-image" if engine in CONTAINERS_IMAGE else engine


def _expand() -> list[Any]:
    params = []
    for name, rule, host, requested, picks in CASES:
        engines = (
            ENGINES
            if ALL in picks
            else tuple(e for e in ENGINES if e in picks or _column(e) in picks)
        )
        for engine in engines:
            # The containers/image profiles share the "containers-image" column: with no
            # requested platform they differ only in amd64 levels and compression.
            want = picks.get(engine, picks.get(_column(engine), picks.get(ALL, "")))
            stem = name.removesuffix(".json")
            params.append(
                pytest.param(name, host, requested, engine, want, id=f"{stem}-{rule}-{engine}")
            )
    return params


@pytest.mark.parametrize(("name", "host", "requested", "engine", "expected"), _expand())
def test_pick(name: str, host: str, requested: str | None, engine: str, expected: str) -> None:
    assert pick(name, host, engine, requested) == expected


def test_every_fixture_has_pick_cases() -> None:
    assert {case[0] for case in CASES} | {"nested-inner-linux.oci-index.json"} == set(BY_NAME)


HOSTS = [
    "linux/amd64",
    "linux/amd64/v3",
    "linux/386",
    "linux/arm64/v8",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/s390x",
    "windows(10.0.20348.1)/amd64",
]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_attestations_are_never_picked(path: Path) -> None:
    """BuildKit attestation entries (``unknown/unknown``) lose on their platform on every
    real host, in every engine."""
    for host in HOSTS:
        for engine in ENGINES:
            try:
                chosen = select_manifest(path.read_bytes(), host, engine)
            except NoMatchingManifest:
                continue
            assert not is_attestation(chosen.descriptor), (host, engine)


@pytest.mark.parametrize(
    ("name", "host", "engine", "message"),
    [
        # A8: no platform requested → FormatAll(DefaultSpec()), no amd64 level.
        pytest.param(
            "openjdk-25-ea-13-jdk-windowsservercore.docker-list.json",
            "linux/amd64",
            "moby",
            "no matching manifest for linux/amd64 in the manifest list entries",
            id="moby-linux-host-windows-only-list",
        ),
        # A8: the arm64 box's default spec keeps v8.
        pytest.param(
            "dotnet-runtime-7.0.docker-list.json",
            "linux/s390x",
            "moby",
            "no matching manifest for linux/s390x in the manifest list entries",
            id="moby-s390x",
        ),
        pytest.param(
            "moby-buildkit-master.oci-index.json",
            "linux/arm/v6",
            "containerd",
            "no match for platform in manifest: not found",
            id="containerd-armv6",
        ),
        # A9: wanted[0] named in the message; OCI index wording.
        pytest.param(
            "moby-buildkit-master.oci-index.json",
            "linux/arm/v6",
            "containers-image",
            'no image found in image index for architecture "arm", variant "v6", OS "linux"',
            id="containers-image-index-armv6",
        ),
        pytest.param(
            "dotnet-runtime-7.0.docker-list.json",
            "linux/arm/v6",
            "containers-image",
            'no image found in manifest list for architecture "arm", variant "v6", OS "linux"',
            id="containers-image-list-armv6",
        ),
    ],
)
def test_no_match_messages(name: str, host: str, engine: str, message: str) -> None:
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(BY_NAME[name].read_bytes(), host, engine)
    assert str(caught.value) == message
