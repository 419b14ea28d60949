"""A registry client over HTTP that works against any OCI distribution / Docker v2 registry.

The client knows no storage: it speaks the distribution-spec to whatever answers, our own
:mod:`fakeregistry` server, CNCF distribution, or a hosted registry::

    async with RegistryClient() as client:
        fetched = await client.get_manifest("127.0.0.1:5000/demo:latest")
        config = await client.get_blob("127.0.0.1:5000/demo", fetched.json()["config"]["digest"])

What it does for you:

- **References** are parsed and normalised as Docker does (:class:`ImageReference`:
  ``debian:jessie`` is ``docker.io/library/debian:jessie``; ``docker.io`` is served by
  ``registry-1.docker.io``). Wherever a repository is asked for, a reference string or an
  :class:`ImageReference` will do (its tag or digest is then ignored).
- **Transport** per registry host (:class:`HostConfig`): HTTPS by default, with a CA file or
  without verification (``insecure``), or plain HTTP. Loopback hosts (``localhost``,
  ``127.0.0.1``, ``[::1]``) default to plain HTTP, like a developer's local registry.
- **Authentication** on demand: a ``401`` is answered with Basic credentials or with the
  Docker token flow (``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` → ``GET
  realm?service=…&scope=…``, Basic credentials to the realm when configured, anonymous
  otherwise; ``token`` or ``access_token`` accepted). Tokens are cached per scope; an
  ``insufficient_scope`` challenge upgrades the scope (``pull`` → ``pull,push``).
- **Verification**: manifests and blobs are hashed as they arrive and checked against the
  digest asked for; a mismatch raises :class:`DigestMismatchError` naming both digests.
- **Errors** carry the registry's ``{"errors": [{"code", "message", "detail"}]}`` envelope
  and the HTTP status (:class:`RegistryHTTPError` and its subclasses).
- **A trace**: every request (method, URL, status) is appended to :attr:`RegistryClient.trace`,
  and to the list of any :meth:`RegistryClient.recording` block active in the calling task.

One client holds one ``aiohttp`` session, bound to the event loop that first used it.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import re
import ssl
import time
from collections.abc import AsyncIterator, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote, urljoin

import aiohttp
from yarl import URL

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import DEFAULT_ALGORITHM, Digest, DigestError, compute
from fakeregistry.rules.errors import FakeRegistryError, RegistryError
from fakeregistry.rules.model import Descriptor
from fakeregistry.rules.reference import DEFAULT_REGISTRY, ImageReference, ImageReferenceError

__all__ = [
    "DEFAULT_MANIFEST_ACCEPT",
    "AuthenticationError",
    "BlobDownload",
    "Challenge",
    "DigestMismatchError",
    "ErrorDetail",
    "FetchedManifest",
    "HostConfig",
    "NotFoundError",
    "PingResult",
    "RegistryClient",
    "RegistryClientError",
    "RegistryConnectionError",
    "RegistryHTTPError",
    "Scope",
    "SizeMismatchError",
    "TraceEntry",
    "UploadMethod",
    "is_loopback",
    "merge_scopes",
    "parse_challenges",
]

# What a modern client accepts: both index types first, then both image manifest types.
DEFAULT_MANIFEST_ACCEPT: tuple[str, ...] = (
    mt.OCI_INDEX,
    mt.DOCKER_MANIFEST_LIST,
    mt.OCI_MANIFEST,
    mt.DOCKER_MANIFEST,
)

# containerd limits manifests it reads to 4 MiB (the size the distribution-spec asks registries
# to accept); larger answers are refused before being read.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024
_READ_SIZE = 64 * 1024
# A request is sent at most this many times while answering 401s (first try, credentials or a
# token, a scope upgrade).
_MAX_AUTH_ATTEMPTS = 4
_API_HOSTS = {DEFAULT_REGISTRY: "registry-1.docker.io"}
_LOOPBACK_NAMES = {"localhost", "::1"}
# Content types that say nothing about which manifest a body is.
_GENERIC_TYPES = {"", mt.JSON, mt.OCTET_STREAM, "text/plain"}

UploadMethod = Literal["monolithic", "post-put", "chunked"]
RepositoryLike = ImageReference | str


# -- errors ------------------------------------------------------------------------------------


class RegistryClientError(FakeRegistryError):
    """Anything the client could not do; the message is one readable line."""


class RegistryConnectionError(RegistryClientError):
    """The registry could not be reached, or the connection broke (DNS, TCP, TLS, timeout)."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of the registry's error envelope."""

    code: str
    message: str
    detail: Any = None


class RegistryHTTPError(RegistryClientError):
    """The registry answered with an unexpected status.

    ``errors`` holds the entries of the spec's error envelope (empty when the body was not
    one); ``code``, ``message`` and ``detail`` are those of the first entry.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        errors: Sequence[ErrorDetail] = (),
        *,
        body: str = "",
        summary: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.errors = tuple(errors)
        self.body = body
        text = summary or _describe_errors(self.errors, body)
        super().__init__(f"{method} {url}: HTTP {status}" + (f": {text}" if text else ""))

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    @property
    def message(self) -> str | None:
        return self.errors[0].message if self.errors else None

    @property
    def detail(self) -> Any:
        return self.errors[0].detail if self.errors else None


class AuthenticationError(RegistryHTTPError):
    """401 after every way to authenticate was tried, or the token endpoint refused."""


class NotFoundError(RegistryHTTPError):
    """404: the repository, manifest, blob or endpoint does not exist."""


class DigestMismatchError(RegistryClientError):
    """Content that does not hash to the digest it was asked for by."""

    def __init__(self, what: str, expected: str, actual: str, *, size: int | None = None) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        self.size = size
        got = f" ({size} bytes)" if size is not None else ""
        super().__init__(
            f"digest mismatch for {what}: expected {expected}, got content hashing to {actual}{got}"
        )


class SizeMismatchError(RegistryClientError):
    """Content whose digest is right but whose length differs from the descriptor's size."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        super().__init__(f"size mismatch for {what}: expected {expected} bytes, got {actual}")


