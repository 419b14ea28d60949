"""A skopeo (containers/image) driven by tests: a HOME, registries.conf, registries.d and policy
of its own under a temporary directory, ``--debug`` so every request it makes is logged, and a
check after each run that it spoke to no host but the test's registries. HTTP(S)_PROXY point at a
closed port, so a request to any other host fails the command (Go never proxies loopback
addresses, so the registries are reached directly).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fakeregistry.rules import mediatypes as mt

ALL_MANIFEST_TYPES = ", ".join(sorted(mt.MANIFEST_TYPES))

# skopeo --debug logs each request as `msg="GET http://host/v2/..."`.
_REQUEST_LOG = re.compile(r'msg="(?:GET|HEAD|PUT|POST|PATCH|DELETE) (\S+)"')

_POLICY = {"default": [{"type": "insecureAcceptAnything"}]}
# No search registries and no short names: every reference here is fully qualified.
_REGISTRIES_CONF = 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n'


@dataclass
class Skopeo:
    """The skopeo binary with a configuration of its own, confined to ``hosts``."""

    binary: str
    root: Path
    hosts: set[str]

    def __post_init__(self) -> None:
        home = self.root / "home"
        config = home / ".config" / "containers"
        config.mkdir(parents=True)
        (self.root / "run").mkdir()
        (self.root / "registries.d").mkdir()
        (self.root / "tmp").mkdir()
        # skopeo 1.9 has no --registries-conf flag: it reads $HOME/.config/containers/
        # registries.conf instead of /etc/containers/registries.conf when that file exists, and
        # newer versions read CONTAINERS_REGISTRIES_CONF.
        (config / "registries.conf").write_text(_REGISTRIES_CONF)
        (self.root / "policy.json").write_text(json.dumps(_POLICY))
        dead_proxy = "http://127.0.0.1:9"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "CONTAINERS_REGISTRIES_CONF": str(config / "registries.conf"),
            "HTTP_PROXY": dead_proxy,
            "HTTPS_PROXY": dead_proxy,
            "http_proxy": dead_proxy,
            "https_proxy": dead_proxy,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run ``skopeo ARGS``, assert it succeeded and talked only to ``hosts``."""
        result = self.try_run(*args)
        assert result.returncode == 0, self._explain(args, result)
        return result

    def try_run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run ``skopeo ARGS`` whatever it returns; still assert it talked only to ``hosts``."""
        command = [
            self.binary,
            "--debug",
            "--policy",
            str(self.root / "policy.json"),
            "--registries.d",
            str(self.root / "registries.d"),
            "--tmpdir",
            str(self.root / "tmp"),
            *args,
        ]
        result = subprocess.run(command, env=self.env, capture_output=True, timeout=120)
        log = result.stderr.decode(errors="replace")
        contacted = {urlsplit(url).netloc for url in _REQUEST_LOG.findall(log)}
        assert contacted <= self.hosts, f"skopeo contacted {contacted - self.hosts}:\n{log}"
        # Guards the check above against a debug log format it no longer understands.
        if any(arg.startswith("docker://") for arg in args):
            assert contacted, f"no request found in skopeo's debug log:\n{log}"
        return result

    def copy(self, source: str, destination: str, *flags: str) -> str:
        """``skopeo copy``; the digest of the manifest it wrote (``--digestfile``)."""
        digest_file = self.root / "digest"
        self.run(
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--digestfile",
            str(digest_file),
            *flags,
            source,
            destination,
        )
        return digest_file.read_text().strip()

    def inspect_raw(self, reference: str) -> bytes:
        return self.run("inspect", "--tls-verify=false", "--raw", reference).stdout

    def list_tags(self, reference: str) -> dict[str, object]:
        result = self.run("list-tags", "--tls-verify=false", reference)
        document: dict[str, object] = json.loads(result.stdout)
        return document

    @staticmethod
    def _explain(args: tuple[str, ...], result: subprocess.CompletedProcess[bytes]) -> str:
        return (
            f"skopeo {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout.decode(errors='replace')}\n"
            f"stderr:\n{result.stderr.decode(errors='replace')}"
        )
