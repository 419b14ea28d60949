"""The specs and images the manifest-tool tests push: the talk's example and manifest-tool's
own release spec, with the member images built by our builders and uploaded over HTTP (so the
same helper fills our server and CNCF distribution)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from fakeregistry import Image, Index, build_image
from fakeregistry.client import NotFoundError, RegistryClient
from fakeregistry.rules.reference import ImageReference


async def aupload(client: RegistryClient, ref: ImageReference, item: Image | Index) -> None:
    """Push *item* (and an index's children, by digest) to *ref*."""
    if isinstance(item, Index):
        for child in item.children:
            await aupload(client, replace(ref, tag=None, digest=child.digest), child)
    else:
        for blob in item.blobs:
            await client.push_blob(ref, blob.data, skip_existing=True)
    await client.put_manifest(ref, item.manifest, item.media_type)


def upload(ref: str, item: Image | Index) -> None:
    """Push *item* to the full reference *ref* (``127.0.0.1:PORT/repo:tag``)."""

    async def main() -> None:
        async with RegistryClient() as client:
            await aupload(client, ImageReference.parse(ref), item)

    asyncio.run(main())


def tag_exists(ref: str) -> bool:
    """True when the registry has a manifest under *ref*'s tag."""

    async def main() -> bool:
        async with RegistryClient() as client:
            try:
                await client.head_manifest(ref)
            except NotFoundError:
                return False
            return True

    return asyncio.run(main())


def debian(platform: str) -> Image:
    """A Docker schema2 "debian:jessie" for *platform* (one layer, naming the platform)."""
    files = {"etc/debian_version": "8.11\n", "etc/platform": f"{platform}\n"}
    return build_image(platform, media_type="docker", layers=[files])


@dataclass(frozen=True)
class Member:
    """A member image: where it is pushed (``repo:tag`` under the test's namespace), the
    platform it is built for, and the platform the spec lists it with."""

    ref: str
    built_for: str
    listed_as: str


# -- the talk: "Containerize All The (Multi-Platform) Things!", DockerCon 16 ---------------------

# One repository per architecture, as in 2016 (`s390x/debian`, `ppc64le/debian`, ...).
TALK_MEMBERS = (
    Member("s390x/debian:jessie", "linux/s390x", "linux/s390x"),
    Member("debian:jessie", "linux/amd64", "linux/amd64"),
    Member("ppc64le/debian:jessie", "linux/ppc64le", "linux/ppc64le"),
    Member("aarch64/debian:jessie", "linux/arm64/v8", "linux/arm64/v8"),
)
TALK_TARGET = "estesp/debian:jessie"


def talk_spec(prefix: str, *, variant: str = "v8") -> str:
    """The talk's example spec, names under *prefix* (``127.0.0.1:PORT/ns/``). The slide has
    ``variant: armv8``, which manifest-tool has long rejected; *variant* defaults to ``v8``."""
    return f"""\
image: {prefix}estesp/debian:jessie
manifests:
-
  image: {prefix}s390x/debian:jessie
  platform:
    architecture: s390x
    os: linux
-
  image: {prefix}debian:jessie
  platform:
    architecture: amd64
    os: linux
-
  image: {prefix}ppc64le/debian:jessie
  platform:
    architecture: ppc64le
    os: linux
-
  image: {prefix}aarch64/debian:jessie
  platform:
    architecture: arm64
    os: linux
    variant: {variant}
"""


# -- manifest-tool's release spec (hack/pushml.yaml): ten entries, one repository ---------------

VERSION = "v2.1.9"
WIN2019 = "10.0.17763.6414"
WIN2016 = "10.0.14393.7428"
RELEASE_MEMBERS = (
    Member(f"mplatform/manifest-tool:linux-ppc64le-{VERSION}", "linux/ppc64le", "linux/ppc64le"),
    Member(f"mplatform/manifest-tool:linux-amd64-{VERSION}", "linux/amd64", "linux/amd64"),
    Member(f"mplatform/manifest-tool:linux-386-{VERSION}", "linux/386", "linux/386"),
    Member(f"mplatform/manifest-tool:linux-s390x-{VERSION}", "linux/s390x", "linux/s390x"),
    Member(f"mplatform/manifest-tool:linux-riscv64-{VERSION}", "linux/riscv64", "linux/riscv64"),
    Member(f"mplatform/manifest-tool:linux-arm64-{VERSION}", "linux/arm64/v8", "linux/arm64/v8"),
    Member(f"mplatform/manifest-tool:linux-armv7-{VERSION}", "linux/arm/v7", "linux/arm/v7"),
    Member(f"mplatform/manifest-tool:linux-armv6-{VERSION}", "linux/arm/v6", "linux/arm/v6"),
    # Told apart only by the os.version copied from their configs.
    Member(
        f"mplatform/manifest-tool:windows-amd64-ltsc2019-{VERSION}",
        f"windows({WIN2019})/amd64",
        f"windows({WIN2019})/amd64",
    ),
    Member(
        f"mplatform/manifest-tool:windows-amd64-ltsc2016-{VERSION}",
        f"windows({WIN2016})/amd64",
        f"windows({WIN2016})/amd64",
    ),
)
RELEASE_TARGET = f"mplatform/manifest-tool:{VERSION}"


def release_spec(prefix: str) -> str:
    """manifest-tool's release spec shape; ``architecture: 386`` is a YAML integer, as there."""
    entries = []
    for member in RELEASE_MEMBERS:
        os_part, architecture, *variant = member.built_for.split("/")
        os_name = os_part.split("(")[0]
        lines = [
            "  -",
            f"    image: {prefix}{member.ref}",
            "    platform:",
            f"      architecture: {architecture}",
            f"      os: {os_name}",
        ]
        lines.extend(f"      variant: {v}" for v in variant)
        entries.append("\n".join(lines))
    body = "\n".join(entries)
    return f'image: {prefix}{RELEASE_TARGET}\ntags: ["latest"]\nmanifests:\n{body}\n'


def build_members(members: Sequence[Member]) -> dict[str, Image]:
    """The image of each member, by its ref."""
    return {member.ref: debian(member.built_for) for member in members}


def upload_members(prefix: str, images: dict[str, Image]) -> None:
    for ref, image in images.items():
        upload(f"{prefix}{ref}", image)
