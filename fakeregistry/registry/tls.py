"""TLS for a registry: a throwaway CA and server certificate, or your own pair.

Real registries speak HTTPS, and clients check the certificate. :func:`generate_tls` makes a
CA that exists only for this process (with ``trustme``), issues a server certificate for
``127.0.0.1``, ``::1`` and ``localhost``, and writes the CA to ``<directory>/ca.crt`` so other
programs can trust it::

    tls = generate_tls()              # CA in a new temporary directory
    tls.ca_path                       # .../ca.crt: `skopeo --cert-dir`, `curl --cacert`, ...
    tls.server_context                # give to the server
    tls.client_context                # trusts the CA: urllib, httpx, aiohttp

The directory holds only ``ca.crt`` (no key), so it works as a containers ``--cert-dir`` or a
Docker ``certs.d/<host:port>`` directory as it is. :func:`load_tls` takes a certificate and key
of your own instead.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["CA_FILE_NAME", "DEFAULT_IDENTITIES", "TLSConfig", "generate_tls", "load_tls"]

# The name containers tools (skopeo, podman, buildah) and Docker look for in a certs directory.
CA_FILE_NAME = "ca.crt"
DEFAULT_IDENTITIES = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """What a TLS registry needs: a context to serve with, and what clients need to trust it.

    - ``server_context``: presents the server certificate (for ``aiohttp``'s site).
    - ``client_context``: verifies the server against ``ca_path`` (hostname checks on).
    - ``ca_path``: a PEM file clients can trust (the generated CA, or your certificate or CA).
    """

    server_context: ssl.SSLContext
    client_context: ssl.SSLContext
    ca_path: Path


def generate_tls(
    directory: str | Path | None = None,
    identities: Iterable[str] = DEFAULT_IDENTITIES,
) -> TLSConfig:
    """A throwaway CA and a server certificate for ``identities``; the CA is written to
    ``directory/ca.crt`` (``directory`` is created if missing; a fresh temporary directory
    when None, which the caller may remove).

    ``identities`` are host names, IP addresses or wildcards as ``trustme`` accepts them.
    """
    names = tuple(identities)
    if not names:
        raise ValueError("a server certificate needs at least one host name or address")
    if directory is None:
        folder = Path(tempfile.mkdtemp(prefix="fakeregistry-tls-"))
    else:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert(*names)
    ca_path = folder / CA_FILE_NAME
    ca.cert_pem.write_to_path(str(ca_path))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(server)
    return TLSConfig(
        server_context=server, client_context=_client_context(ca_path), ca_path=ca_path
    )


def load_tls(
    cert_file: str | Path, key_file: str | Path, ca_file: str | Path | None = None
) -> TLSConfig:
    """Serve ``cert_file`` (PEM, the chain may follow the certificate) with ``key_file``.

    Clients are told to trust ``ca_file``, or the certificate itself when no CA is given (a
    self-signed certificate, or a leaf trusted directly: partial chains are accepted).
    """
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(str(cert_file), str(key_file))
    trusted = Path(ca_file if ca_file is not None else cert_file)
    return TLSConfig(
        server_context=server, client_context=_client_context(trusted), ca_path=trusted
    )


def _client_context(ca_path: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_path))
    # Trust the file's certificates as anchors even when they are not self-signed roots, so a
    # leaf certificate given as its own "CA" verifies (Python 3.13 sets this by default).
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context