def _describe_errors(errors: Sequence[ErrorDetail], body: str) -> str:
    if errors:
        parts = []
        for error in errors:
            text = f"{error.code}: {error.message}" if error.code else error.message
            if error.detail not in (None, "", {}, []):
                detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
                text += f" ({detail})"
            parts.append(text)
        return "; ".join(parts)
    return " ".join(body.split())[:200]


def _parse_error_body(body: bytes) -> list[ErrorDetail]:
    """The error envelope of a registry, or the shapes token servers use."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(document, dict):
        return []
    entries = document.get("errors")
    if isinstance(entries, list):
        out = []
        for entry in entries:
            if isinstance(entry, dict):
                out.append(
                    ErrorDetail(
                        str(entry.get("code", "")),
                        str(entry.get("message", "")),
                        entry.get("detail"),
                    )
                )
        return out
    # Docker Hub's token server: {"details": "..."}; OAuth2: {"error", "error_description"}.
    if isinstance(document.get("details"), str):
        return [ErrorDetail("", document["details"])]
    if isinstance(document.get("error"), str):
        return [ErrorDetail(document["error"], str(document.get("error_description", "")))]
    return []


# -- what was sent -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One HTTP exchange: ``status`` is None when no answer came (connection failure)."""

    method: str
    url: str
    status: int | None

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status if self.status is not None else 'error'}"


_RECORDING: contextvars.ContextVar[list[TraceEntry] | None] = contextvars.ContextVar(
    "fakeregistry_client_recording", default=None
)


# -- authentication ----------------------------------------------------------------------------

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*(?:({_TOKEN})|\"((?:[^\"\\]|\\.)*)\")\s*")
_SCHEME = re.compile(rf"\s*({_TOKEN})")
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9._~+/-]+=*)\s*(?=,|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lowercase) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Every challenge in ``WWW-Authenticate`` header values (RFC 9110 11.6.1).

    A value may carry several challenges, and parameters may be tokens or quoted strings:

    >>> [c.scheme for c in parse_challenges(['Basic realm="r", Bearer realm="t",scope="a b"'])]
    ['basic', 'bearer']
    >>> parse_challenges(['Bearer realm="https://auth/token",error="insufficient_scope"'])[0].error
    'insufficient_scope'
    """
    found: list[Challenge] = []
    for header in headers:
        text, pos = header, 0
        while pos < len(text):
            while pos < len(text) and text[pos] in " \t,":
                pos += 1
            scheme = _SCHEME.match(text, pos)
            if scheme is None:
                break
            params: dict[str, str] = {}
            pos = scheme.end()
            while pos < len(text):
                param = _PARAM.match(text, pos)
                if param is None:
                    token68 = _TOKEN68.match(text, pos) if not params else None
                    if token68 is not None and token68.group(1):
                        params["token68"] = token68.group(1)
                        pos = token68.end()
                    break
                key = param.group(1).lower()
                value = param.group(2)
                if value is None:
                    value = re.sub(r"\\(.)", r"\1", param.group(3))
                params.setdefault(key, value)
                pos = param.end()
                if pos < len(text) and text[pos] == ",":
                    # Another parameter, or the next challenge: look past the comma.
                    after = pos + 1
                    if _PARAM.match(text, after) is not None:
                        pos = after
                        continue
                    break
                break
            found.append(Challenge(scheme.group(1).lower(), params))
    return found


@dataclass(frozen=True, slots=True)
class Scope:
    """A token scope, ``type:name:actions`` (``repository:library/debian:pull,push``)."""

    type: str
    name: str
    actions: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse one scope; the name may itself contain colons (``registry:catalog:*``).

        >>> str(Scope.parse("repository:a/b:push,pull"))
        'repository:a/b:pull,push'
        """
        kind, sep, rest = text.partition(":")
        name, sep2, actions = rest.rpartition(":")
        if not sep or not sep2 or not kind:
            raise ValueError(f"invalid scope {text!r}")
        return cls(kind, name, frozenset(a for a in actions.split(",") if a))

    @classmethod
    def repository(cls, name: str, *actions: str) -> Scope:
        return cls("repository", name, frozenset(actions))

    @property
    def key(self) -> tuple[str, str]:
        return self.type, self.name

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(sorted(self.actions))}"


def merge_scopes(scopes: Iterable[Scope]) -> tuple[Scope, ...]:
    """One scope per resource with the union of the actions, in a stable order."""
    merged: dict[tuple[str, str], set[str]] = {}
    for scope in scopes:
        merged.setdefault(scope.key, set()).update(scope.actions)
    return tuple(
        Scope(kind, name, frozenset(actions)) for (kind, name), actions in sorted(merged.items())
    )


