"""Client set-up for a running registry: the files and environment variables that make docker,
skopeo, podman, buildah and oras, run as subprocesses, reach it with no extra flags.

:func:`write_client_env` writes, in one directory:

=================================  =============================================================
``docker/config.json``             Docker's ``auths`` (``base64(user:password)``), which the
                                   docker CLI and oras read (``DOCKER_CONFIG``)
``containers/auth.json``           the same in containers-auth.json(5) form, for skopeo, podman
                                   and buildah (``REGISTRY_AUTH_FILE``)
``containers/registries.conf``     registries.conf(5) v2: the registry is ``insecure`` when it
                                   speaks plain HTTP (``CONTAINERS_REGISTRIES_CONF``)
``certs.d/HOST/ca.crt``            the registry's CA in the per-host layout Docker
                                   (``/etc/docker/certs.d``) and containers/image
                                   (``--cert-dir``, ``/etc/containers/certs.d``) read
``ca-bundle.crt``                  this machine's trusted CAs and the registry's CA: Go
                                   programs (all five tools) take their roots from
                                   ``SSL_CERT_FILE``
=================================  =============================================================

and returns a :class:`ClientEnv` whose :attr:`~ClientEnv.env` holds ``DOCKER_CONFIG``,
``REGISTRY_AUTH_FILE``, ``CONTAINERS_REGISTRIES_CONF`` and, over TLS, ``SSL_CERT_FILE``::

    setup = write_client_env(tmp_path, "https://127.0.0.1:5000", ca_file=ca, username="alice",
                             password="secret")
    subprocess.run(["skopeo", "inspect", "docker://127.0.0.1:5000/app:1"],
                   env={**os.environ, **setup.env}, check=True)

What each tool still needs: oras wants ``--plain-http`` for a plain-HTTP registry (it reads no
registries.conf); docker treats ``127.0.0.0/8`` as insecure by default. The password is written
in the clear (base64), as ``docker login`` does without a credential helper: the directory is
made ``0700`` and the files ``0600``.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["ClientEnv", "write_client_env"]


@dataclass(frozen=True, slots=True)
class ClientEnv:
    """The files written for one registry and the environment that points tools at them."""

    host: str
    directory: Path
    docker_config: Path
    auth_file: Path
    registries_conf: Path
    certs_dir: Path | None
    ca_bundle: Path | None
    env: dict[str, str]

    def shell(self) -> str:
        """``export NAME='value'`` lines, for ``eval "$(fakeregistry env ...)"``."""
        return "".join(f"export {name}={_quote(value)}\n" for name, value in self.env.items())


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = data.encode() if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)


def _host(url: str) -> tuple[str, bool]:
    """``(host[:port], tls)`` of a registry URL or bare ``host:port`` (HTTPS unless the URL
    says ``http://``)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a registry address: {url!r}")
    return parts.netloc, parts.scheme == "https"


def _system_roots() -> bytes:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return b""


def write_client_env(
    directory: str | os.PathLike[str],
    url: str,
    *,
    ca_file: str | os.PathLike[str] | None = None,
    username: str | None = None,
    password: str | None = None,
) -> ClientEnv:
    """Write the client configuration for the registry at *url* (``http://HOST:PORT``,
    ``https://HOST:PORT`` or ``HOST:PORT``, which means HTTPS) into *directory*.

    - *ca_file*: the CA the registry's certificate chains to (PEM), for HTTPS with a private
      CA (``fakeregistry serve --tls`` prints its path);
    - *username*/*password*: credentials for ``auths`` (both or neither).
    """
    host, tls = _host(url)
    if (username is None) != (password is None):
        raise ValueError("username and password go together")
    if ca_file is not None and not tls:
        raise ValueError(f"a CA file is for HTTPS, but {url} is plain HTTP")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    auths: dict[str, dict[str, str]] = {}
    if username is not None and password is not None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        auths[host] = {"auth": token}
    docker_config = root / "docker" / "config.json"
    _write(docker_config, json.dumps({"auths": auths}, indent=2) + "\n")
    auth_file = root / "containers" / "auth.json"
    _write(auth_file, json.dumps({"auths": auths}, indent=2) + "\n")
    registries_conf = root / "containers" / "registries.conf"
    lines = [
        "# written by fakeregistry: the registry below, and no search registries",
        "unqualified-search-registries = []",
        "",
        "[[registry]]",
        f'location = "{host}"',
        f"insecure = {'false' if tls else 'true'}",
    ]
    _write(registries_conf, "\n".join(lines) + "\n")
    env = {
        "DOCKER_CONFIG": str(docker_config.parent),
        "REGISTRY_AUTH_FILE": str(auth_file),
        "CONTAINERS_REGISTRIES_CONF": str(registries_conf),
    }
    certs_dir = ca_bundle = None
    if ca_file is not None:
        ca = Path(ca_file).read_bytes()
        certs_dir = root / "certs.d"
        _write(certs_dir / host / "ca.crt", ca)
        ca_bundle = root / "ca-bundle.crt"
        system = _system_roots()
        _write(ca_bundle, system + (b"\n" if system and not system.endswith(b"\n") else b"") + ca)
        env["SSL_CERT_FILE"] = str(ca_bundle)
    return ClientEnv(
        host=host,
        directory=root,
        docker_config=docker_config,
        auth_file=auth_file,
        registries_conf=registries_conf,
        certs_dir=certs_dir,
        ca_bundle=ca_bundle,
        env=env,
    )
