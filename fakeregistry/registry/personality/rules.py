"""The kinds of response-shaping rule a personality is made of. Plain records, no HTTP.

Each rule names the fact it rests on (``fact``, a short source id from
:data:`fakeregistry.registry.personality.facts.FACTS`; the full citation is in
``docs/personalities.md``) and says in :meth:`Rule.describe` what it makes the registry do.
:mod:`fakeregistry.registry.http.personality` applies them over the core; the auth rules are read
by :class:`fakeregistry.registry.auth.AuthConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

__all__ = [
    "AnonymousTokens",
    "BasicOnApi",
    "BasicRealmFallback",
    "BlobRedirect",
    "CatalogAbsent",
    "Challenge",
    "ContentRangeIgnored",
    "DeleteRefused",
    "ErrorRewrite",
    "ExtraHeader",
    "HostAlias",
    "LinkStyle",
    "ListingContentType",
    "ManifestTypesRefused",
    "MonolithicContentType",
    "MountFromWithoutMount",
    "MountIgnored",
    "NameDepth",
    "NeedsLibraryPrefix",
    "PageCap",
    "PageDefault",
    "PageLimitError",
    "PagingIgnored",
    "PasswordGrantRefused",
    "R",
    "RateLimit",
    "ReferrersAbsent",
    "ReferrersUnknownSubject",
    "RefreshTokens",
    "Rule",
    "ScopeActions",
    "TagOrder",
    "TokenFields",
    "UnauthenticatedHead",
    "UploadLocationRelative",
    "UploadStatus",
    "UploadUuidHeader",
]


R = TypeVar("R", bound="Rule")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One response-shaping rule and the fact it cites."""

    fact: str

    @property
    def kind(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        raise NotImplementedError


# -- names and hosts ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HostAlias(Rule):
    """Clients write ``alias`` but talk to ``api_host`` (informational: the fake answers on
    127.0.0.1 whatever a reference calls it)."""

    alias: str
    api_host: str

    def describe(self) -> str:
        return f"host {self.alias} is served by {self.api_host} (shown, not routed)"


@dataclass(frozen=True, kw_only=True)
class NeedsLibraryPrefix(Rule):
    """A one-component repository name answers 401 ``insufficient_scope`` (not 404)."""

    def describe(self) -> str:
        return "a one-component name (no library/) answers 401 insufficient_scope, not 404"


@dataclass(frozen=True, kw_only=True)
class NameDepth(Rule):
    """Names with more than ``max_components`` components answer 401 ``insufficient_scope``."""

    max_components: int

    def describe(self) -> str:
        return f"names deeper than {self.max_components} components answer 401 insufficient_scope"


# -- auth -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Challenge(Rule):
    """The ``WWW-Authenticate`` challenge: ``scheme`` (``bearer`` or ``basic``), ``service``,
    the token endpoint's path on this server (``realm_path``; for Basic, ``/`` names the
    registry's own URL), and a literal ``ping_scope`` sent on ``/v2/``."""

    scheme: Literal["bearer", "basic"]
    service: str | None
    realm_path: str = "/token"
    ping_scope: str | None = None
    basic_realm: str | None = None

    def describe(self) -> str:
        if self.scheme == "basic":
            realm = self.basic_realm or "<registry URL>/"
            service = f',service="{self.service}"' if self.service else ""
            return f'Basic realm="{realm}"{service}; no token endpoint'
        scope = f', /v2/ scope="{self.ping_scope}"' if self.ping_scope else ""
        return f'Bearer realm="<host>{self.realm_path}",service="{self.service}"{scope}'


@dataclass(frozen=True, kw_only=True)
class TokenFields(Rule):
    """Which JSON fields the token endpoint answers with, and ``expires_in`` (None: left
    out)."""

    fields: tuple[str, ...] | None
    expires_in: int | None

    def describe(self) -> str:
        expiry = f"expires_in {self.expires_in}" if self.expires_in else "no expires_in"
        if self.fields is None:
            return f"token lifetime: {expiry}"
        return f"token JSON has {' + '.join(self.fields)} only, {expiry}"


@dataclass(frozen=True, kw_only=True)
class AnonymousTokens(Rule):
    """Whether requests without credentials get (pull) tokens; ``True`` with token auth means
    even public pulls need the exchange."""

    allowed: bool

    def describe(self) -> str:
        if self.allowed:
            return "anonymous pull tokens are issued (a token exchange is still required)"
        return "no anonymous access: every request needs credentials"


@dataclass(frozen=True, kw_only=True)
class RefreshTokens(Rule):
    """ACR's OAuth2: ``POST exchange_path`` trades a credential for a ``refresh_token``;
    ``POST <token path>`` with ``grant_type=refresh_token`` answers an ``access_token``; Basic
    with ``user`` and the refresh token as password also works."""

    exchange_path: str
    user: str

    def describe(self) -> str:
        return (
            f"POST {self.exchange_path} gives a refresh_token; grant_type=refresh_token on the "
            f"token path; user {self.user} means the password is a refresh token"
        )


@dataclass(frozen=True, kw_only=True)
class PasswordGrantRefused(Rule):
    """The OAuth2 ``POST`` with ``grant_type=password`` answers 400 (clients fall back to the
    ``GET`` token request)."""

    def describe(self) -> str:
        return "OAuth2 POST grant_type=password answers 400 (clients fall back to GET)"


@dataclass(frozen=True, kw_only=True)
class ScopeActions(Rule):
    """Token requests naming another repository action answer 400."""

    allowed: tuple[str, ...]

    def describe(self) -> str:
        return f"scope actions other than {', '.join(self.allowed)} answer 400 at the token path"


@dataclass(frozen=True, kw_only=True)
class BasicOnApi(Rule):
    """Basic credentials sent straight to ``/v2/`` APIs: accepted (``accepted=True``), or
    refused with ``code``/``message``/``status``."""

    accepted: bool
    status: int = 403
    code: str = "DENIED"
    message: str = ""

    def describe(self) -> str:
        if self.accepted:
            return "Basic credentials are accepted on /v2/ beside bearer tokens"
        return f"Basic on /v2/ answers {self.status} {self.code} {self.message!r}"


@dataclass(frozen=True, kw_only=True)
class BasicRealmFallback(Rule):
    """A failing ``Authorization`` header, and ``/v2/_catalog``, are challenged with ``Basic
    realm="<realm>"`` instead of the Bearer challenge."""

    realm: str

    def describe(self) -> str:
        return f'failed credentials and _catalog get Basic realm="{self.realm}"'


@dataclass(frozen=True, kw_only=True)
class UnauthenticatedHead(Rule):
    """A ``HEAD`` without ``Authorization`` answers 401 even where anonymous pull is open."""

    def describe(self) -> str:
        return "HEAD without Authorization always answers 401"


# -- uploads --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UploadStatus(Rule):
    """A chunk ``PATCH`` answers ``status`` instead of 202."""

    status: int

    def describe(self) -> str:
        return f"PATCH of a chunk answers {self.status} (spec: 202)"


@dataclass(frozen=True, kw_only=True)
class UploadLocationRelative(Rule):
    """Upload ``Location`` headers are paths, not absolute URLs."""

    def describe(self) -> str:
        return "upload Location is a relative path"


@dataclass(frozen=True, kw_only=True)
class UploadUuidHeader(Rule):
    """The upload session id goes in ``name`` instead of ``Docker-Upload-UUID``."""

    name: str

    def describe(self) -> str:
        return f"upload id header is {self.name} (not Docker-Upload-UUID)"


@dataclass(frozen=True, kw_only=True)
class MonolithicContentType(Rule):
    """``POST …/uploads/?digest=`` needs this ``Content-Type``, else 415."""

    content_type: str

    def describe(self) -> str:
        return f"monolithic POST ?digest= without Content-Type {self.content_type} answers 415"


@dataclass(frozen=True, kw_only=True)
class ContentRangeIgnored(Rule):
    """PATCH ``Content-Range`` is not checked (appended wherever it says)."""

    def describe(self) -> str:
        return "PATCH Content-Range is ignored (no 416)"


@dataclass(frozen=True, kw_only=True)
class MountIgnored(Rule):
    """``POST ?mount=&from=`` opens an ordinary session (202) instead of mounting."""

    def describe(self) -> str:
        return "cross-repository mount is ignored: 202 upload session"


@dataclass(frozen=True, kw_only=True)
class MountFromWithoutMount(Rule):
    """``POST ?from=`` without ``mount`` answers 405."""

    def describe(self) -> str:
        return "POST ?from= without mount answers 405"


# -- manifests and deletes ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ManifestTypesRefused(Rule):
    """Manifest pushes of these media types answer ``status`` ``MANIFEST_INVALID``."""

    media_types: tuple[str, ...]
    status: int = 415

    def describe(self) -> str:
        names = ", ".join(t.rsplit(".", 2)[-2] for t in self.media_types)
        return f"Docker media types ({names}) answer {self.status} MANIFEST_INVALID"


@dataclass(frozen=True, kw_only=True)
class DeleteRefused(Rule):
    """``DELETE`` of a manifest by ``target`` answers ``status`` ``code`` ``message``.

    ``target``: ``tag`` (a tag reference), ``any`` (every manifest, tag and blob delete),
    ``tagged-digest`` (a digest some tag still points at).
    """

    target: Literal["tag", "any", "tagged-digest"]
    status: int
    code: str
    message: str

    def describe(self) -> str:
        what = {
            "tag": "DELETE by tag",
            "any": "every DELETE",
            "tagged-digest": "DELETE of a still-tagged digest",
        }
        return f"{what[self.target]} answers {self.status} {self.code}"


# -- listings -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CatalogAbsent(Rule):
    """No ``/v2/_catalog``."""

    status: int = 404

    def describe(self) -> str:
        return f"no _catalog ({self.status})"


@dataclass(frozen=True, kw_only=True)
class PageDefault(Rule):
    """tags/list without ``n`` pages by ``n``."""

    n: int

    def describe(self) -> str:
        return f"tags/list without n answers {self.n} tags and a Link"


@dataclass(frozen=True, kw_only=True)
class PageCap(Rule):
    """tags/list pages hold at most ``n`` tags; a larger ``n`` is silently clamped."""

    n: int

    def describe(self) -> str:
        return f"tags/list pages are clamped to {self.n} (also when n is absent)"


@dataclass(frozen=True, kw_only=True)
class PageLimitError(Rule):
    """tags/list with ``n`` above ``max_n`` answers ``status`` ``code`` ``message``."""

    max_n: int
    status: int
    code: str
    message: str

    def describe(self) -> str:
        return f"tags/list n > {self.max_n} answers {self.status} {self.code}"


@dataclass(frozen=True, kw_only=True)
class PagingIgnored(Rule):
    """tags/list ignores ``n`` and ``last``: every tag, no ``Link``."""

    def describe(self) -> str:
        return "tags/list ignores n and last: every tag at once, no Link"


@dataclass(frozen=True, kw_only=True)
class LinkStyle(Rule):
    """The ``Link`` of a listing page: ``absolute`` (``<scheme://host/v2/…?n=N&last=L>``) or
    ``relative-orderby`` (``</v2/…?last=L&n=N&orderby=>``)."""

    style: Literal["absolute", "relative-orderby"]

    def describe(self) -> str:
        if self.style == "absolute":
            return "Link is an absolute URL (?n=N&last=L)"
        return "Link is relative with a trailing empty orderby= (?last=L&n=N&orderby=)"


@dataclass(frozen=True, kw_only=True)
class TagOrder(Rule):
    """tags/list in push order (oldest first) instead of lexical order."""

    def describe(self) -> str:
        return "tags/list in push order, oldest first"


@dataclass(frozen=True, kw_only=True)
class ListingContentType(Rule):
    """tags/list answers with this ``Content-Type``."""

    content_type: str

    def describe(self) -> str:
        return f"tags/list Content-Type is {self.content_type!r}"


# -- referrers ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReferrersAbsent(Rule):
    """No referrers API: 404, and no ``OCI-Subject`` on manifest pushes."""

    def describe(self) -> str:
        return "no referrers API (404), no OCI-Subject header"


@dataclass(frozen=True, kw_only=True)
class ReferrersUnknownSubject(Rule):
    """Referrers of a digest the repository does not hold answer 400 ``MANIFEST_INVALID``."""

    def describe(self) -> str:
        return "referrers of an unknown subject answer 400 MANIFEST_INVALID (spec: 200, empty)"


# -- errors, headers, limits, redirects -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ErrorRewrite(Rule):
    """Errors with code ``code`` (any when None) are written with ``to_code``/``to_status``/
    ``message`` (``{name}`` is the repository) and ``content_type``; None keeps each part."""

    code: str | None
    to_code: str | None = None
    to_status: int | None = None
    message: str | None = None
    content_type: str | None = None

    def describe(self) -> str:
        parts = []
        if self.to_code or self.to_status:
            parts.append(" ".join(str(x) for x in ("as", self.to_status, self.to_code) if x))
        if self.message:
            parts.append(f"message {self.message!r}")
        if self.content_type:
            parts.append(f"Content-Type {self.content_type!r}")
        return f"error {self.code or '(any)'} is written {', '.join(parts)}"


@dataclass(frozen=True, kw_only=True)
class ExtraHeader(Rule):
    """A header on every ``/v2/`` response (``{id}`` is a fresh request id)."""

    name: str
    value: str

    def describe(self) -> str:
        return f"{self.name} header on every response"


@dataclass(frozen=True, kw_only=True)
class RateLimit(Rule):
    """Docker Hub's pull limit: manifest GET and HEAD carry ``ratelimit-limit: N;w=W``,
    ``ratelimit-remaining`` and ``docker-ratelimit-source``; only GET counts; past the limit a
    manifest GET answers 429 ``TOOMANYREQUESTS`` ``message``."""

    anonymous: int
    authenticated: int
    window: int
    message: str

    def describe(self) -> str:
        return (
            f"pull limit {self.anonymous} anonymous / {self.authenticated} signed in per "
            f"{self.window} s, ratelimit-* headers, 429 TOOMANYREQUESTS"
        )


@dataclass(frozen=True, kw_only=True)
class BlobRedirect(Rule):
    """Blob GETs answer ``status`` with a ``Location`` on the storage host: a signed URL that
    expires after ``expiry`` seconds and is refused when it carries ``Authorization``.
    ``html_body``: the redirect carries a small HTML page (``text/html``)."""

    status: int
    expiry: int
    path: str = "/registry-v2/blobs/{algorithm}/{prefix}/{hex}/data"
    html_body: bool = False

    def describe(self) -> str:
        body = " with an HTML body" if self.html_body else ""
        return f"blob GET answers {self.status}{body} to a signed storage URL valid {self.expiry} s"