def _parse_scopes(text: str | None) -> list[Scope]:
    out = []
    for part in (text or "").split():
        try:
            out.append(Scope.parse(part))
        except ValueError:
            continue
    return out


def _covers(granted: Sequence[Scope], wanted: Sequence[Scope]) -> bool:
    have = {scope.key: scope.actions for scope in granted}
    return all(scope.actions <= have.get(scope.key, frozenset()) for scope in wanted)


@dataclass(slots=True)
class _Token:
    value: str
    scopes: tuple[Scope, ...]
    expires_at: float


@dataclass(slots=True)
class _HostAuth:
    """What we learned about a host's authentication."""

    bearer: Challenge | None = None
    basic: bool = False
    tokens: list[_Token] = field(default_factory=list)

    def cached(self, wanted: Sequence[Scope], now: float) -> _Token | None:
        self.tokens = [t for t in self.tokens if t.expires_at > now]
        for token in reversed(self.tokens):
            if _covers(token.scopes, wanted):
                return token
        return None


# -- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostConfig:
    """How to talk to one registry host.

    - ``plain_http``: HTTP instead of HTTPS; ``None`` means "plain HTTP for loopback hosts,
      unless ``insecure`` or ``ca_file`` say that HTTPS is meant".
    - ``insecure``: HTTPS without certificate verification.
    - ``ca_file``: a PEM bundle of CAs to trust instead of the system's.
    - ``username``/``password``: sent as Basic credentials when the registry asks, and to
      the token endpoint of the Docker token flow. Without them, tokens are anonymous.
    """

    plain_http: bool | None = None
    insecure: bool = False
    ca_file: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def has_credentials(self) -> bool:
        return self.username is not None


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


@dataclass(frozen=True, slots=True)
class PingResult:
    """The answer to ``GET /v2/``."""

    url: str
    status: int
    api_version: str | None
    challenges: tuple[Challenge, ...]

    @property
    def requires_auth(self) -> bool:
        return self.status == 401


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchedManifest:
    """A manifest as the registry sent it: exact bytes, media type and verified digest."""

    reference: ImageReference
    media_type: str
    digest: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def size(self) -> int:
        return len(self.body)

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.body))

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEX_TYPES


