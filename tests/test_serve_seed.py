"""``fakeregistry serve --seed-layout DIR=REPO --seed-image REF[=PLATFORM,...] [--no-web-ui]``:
content is there before the "Serving on" line, and every mistake is one line and exit status 1.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from fakeregistry.cli.main import main
from fakeregistry.rules import mediatypes as mt
from fakeregistry.tools.builder import Image, Index
from fakeregistry.tools.seed import ImageSeed, SeedError
from tests.oci_layout import write_image, write_index
from tests.serve import serve

OCI_ACCEPT = {"Accept": f"{mt.OCI_INDEX}, {mt.OCI_MANIFEST}"}


def get_manifest(url: str, repository: str, reference: str) -> httpx.Response:
    response = httpx.get(f"{url}v2/{repository}/manifests/{reference}", headers=OCI_ACCEPT)
    assert response.status_code == 200, response.text
    return response


def config_of(url: str, repository: str, manifest: httpx.Response) -> dict[str, object]:
    digest = manifest.json()["config"]["digest"]
    answer = httpx.get(f"{url}v2/{repository}/blobs/{digest}", follow_redirects=True)
    document: dict[str, object] = answer.json()
    return document


def test_seed_images() -> None:
    multi = "demo:1=linux/amd64,linux/arm64/v8"
    with serve(
        "--seed-image", multi, "--seed-image", "single", "--seed-image", "team/app:v2=linux/arm/v7"
    ) as url:
        catalog = httpx.get(url + "v2/_catalog").json()
        assert catalog == {"repositories": ["demo", "single", "team/app"]}

        index = get_manifest(url, "demo", "1")
        assert index.headers["Content-Type"] == mt.OCI_INDEX
        assert index.headers["Docker-Content-Digest"] == ImageSeed.parse(multi).build().digest
        platforms = [entry["platform"] for entry in index.json()["manifests"]]
        assert platforms == [
            {"architecture": "amd64", "os": "linux"},
            {"architecture": "arm64", "os": "linux", "variant": "v8"},
        ]
        for entry in index.json()["manifests"]:
            get_manifest(url, "demo", entry["digest"])

        single = get_manifest(url, "single", "latest")
        assert single.headers["Content-Type"] == mt.OCI_MANIFEST
        assert config_of(url, "single", single)["architecture"] == "amd64"

        arm = get_manifest(url, "team/app", "v2")
        config = config_of(url, "team/app", arm)
        assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm", "v7")


def test_seed_layouts(tmp_path: Path) -> None:
    single = write_image(tmp_path / "single", tag="v1")
    multi = write_index(tmp_path / "multi", tag="v2")
    stderr: list[str] = []
    with serve(
        "--seed-layout",
        f"{single.path}=one",
        "--seed-layout",
        f"{multi.path}=team/many",
        "--seed-image",
        "extra:1",
        quiet=False,
        stderr=stderr,
    ) as url:
        assert get_manifest(url, "one", "v1").headers["Docker-Content-Digest"] == single.digest
        many = get_manifest(url, "team/many", "v2")
        assert many.headers["Docker-Content-Digest"] == multi.digest
        for digest in multi.manifests:
            get_manifest(url, "team/many", digest)
        for digest in multi.blobs:
            blob = httpx.head(f"{url}v2/team/many/blobs/{digest}")
            assert blob.status_code == 200
    # Seeding is reported before anything is served.
    assert stderr[:3] == ["Seeded one:v1", "Seeded team/many:v2", "Seeded extra:1"]


def test_web_page_is_on_unless_asked_not_to() -> None:
    with serve("--seed-image", "demo:1=linux/amd64,linux/386") as url:
        page = httpx.get(url)
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "linux/386" in page.text
        assert httpx.get(url + "ui/demo").status_code == 200
    with serve("--no-web-ui", "--seed-image", "demo:1") as url:
        assert httpx.get(url).status_code == 404
        assert httpx.get(url + "ui/demo").status_code == 404
        assert httpx.get(url + "v2/demo/tags/list").json() == {"name": "demo", "tags": ["1"]}


# -- mistakes -------------------------------------------------------------------------------------


def layout_with(tmp_path: Path, index: str | None, *, version: str = "1.0.0") -> str:
    root = tmp_path / "layout"
    root.mkdir()
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": version}))
    if index is not None:
        (root / "index.json").write_text(index)
    return str(root)


def missing_blob(tmp_path: Path) -> str:
    image = write_image(tmp_path / "image", tag="v1")
    (image.path / "blobs" / "sha256" / image.blobs[0].split(":")[1]).unlink()
    return str(image.path)


Args = Callable[[Path], list[str]]

MISTAKES: dict[str, tuple[Args, str]] = {
    "layout-missing-dir": (
        lambda tmp: ["--seed-layout", f"{tmp / 'nope'}=repo"],
        "no such directory",
    ),
    "layout-no-repository": (lambda tmp: ["--seed-layout", str(tmp)], "expected DIR=REPO"),
    "layout-not-a-layout": (lambda tmp: ["--seed-layout", f"{tmp}=repo"], "no oci-layout"),
    "layout-old-version": (
        lambda tmp: ["--seed-layout", layout_with(tmp, "{}", version="0.9") + "=repo"],
        "not an OCI image layout 1.0.0",
    ),
    "layout-bad-index": (
        lambda tmp: ["--seed-layout", layout_with(tmp, "{not json") + "=repo"],
        "index.json: not JSON",
    ),
    "layout-bad-descriptor": (
        lambda tmp: ["--seed-layout", layout_with(tmp, '{"manifests": [{"digest": "x"}]}') + "=r"],
        "a descriptor needs a mediaType and a digest",
    ),
    "layout-missing-blob": (
        lambda tmp: ["--seed-layout", missing_blob(tmp) + "=repo"],
        "is missing",
    ),
    "layout-bad-repository": (
        lambda tmp: ["--seed-layout", write_image(tmp / "i").path.as_posix() + "=Bad"],
        "invalid repository name 'Bad'",
    ),
    "image-bad-name": (lambda tmp: ["--seed-image", "Demo:1"], "invalid repository name"),
    "image-bad-tag": (lambda tmp: ["--seed-image", "demo:.v1"], "invalid tag '.v1'"),
    "image-host": (
        lambda tmp: ["--seed-image", "localhost:5000/demo:1"],
        "invalid repository name 'localhost:5000/demo'",
    ),
    "image-digest": (
        lambda tmp: ["--seed-image", "demo@sha256:" + "0" * 64],
        "named by a tag, not a digest",
    ),
    "image-bad-platform": (
        lambda tmp: ["--seed-image", "demo:1=linux/arm/v7/x"],
        "invalid platform 'linux/arm/v7/x'",
    ),
    "image-half-platform": (
        lambda tmp: ["--seed-image", "demo:1=linux"],
        "expected OS/ARCHITECTURE[/VARIANT]",
    ),
    "image-no-platform": (lambda tmp: ["--seed-image", "demo:1="], "empty platform"),
    "image-platform-twice": (
        lambda tmp: ["--seed-image", "demo:1=linux/amd64,linux/x86_64"],
        "platform linux/amd64 is given twice",
    ),
}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port already listening: should a mistake go unnoticed, ``serve`` fails to bind
    instead of serving forever."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"), [pytest.param(*value, id=name) for name, value in MISTAKES.items()]
)
def test_mistakes_are_one_line_and_status_1(
    args: Args,
    message: str,
    tmp_path: Path,
    busy_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags = args(tmp_path)
    status = main(["serve", "--port", str(busy_port), *flags])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"fakeregistry serve: {flags[0]} {flags[1]}: "), lines[0]
    assert message in lines[0]


def test_mistake_in_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fakeregistry", "serve", "--port", "0", "--seed-image", "x=arm"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "fakeregistry serve: --seed-image x=arm: platform 'arm': "
        "expected OS/ARCHITECTURE[/VARIANT]\n"
    )


# -- reading REF[=PLATFORM,...] -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "repository", "tag", "platforms", "kind"),
    [
        pytest.param("demo", "demo", "latest", ["linux/amd64"], Image, id="defaults"),
        pytest.param("a/b:1.0=linux/arm64/v8", "a/b", "1.0", ["linux/arm64/v8"], Image, id="one"),
        pytest.param(
            "a:1= linux/amd64 , linux/aarch64",
            "a",
            "1",
            ["linux/amd64", "linux/arm64"],
            Index,
            id="spaces-and-aliases",
        ),
        pytest.param(
            "win:1=windows(10.0.17763+win32k)/amd64",
            "win",
            "1",
            ["windows(10.0.17763+win32k)/amd64"],
            Image,
            id="windows",
        ),
    ],
)
def test_image_seed_parse(
    text: str, repository: str, tag: str, platforms: list[str], kind: type[Image | Index]
) -> None:
    seed = ImageSeed.parse(text)
    assert (seed.repository, seed.tag) == (repository, tag)
    assert [platform.format_all() for platform in seed.platforms] == platforms
    assert isinstance(seed.build(), kind)
    assert seed.build().digest == ImageSeed.parse(text).build().digest  # deterministic


def test_image_seed_sparse_names() -> None:
    with pytest.raises(SeedError, match="invalid repository name"):
        ImageSeed.parse("Odd_Name:1")
    assert ImageSeed.parse("Odd_Name:1", strict=False).repository == "Odd_Name"
