"""How to reach a registry host: :class:`HostConfig` and the defaults that depend on the host."""

from __future__ import annotations

from dataclasses import dataclass

from fakeregistry.rules.reference import DEFAULT_REGISTRY

__all__ = ["HostConfig", "api_host", "is_loopback"]

_API_HOSTS = {DEFAULT_REGISTRY: "registry-1.docker.io"}
_LOOPBACK_NAMES = {"localhost", "::1"}


@dataclass(frozen=True, slots=True)
class HostConfig:
    """How to talk to one registry host.

    - ``plain_http``: HTTP instead of HTTPS; ``None`` means "plain HTTP for loopback hosts,
      unless ``insecure`` or ``ca_file`` say that HTTPS is meant".
    - ``insecure``: HTTPS without certificate verification.
    - ``ca_file``: a PEM bundle of CAs to trust instead of the system's.
    - ``username``/``password``: sent as Basic credentials when the registry asks, and to
      the token endpoint of the Docker token flow. Without them, tokens are anonymous.

    >>> HostConfig().uses_plain_http("127.0.0.1:5000"), HostConfig().uses_plain_http("ghcr.io")
    (True, False)
    """

    plain_http: bool | None = None
    insecure: bool = False
    ca_file: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def has_credentials(self) -> bool:
        return self.username is not None

    def uses_plain_http(self, host: str) -> bool:
        """Whether *host* is reached over plain HTTP with these settings."""
        if self.plain_http is not None:
            return self.plain_http
        return is_loopback(host) and not self.insecure and self.ca_file is None


def api_host(host: str) -> str:
    """The host that serves a registry's API (``docker.io`` is served by
    ``registry-1.docker.io``).

    >>> api_host("docker.io"), api_host("ghcr.io")
    ('registry-1.docker.io', 'ghcr.io')
    """
    return _API_HOSTS.get(host, host)


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.y.z`` and ``[::1]``, with or without a port.

    >>> is_loopback("127.0.0.1:5000"), is_loopback("[::1]:80"), is_loopback("ghcr.io")
    (True, True, False)
    """
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in _LOOPBACK_NAMES or name.startswith("127.")