class BlobDownload:
    """An open blob download; iterate :meth:`chunks` once to read and verify it."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        what: str,
        digest: Digest,
        expected_size: int | None,
    ) -> None:
        self._response = response
        self.what = what
        self.digest = str(digest)
        self._expected = digest
        self.expected_size = expected_size
        self.received = 0
        length = response.content_length
        self.size = expected_size if expected_size is not None else length

    async def chunks(self, chunk_size: int = _READ_SIZE) -> AsyncIterator[bytes]:
        """The blob's bytes as they arrive. After the last chunk the content is verified:
        :class:`DigestMismatchError` or :class:`SizeMismatchError` is raised instead of the
        iteration ending, so a consumer never finishes with unverified bytes."""
        hasher = self._expected.hasher()
        try:
            async for data in self._response.content.iter_chunked(chunk_size):
                hasher.update(data)
                self.received += len(data)
                yield data
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RegistryConnectionError(
                f"{self._response.method} {self._response.url}: download of {self.what} broke "
                f"after {self.received} bytes: {exc}"
            ) from exc
        actual = f"{self._expected.algorithm}:{hasher.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatchError(self.what, self.digest, actual, size=self.received)
        if self.expected_size is not None and self.received != self.expected_size:
            raise SizeMismatchError(self.what, self.expected_size, self.received)

    async def read(self) -> bytes:
        """The whole verified blob."""
        parts = [chunk async for chunk in self.chunks()]
        return b"".join(parts)


# -- the client --------------------------------------------------------------------------------


def _as_reference(value: RepositoryLike) -> ImageReference:
    if isinstance(value, ImageReference):
        return value
    try:
        return ImageReference.parse(value)
    except ImageReferenceError as exc:
        raise RegistryClientError(str(exc)) from None


def _parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except DigestError as exc:
        raise RegistryClientError(f"invalid digest {text!r}: {exc}") from None


_LINK_NEXT = re.compile(r'<([^>]*)>\s*;(?:[^,]*?)\brel="?next"?', re.IGNORECASE)


def _next_link(response: aiohttp.ClientResponse) -> str | None:
    for value in response.headers.getall("Link", ()):
        match = _LINK_NEXT.search(value)
        if match:
            return match.group(1)
    return None


class RegistryClient:
    """An asynchronous client for OCI distribution / Docker Registry v2 APIs.

    *hosts* maps a registry host (as written in references: ``ghcr.io``,
    ``127.0.0.1:5000``) to its :class:`HostConfig`; hosts not listed use *default*.
    Use it as ``async with RegistryClient(...) as client:`` or call :meth:`close`.
    """

    def __init__(
        self,
        hosts: Mapping[str, HostConfig] | None = None,
        *,
        default: HostConfig | None = None,
        user_agent: str = "fakeregistry-client/0.1",
        timeout: float = 300.0,
        connect_timeout: float = 30.0,
        trust_env: bool = False,
    ) -> None:
        self._hosts: dict[str, HostConfig] = dict(hosts or {})
        self._default = default or HostConfig()
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=timeout
        )
        self._trust_env = trust_env
        self._http: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._auth: dict[str, _HostAuth] = {}
        self._ssl: dict[str, ssl.SSLContext | bool] = {}
        self.trace: list[TraceEntry] = []

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (the client may be used again afterwards)."""
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._loop = None

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._http is not None and not self._http.closed:
            if self._loop is not loop:
                raise RuntimeError(
                    "this RegistryClient is in use by another event loop; make one client per loop"
                )
            return self._http
        self._http = aiohttp.ClientSession(
            timeout=self._timeout,
            auto_decompress=False,  # digests are of the bytes as stored
            headers={"User-Agent": self._user_agent, "Accept-Encoding": "identity"},
            trust_env=self._trust_env,
        )
        self._loop = loop
        return self._http

    # -- configuration -------------------------------------------------------------------------

    def configure(self, host: str, config: HostConfig) -> None:
        """Set how to reach *host* (replaces earlier settings and forgets its tokens)."""
        self._hosts[host] = config
        self._auth.pop(host, None)
        self._ssl.pop(host, None)

    def set_credentials(self, host: str, username: str, password: str) -> None:
        """Credentials for *host*, keeping its transport settings."""
        self.configure(host, replace(self.host_config(host), username=username, password=password))

    def host_config(self, host: str) -> HostConfig:
        """The settings used for *host*."""
        return self._hosts.get(host, self._default)

    def base_url(self, host: str) -> str:
        """``scheme://host`` of the API for a registry host (``docker.io`` is served by
        ``registry-1.docker.io``)."""
        config = self.host_config(host)
        plain = config.plain_http
        if plain is None:
            plain = is_loopback(host) and not config.insecure and config.ca_file is None
        return f"{'http' if plain else 'https'}://{_API_HOSTS.get(host, host)}"

    def _ssl_for(self, host: str) -> ssl.SSLContext | bool:
        cached = self._ssl.get(host)
        if cached is not None:
            return cached
        config = self.host_config(host)
        context: ssl.SSLContext | bool
        if config.insecure:
            context = False
        elif config.ca_file:
            try:
                context = ssl.create_default_context(cafile=config.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise RegistryClientError(f"cannot load CA file {config.ca_file}: {exc}") from None
        else:
            context = True
        self._ssl[host] = context
        return context

    @contextmanager
    def recording(self) -> Iterator[list[TraceEntry]]:
        """Collect the requests made by the current task (and tasks it starts) in a list."""
        entries: list[TraceEntry] = []
        token = _RECORDING.set(entries)
        try:
            yield entries
        finally:
            _RECORDING.reset(token)

    def _record(self, method: str, url: str, status: int | None) -> None:
        entry = TraceEntry(method, url, status)
        self.trace.append(entry)
        active = _RECORDING.get()
        if active is not None:
            active.append(entry)

    # -- HTTP core -----------------------------------------------------------------------------

    async def _raw(
        self,
        method: str,
        url: URL,
        *,
        ssl_setting: ssl.SSLContext | bool,
        headers: Mapping[str, str],
        data: bytes | None,
        allow_redirects: bool = True,
    ) -> aiohttp.ClientResponse:
        try:
            response = await self._session().request(
                method,
                url,
                headers=dict(headers),
                data=data,
                ssl=ssl_setting,
                allow_redirects=allow_redirects,
            )
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            self._record(method, str(url), None)
            reason = str(exc) or type(exc).__name__
            raise RegistryConnectionError(
                f"{method} {url}: cannot reach registry: {reason}"
            ) from exc
        for hop in response.history:
            self._record(hop.method, str(hop.url), hop.status)
        self._record(method, str(response.url), response.status)
        return response

    def _url(self, host: str, target: str) -> URL:
        if "://" in target:
            return URL(target, encoded=True)
        return URL(urljoin(self.base_url(host) + "/", target), encoded=True)

    @asynccontextmanager
    async def _request(
        self,
        method: str,
        host: str,
        target: str,
        *,
        scopes: Sequence[Scope] = (),
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        ok: Container[int] = (200,),
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send a request, authenticating as the registry asks; yield the response when its
        status is in *ok*, raise :class:`RegistryHTTPError` otherwise."""
        url = self._url(host, target)
        ssl_setting = self._ssl_for(host)
        authorization = await self._authorization(host, scopes)
        sent_headers = dict(headers or {})
        attempts = 0
        while True:
            if authorization is not None:
                sent_headers["Authorization"] = authorization
            response = await self._raw(
                method, url, ssl_setting=ssl_setting, headers=sent_headers, data=data
            )
            if response.status != 401:
                break
            body = await self._read_error_body(response)
            challenges = parse_challenges(response.headers.getall("WWW-Authenticate", ()))
            attempts += 1
            renewed = None
            if attempts < _MAX_AUTH_ATTEMPTS:
                renewed = await self._answer(host, challenges, scopes, authorization)
            if renewed is None or renewed == authorization:
                raise self._http_error(response, body, AuthenticationError)
            authorization = renewed
        try:
            if response.status not in ok:
                body = await self._read_error_body(response)
                raise self._http_error(response, body)
            yield response
        finally:
            response.release()

    async def _read_error_body(self, response: aiohttp.ClientResponse) -> bytes:
        try:
            return await response.content.read(64 * 1024)
        except (TimeoutError, aiohttp.ClientError):
            return b""
        finally:
            response.release()

    def _http_error(
        self,
        response: aiohttp.ClientResponse,
        body: bytes,
        kind: type[RegistryHTTPError] | None = None,
    ) -> RegistryHTTPError:
        if kind is None:
            kind = {401: AuthenticationError, 404: NotFoundError}.get(
                response.status, RegistryHTTPError
            )
        text = body.decode("utf-8", "replace") if body else ""
        return kind(
            response.method,
            str(response.url),
            response.status,
            _parse_error_body(body),
            body=text,
        )

    # -- authentication ------------------------------------------------------------------------

    def _host_auth(self, host: str) -> _HostAuth:
        state = self._auth.get(host)
        if state is None:
            state = self._auth[host] = _HostAuth()
        return state

    def _basic(self, host: str) -> str | None:
        config = self.host_config(host)
        if config.username is None:
            return None
        raw = f"{config.username}:{config.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    async def _authorization(self, host: str, scopes: Sequence[Scope]) -> str | None:
        """The ``Authorization`` to send before being asked: what this host wanted last time."""
        state = self._auth.get(host)
        if state is None:
            return None
        if state.basic:
            return self._basic(host)
        if state.bearer is None:
            return None
        wanted = merge_scopes(scopes)
        token = state.cached(wanted, time.monotonic())
        if token is None:
            token = await self._fetch_token(host, state.bearer, wanted)
        return f"Bearer {token.value}"

    async def _answer(
        self,
        host: str,
        challenges: Sequence[Challenge],
        scopes: Sequence[Scope],
        sent: str | None,
    ) -> str | None:
        """A new ``Authorization`` value answering a 401, or None when we have none."""
        state = self._host_auth(host)
        bearer = next((c for c in challenges if c.scheme == "bearer" and c.realm), None)
        if bearer is not None:
            state.bearer = bearer
            state.basic = False
            wanted = merge_scopes([*scopes, *_parse_scopes(bearer.scope)])
            previous = next((t for t in state.tokens if f"Bearer {t.value}" == sent), None)
            if bearer.error == "insufficient_scope" and previous is not None:
                # Upgrade: keep what the previous token was for, add what the registry asks.
                wanted = merge_scopes([*wanted, *previous.scopes])
                if set(wanted) == set(previous.scopes):
                    return None  # that scope was asked for and not granted: no use asking again
            token = await self._fetch_token(host, bearer, wanted)
            return f"Bearer {token.value}"
        if any(c.scheme == "basic" for c in challenges):
            basic = self._basic(host)
            if basic is not None:
                state.basic = True
            return basic
        return None

    async def _fetch_token(
        self, host: str, challenge: Challenge, scopes: Sequence[Scope]
    ) -> _Token:
        """The Docker token flow: ``GET realm?service=…&scope=…`` (Basic auth if configured)."""
        realm = challenge.realm or ""
        query: list[tuple[str, str]] = []
        if challenge.service:
            query.append(("service", challenge.service))
        config = self.host_config(host)
        if config.username:
            query.append(("account", config.username))
        query.extend(("scope", str(scope)) for scope in scopes)
        url = URL(realm).extend_query(query) if query else URL(realm)
        realm_host = url.host or ""
        if url.port is not None and not url.is_default_port():
            realm_host = f"{realm_host}:{url.port}"
        ssl_setting = self._ssl_for(realm_host if realm_host in self._hosts else host)
        headers: dict[str, str] = {}
        basic = self._basic(host)
        if basic is not None:
            headers["Authorization"] = basic
        response = await self._raw("GET", url, ssl_setting=ssl_setting, headers=headers, data=None)
        try:
            body = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RegistryConnectionError(f"GET {url}: token response broke: {exc}") from exc
        finally:
            response.release()
        if response.status != 200:
            error = self._http_error(response, body, AuthenticationError)
            raise AuthenticationError(
                error.method,
                error.url,
                error.status,
                error.errors,
                body=error.body,
                summary="token endpoint refused"
                + (" the credentials" if basic else " an anonymous token")
                + (f": {_describe_errors(error.errors, error.body)}" if error.body else ""),
            )
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            document = None
        value = None
        if isinstance(document, dict):
            value = document.get("token") or document.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthenticationError(
                "GET",
                str(url),
                response.status,
                body=body.decode("utf-8", "replace"),
                summary="token endpoint answered without a token or access_token",
            )
        expires_in = document.get("expires_in") if isinstance(document, dict) else None
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 60.0
        # Renew a little early; the spec's minimum lifetime is 60 seconds.
        token = _Token(value, tuple(scopes), time.monotonic() + max(lifetime - 5.0, 1.0))
        self._host_auth(host).tokens.append(token)
        return token

    # -- base ----------------------------------------------------------------------------------

    async def ping(self, registry: str, *, authenticate: bool = False) -> PingResult:
        """``GET /v2/``. A 200 or a 401 both say "a registry lives here"; with
        *authenticate* a 401 is answered first, and only 200 is success."""
        if authenticate:
            async with self._request("GET", registry, "/v2/") as response:
                return self._ping_result(response)
        response = await self._raw(
            "GET",
            self._url(registry, "/v2/"),
            ssl_setting=self._ssl_for(registry),
            headers={},
            data=None,
        )
        try:
            if response.status not in (200, 401):
                raise self._http_error(response, await self._read_error_body(response))
            result = self._ping_result(response)
            bearer = next((c for c in result.challenges if c.scheme == "bearer" and c.realm), None)
            if bearer is not None:
                self._host_auth(registry).bearer = bearer
            return result
        finally:
            response.release()

    def _ping_result(self, response: aiohttp.ClientResponse) -> PingResult:
        return PingResult(
            str(response.url),
            response.status,
            response.headers.get("Docker-Distribution-API-Version"),
            tuple(parse_challenges(response.headers.getall("WWW-Authenticate", ()))),
        )

    # -- manifests -----------------------------------------------------------------------------

    @staticmethod
    def _pull(ref: ImageReference) -> list[Scope]:
        return [Scope.repository(ref.repository, "pull")]

    @staticmethod
    def _push(ref: ImageReference) -> list[Scope]:
        return [Scope.repository(ref.repository, "pull", "push")]

    async def get_manifest(
        self,
        ref: RepositoryLike,
        *,
        accept: Sequence[str] = DEFAULT_MANIFEST_ACCEPT,
        max_size: int = MAX_MANIFEST_SIZE,
    ) -> FetchedManifest:
        """``GET /v2/<name>/manifests/<tag or digest>`` with ``Accept: <accept>``.

        The body is verified: fetched by digest it must hash to that digest, and it must hash
        to the ``Docker-Content-Digest`` the registry sends.
        """
        reference = _as_reference(ref)
        headers = {"Accept": ", ".join(accept)} if accept else {}
        async with self._request(
            "GET",
            reference.registry,
            f"/v2/{reference.repository}/manifests/{reference.reference}",
            scopes=self._pull(reference),
            headers=headers,
        ) as response:
            if response.content_length is not None and response.content_length > max_size:
                raise RegistryClientError(
                    f"manifest {reference} is {response.content_length} bytes, "
                    f"more than the {max_size} accepted"
                )
            try:
                body = await response.content.read(max_size + 1)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise RegistryConnectionError(f"GET {response.url}: {exc}") from exc
            if len(body) > max_size:
                raise RegistryClientError(
                    f"manifest {reference} is larger than the {max_size} bytes accepted"
                )
            content_type = response.headers.get("Content-Type", "")
            header_digest = response.headers.get("Docker-Content-Digest")
        media_type = _manifest_media_type(content_type, body)
        digest = _verify_manifest(reference, body, header_digest)
        return FetchedManifest(reference, media_type, digest, body)

    async def head_manifest(
        self, ref: RepositoryLike, *, accept: Sequence[str] = DEFAULT_MANIFEST_ACCEPT
    ) -> Descriptor:
        """``HEAD /v2/<name>/manifests/<reference>``: media type, digest and size."""
        reference = _as_reference(ref)
        headers = {"Accept": ", ".join(accept)} if accept else {}
        async with self._request(
            "HEAD",
            reference.registry,
            f"/v2/{reference.repository}/manifests/{reference.reference}",
            scopes=self._pull(reference),
            headers=headers,
        ) as response:
            digest = response.headers.get("Docker-Content-Digest") or reference.digest
            if not digest:
                raise RegistryClientError(
                    f"HEAD {response.url}: the registry sent no Docker-Content-Digest"
                )
            return Descriptor(
                mt.base_type(response.headers.get("Content-Type", "")),
                digest,
                response.content_length or 0,
            )

    async def put_manifest(
        self,
        ref: RepositoryLike,
        body: bytes,
        media_type: str,
        *,
        tags: Sequence[str] = (),
    ) -> str:
        """``PUT /v2/<name>/manifests/<reference>``; returns the manifest's digest. *tags*
        become ``?tag=`` parameters (OCI 1.1, only when pushing by digest)."""
        reference = _as_reference(ref)
        target = f"/v2/{reference.repository}/manifests/{reference.reference}"
        if tags:
            target += "?" + "&".join(f"tag={quote(t, safe='')}" for t in tags)
        algorithm = (
            Digest.parse(reference.digest).algorithm if reference.digest else DEFAULT_ALGORITHM
        )
        async with self._request(
            "PUT",
            reference.registry,
            target,
            scopes=self._push(reference),
            headers={"Content-Type": media_type},
            data=body,
            ok=(200, 201, 202),
        ) as response:
            return response.headers.get("Docker-Content-Digest") or str(compute(body, algorithm))

    async def delete_manifest(self, ref: RepositoryLike) -> None:
        """``DELETE /v2/<name>/manifests/<reference>``."""
        reference = _as_reference(ref)
        async with self._request(
            "DELETE",
            reference.registry,
            f"/v2/{reference.repository}/manifests/{reference.reference}",
            scopes=[Scope.repository(reference.repository, "delete")],
            ok=(200, 202, 204),
        ):
            pass

    # -- blobs ---------------------------------------------------------------------------------

    async def head_blob(self, repo: RepositoryLike, digest: str) -> Descriptor:
        """``HEAD /v2/<name>/blobs/<digest>``: raises :class:`NotFoundError` when absent."""
        reference = _as_reference(repo)
        _parse_digest(digest)
        async with self._request(
            "HEAD",
            reference.registry,
            f"/v2/{reference.repository}/blobs/{digest}",
            scopes=self._pull(reference),
        ) as response:
            return Descriptor(
                mt.base_type(response.headers.get("Content-Type", mt.OCTET_STREAM)),
                response.headers.get("Docker-Content-Digest") or digest,
                response.content_length or 0,
            )

    async def blob_exists(self, repo: RepositoryLike, digest: str) -> bool:
        """True when the repository has the blob."""
        try:
            await self.head_blob(repo, digest)
        except NotFoundError:
            return False
        return True

    @asynccontextmanager
    async def open_blob(
        self, repo: RepositoryLike, digest: str, *, size: int | None = None
    ) -> AsyncIterator[BlobDownload]:
        """``GET /v2/<name>/blobs/<digest>``, streamed: read with
        ``async for chunk in download.chunks()``; verified against *digest* (and *size*)."""
        reference = _as_reference(repo)
        parsed = _parse_digest(digest)
        async with self._request(
            "GET",
            reference.registry,
            f"/v2/{reference.repository}/blobs/{digest}",
            scopes=self._pull(reference),
        ) as response:
            yield BlobDownload(
                response,
                f"blob {digest} of {reference.registry}/{reference.repository}",
                parsed,
                size,
            )

    async def get_blob(
        self, repo: RepositoryLike, digest: str, *, size: int | None = None
    ) -> bytes:
        """The whole blob, verified against *digest* (and *size* when given)."""
        async with self.open_blob(repo, digest, size=size) as download:
            return await download.read()

    async def push_blob(
        self,
        repo: RepositoryLike,
        data: bytes,
        *,
        digest: str | None = None,
        method: UploadMethod = "post-put",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        mount_from: str | None = None,
        skip_existing: bool = False,
    ) -> str:
        """Upload *data*; returns its digest (sha256 unless *digest* names another algorithm).

        - ``monolithic``: ``POST ?digest=`` with the body (a registry that answers 202, like
          CNCF distribution, gets the body again by ``PUT``);
        - ``post-put``: ``POST`` for a session, then ``PUT <location>?digest=`` with the body;
        - ``chunked``: ``POST``, ``PATCH`` per *chunk_size* bytes with ``Content-Range``, then an
          empty ``PUT ?digest=``.

        *mount_from* tries a cross-repository mount first (same registry); *skip_existing*
        checks with ``HEAD`` first.
        """
        reference = _as_reference(repo)
        algorithm = _parse_digest(digest).algorithm if digest else DEFAULT_ALGORITHM
        actual = str(compute(data, algorithm))
        if digest is not None and digest != actual:
            raise DigestMismatchError("blob to push", digest, actual, size=len(data))
        if skip_existing and await self.blob_exists(reference, actual):
            return actual
        host = reference.registry
        base = f"/v2/{reference.repository}/blobs/uploads/"
        scopes = self._push(reference)
        location: str | None = None
        if mount_from is not None:
            mounted, location = await self._mount(reference, actual, mount_from)
            if mounted:
                return actual
        if method == "monolithic" and location is None:
            async with self._request(
                "POST",
                host,
                f"{base}?digest={quote(actual, safe='')}",
                scopes=scopes,
                headers={"Content-Type": mt.OCTET_STREAM},
                data=data,
                ok=(201, 202),
            ) as response:
                if response.status == 201:
                    return actual
                location = self._location(response)
            await self._finish_upload(host, location, actual, scopes, data)
            return actual
        if location is None:
            location = await self._start_upload(host, base, scopes)
        if method == "chunked":
            for start in range(0, len(data), max(chunk_size, 1)):
                chunk = data[start : start + chunk_size]
                async with self._request(
                    "PATCH",
                    host,
                    location,
                    scopes=scopes,
                    headers={
                        "Content-Type": mt.OCTET_STREAM,
                        "Content-Range": f"{start}-{start + len(chunk) - 1}",
                    },
                    data=chunk,
                    ok=(202, 204),
                ) as response:
                    location = self._location(response, location)
            await self._finish_upload(host, location, actual, scopes, b"")
        else:
            await self._finish_upload(host, location, actual, scopes, data)
        return actual

    async def _start_upload(self, host: str, base: str, scopes: Sequence[Scope]) -> str:
        async with self._request(
            "POST", host, base, scopes=scopes, data=b"", ok=(202,)
        ) as response:
            return self._location(response)

    async def _finish_upload(
        self, host: str, location: str, digest: str, scopes: Sequence[Scope], data: bytes
    ) -> None:
        separator = "&" if "?" in location else "?"
        target = f"{location}{separator}digest={quote(digest, safe='')}"
        async with self._request(
            "PUT",
            host,
            target,
            scopes=scopes,
            headers={"Content-Type": mt.OCTET_STREAM},
            data=data,
            ok=(201, 204),
        ):
            pass

    def _location(self, response: aiohttp.ClientResponse, previous: str | None = None) -> str:
        value = response.headers.get("Location") or previous
        if not value:
            raise RegistryClientError(
                f"{response.method} {response.url}: HTTP {response.status} without a Location"
            )
        return urljoin(str(response.url), value)

    async def _mount(
        self, reference: ImageReference, digest: str, source: str
    ) -> tuple[bool, str | None]:
        target = (
            f"/v2/{reference.repository}/blobs/uploads/"
            f"?mount={quote(digest, safe='')}&from={quote(source, safe='/')}"
        )
        scopes = [*self._push(reference), Scope.repository(source, "pull")]
        async with self._request(
            "POST", reference.registry, target, scopes=scopes, data=b"", ok=(201, 202)
        ) as response:
            if response.status == 201:
                return True, None
            return False, self._location(response)

    async def mount_blob(self, repo: RepositoryLike, digest: str, from_repo: str) -> bool:
        """Cross-repository mount (``POST ?mount=<digest>&from=<repo>``): True when mounted
        (201); False when the registry opened an upload session instead (it is cancelled)."""
        reference = _as_reference(repo)
        _parse_digest(digest)
        mounted, location = await self._mount(reference, digest, from_repo)
        if not mounted and location is not None:
            await self.cancel_upload(reference, location)
        return mounted

    async def cancel_upload(self, repo: RepositoryLike, location: str) -> None:
        """``DELETE`` an upload session (best effort: a 404 is ignored)."""
        reference = _as_reference(repo)
        try:
            async with self._request(
                "DELETE",
                reference.registry,
                location,
                scopes=self._push(reference),
                ok=(200, 202, 204),
            ):
                pass
        except NotFoundError:
            pass

    # -- listings ------------------------------------------------------------------------------

    async def _paged(self, host: str, first: str, key: str, scopes: Sequence[Scope]) -> list[str]:
        items: list[str] = []
        target: str | None = first
        seen: set[str] = set()
        while target is not None and target not in seen:
            seen.add(target)
            async with self._request("GET", host, target, scopes=scopes) as response:
                try:
                    document = json.loads(await response.read())
                except (ValueError, UnicodeDecodeError) as exc:
                    raise RegistryClientError(f"GET {response.url}: not JSON: {exc}") from None
                page = document.get(key) if isinstance(document, dict) else None
                items.extend(x for x in page or () if isinstance(x, str))
                link = _next_link(response)
                target = urljoin(str(response.url), link) if link else None
        return items

    async def list_tags(self, repo: RepositoryLike, *, page_size: int | None = None) -> list[str]:
        """Every tag of the repository, following ``Link: <…>; rel="next"`` pages."""
        reference = _as_reference(repo)
        target = f"/v2/{reference.repository}/tags/list"
        if page_size is not None:
            target += f"?n={page_size}"
        return await self._paged(reference.registry, target, "tags", self._pull(reference))

    async def catalog(self, registry: str, *, page_size: int | None = None) -> list[str]:
        """Every repository name (``GET /v2/_catalog``), following pages."""
        target = "/v2/_catalog" + (f"?n={page_size}" if page_size is not None else "")
        return await self._paged(
            registry, target, "repositories", [Scope("registry", "catalog", frozenset("*"))]
        )

    async def referrers(
        self, repo: RepositoryLike, digest: str, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """Manifests whose ``subject`` is *digest* (``GET /v2/<name>/referrers/<digest>``).

        A registry without the referrers API (404) is asked for the fallback tag
        ``<alg>-<hex>`` instead (distribution-spec "Referrers Tag Schema"). *artifact_type*
        is filtered here when the registry did not apply the filter.
        """
        reference = _as_reference(repo)
        parsed = _parse_digest(digest)
        target = f"/v2/{reference.repository}/referrers/{digest}"
        if artifact_type is not None:
            target += f"?artifactType={quote(artifact_type, safe='')}"
        filtered = False
        try:
            async with self._request(
                "GET",
                reference.registry,
                target,
                scopes=self._pull(reference),
                headers={"Accept": mt.OCI_INDEX},
            ) as response:
                body = await response.read()
                filtered = "artifactType" in response.headers.get("OCI-Filters-Applied", "")
        except NotFoundError:
            fallback = replace(reference, tag=f"{parsed.algorithm}-{parsed.encoded}", digest=None)
            try:
                body = (await self.get_manifest(fallback, accept=[mt.OCI_INDEX])).body
            except NotFoundError:
                return []
        try:
            document = json.loads(body)
            entries = document.get("manifests") or []
            descriptors = [
                Descriptor.from_json(entry, f"manifests[{i}]") for i, entry in enumerate(entries)
            ]
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError, RegistryError) as exc:
            raise RegistryClientError(f"referrers of {digest}: invalid index: {exc}") from None
        if artifact_type is not None and not filtered:
            descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
        return descriptors


def _manifest_media_type(content_type: str, body: bytes) -> str:
    """The manifest's media type: ``Content-Type``, or the body's ``mediaType`` when the
    header is generic (``application/json``) or missing."""
    media_type = mt.base_type(content_type)
    if media_type in _GENERIC_TYPES:
        try:
            declared = json.loads(body).get("mediaType")
        except (ValueError, UnicodeDecodeError, AttributeError):
            declared = None
        if isinstance(declared, str) and declared:
            return declared
    return media_type


def _verify_manifest(reference: ImageReference, body: bytes, header: str | None) -> str:
    """The manifest's digest, checked against the reference's digest and the header's."""
    expected = reference.digest
    header_digest: Digest | None = None
    if header:
        try:
            header_digest = Digest.parse(header)
        except DigestError:
            header_digest = None
    if expected is not None:
        algorithm = Digest.parse(expected).algorithm
    elif header_digest is not None:
        algorithm = header_digest.algorithm
    else:
        algorithm = DEFAULT_ALGORITHM
    actual = str(compute(body, algorithm))
    if expected is not None and actual != expected:
        raise DigestMismatchError(f"manifest {reference}", expected, actual, size=len(body))
    if header_digest is not None and header_digest.algorithm == algorithm and header != actual:
        raise DigestMismatchError(
            f"manifest {reference} (Docker-Content-Digest)",
            str(header_digest),
            actual,
            size=len(body),
        )
    return actual
