"""The personalities: one record per registry, each a tuple of cited rules.

Only facts the research notes give with a citation are here; where they mark a fact unclear the
rule is left out (``docs/personalities.md`` lists what and why). ``spec`` has no rules: the
strict core as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakeregistry.registry.personality.rules import (
    AnonymousTokens,
    BasicOnApi,
    BasicRealmFallback,
    BlobRedirect,
    CatalogAbsent,
    Challenge,
    ContentRangeIgnored,
    DeleteRefused,
    ErrorRewrite,
    ExtraHeader,
    HostAlias,
    LinkStyle,
    ListingContentType,
    ManifestTypesRefused,
    MonolithicContentType,
    MountFromWithoutMount,
    MountIgnored,
    NameDepth,
    NeedsLibraryPrefix,
    PageCap,
    PageDefault,
    PageLimitError,
    PagingIgnored,
    PasswordGrantRefused,
    R,
    RateLimit,
    ReferrersAbsent,
    ReferrersUnknownSubject,
    RefreshTokens,
    Rule,
    ScopeActions,
    TagOrder,
    TokenFields,
    UnauthenticatedHead,
    UploadLocationRelative,
    UploadStatus,
    UploadUuidHeader,
)
from fakeregistry.rules import mediatypes as mt

__all__ = ["NAMES", "PERSONALITIES", "Personality", "get_personality"]

_UNSUPPORTED = "The operation is unsupported."


@dataclass(frozen=True)
class Personality:
    """A registry to answer like: its ``name`` (the switch's value), a ``title``, the date its
    facts were gathered (``as_of``), and its rules."""

    name: str
    title: str
    as_of: str
    rules: tuple[Rule, ...] = ()

    def rule(self, kind: type[R]) -> R | None:
        """The first rule of ``kind``, if the personality has one."""
        return next((r for r in self.rules if isinstance(r, kind)), None)

    def all(self, kind: type[R]) -> tuple[R, ...]:
        return tuple(r for r in self.rules if isinstance(r, kind))

    @property
    def authenticates(self) -> bool:
        """True when the real registry always asks for credentials or tokens (auth is on by
        default under this personality)."""
        return self.rule(Challenge) is not None

    @property
    def is_spec(self) -> bool:
        return not self.rules


_DOCKERHUB = Personality(
    "dockerhub",
    "Docker Hub (registry-1.docker.io)",
    "2026-08",
    (
        HostAlias(alias="docker.io", api_host="registry-1.docker.io", fact="containerd-resolver"),
        NeedsLibraryPrefix(fact="rules_docker#31"),
        Challenge(scheme="bearer", service="registry.docker.io", fact="renovate-common"),
        TokenFields(fields=("token", "access_token"), expires_in=300, fact="hub-token-capture"),
        AnonymousTokens(allowed=True, fact="hub-pulls"),
        RateLimit(
            anonymous=100,
            authenticated=200,
            window=21600,
            message="You have reached your pull rate limit. You may increase the limit by "
            "authenticating and upgrading: https://www.docker.com/increase-rate-limit",
            fact="hub-pulls",
        ),
        BlobRedirect(status=307, expiry=1200, fact="hub-openapi"),
        ReferrersAbsent(fact="roadmap#724"),
        CatalogAbsent(fact="regctl-catalog"),
        DeleteRefused(
            target="tag",
            status=405,
            code="UNSUPPORTED",
            message="Only digest-based deletion is allowed",
            fact="hub-openapi",
        ),
        DeleteRefused(
            target="tagged-digest",
            status=403,
            code="DENIED",
            message="the manifest is still referenced by a tag",
            fact="hub-openapi",
        ),
    ),
)

_GHCR = Personality(
    "ghcr",
    "GitHub Container Registry (ghcr.io)",
    "2026-08",
    (
        Challenge(
            scheme="bearer",
            service="ghcr.io",
            ping_scope="repository:user/image:pull",
            fact="cosign#3434",
        ),
        AnonymousTokens(allowed=True, fact="drydock#87"),
        BasicOnApi(
            accepted=False, status=403, code="DENIED", message="invalid token", fact="argocd-iu#303"
        ),
        ExtraHeader(name="X-GitHub-Request-Id", value="{id}", fact="cosign#3434"),
        DeleteRefused(
            target="any", status=405, code="UNSUPPORTED", message=_UNSUPPORTED, fact="ghcr-delete"
        ),
        ReferrersAbsent(fact="ghcr-cleanup#13"),
        CatalogAbsent(fact="oras-go#621"),
        PageDefault(n=100, fact="smg#2348"),
        TagOrder(fact="renovate-index"),
    ),
)

_ECR = Personality(
    "ecr",
    "Amazon ECR (private; <account>.dkr.ecr.<region>.amazonaws.com)",
    "2026-08",
    (
        Challenge(scheme="basic", service="ecr.amazonaws.com", fact="renovate-common"),
        UploadStatus(status=201, fact="regclient-blob"),
        MountIgnored(fact="ecr-blob-mounting"),
        PageLimitError(
            max_n=1000,
            status=405,
            code="UNSUPPORTED",
            message="Invalid parameter at 'maxResults' failed to satisfy constraint: "
            "'Member must have value less than or equal to 1000'",
            fact="renovate-ecr",
        ),
    ),
)

_QUAY = Personality(
    "quay",
    "Quay (quay/quay defaults; quay.io)",
    "2026-08",
    (
        Challenge(scheme="bearer", service="quay.io", realm_path="/v2/auth", fact="quay-challenge"),
        TokenFields(fields=("token",), expires_in=None, fact="quay-v2auth"),
        ScopeActions(allowed=("push", "pull", "*"), fact="quay-v2auth"),
        PageCap(n=100, fact="quay-tags"),
        LinkStyle(style="absolute", fact="quay-tags"),
        TagOrder(fact="renovate-index"),
        ReferrersUnknownSubject(fact="quay-referrers"),
        BlobRedirect(
            status=302,
            expiry=600,
            path="/sha256/{prefix}/{hex}",
            html_body=True,
            fact="registry-proxy#26",
        ),
    ),
)

_ACR = Personality(
    "acr",
    "Azure Container Registry (<registry>.azurecr.io)",
    "2026-08",
    (
        Challenge(
            scheme="bearer",
            service="fakeregistry.azurecr.io",
            realm_path="/oauth2/token",
            fact="acr-aad-oauth",
        ),
        TokenFields(fields=("access_token",), expires_in=None, fact="acr-aad-oauth"),
        RefreshTokens(
            exchange_path="/oauth2/exchange",
            user="00000000-0000-0000-0000-000000000000",
            fact="acr-aad-oauth",
        ),
        PasswordGrantRefused(fact="containerd-authorizer"),
        BasicOnApi(accepted=True, fact="acr-aad-oauth"),
        AnonymousTokens(allowed=False, fact="acr-skus"),
        LinkStyle(style="relative-orderby", fact="acr-aad-oauth"),
        BlobRedirect(
            status=307,
            expiry=1200,
            path="/{algorithm}/{prefix}/{hex}",
            fact="acr-data-endpoints",
        ),
        DeleteRefused(
            target="tag",
            status=405,
            code="UNSUPPORTED",
            message="tag deletion is not supported",
            fact="fluxcd-pkg#328",
        ),
    ),
)

_HARBOR = Personality(
    "harbor",
    "Harbor (goharbor/harbor)",
    "2026-08",
    (
        Challenge(
            scheme="bearer",
            service="harbor-registry",
            realm_path="/service/token",
            fact="harbor-v2auth",
        ),
        TokenFields(fields=None, expires_in=1800, fact="harbor-token-expiry"),
        BasicRealmFallback(realm="harbor", fact="harbor-v2auth"),
        BasicOnApi(accepted=True, fact="harbor-v2auth"),
        UnauthenticatedHead(fact="harbor-v2auth"),
        DeleteRefused(
            target="tag",
            status=400,
            code="UNSUPPORTED",
            message="unsupported digest",
            fact="harbor-manifest-delete",
        ),
        ErrorRewrite(code="MANIFEST_UNKNOWN", to_code="NOT_FOUND", fact="harbor-errors"),
        ErrorRewrite(code="NAME_UNKNOWN", to_code="NOT_FOUND", fact="harbor-errors"),
        ErrorRewrite(code="UNSUPPORTED", to_status=400, fact="harbor-errors"),
        ErrorRewrite(
            code=None, content_type="application/json; charset=utf-8", fact="harbor-errors"
        ),
    ),
)

_GITLAB = Personality(
    "gitlab",
    "GitLab container registry (registry.gitlab.com)",
    "2026-08",
    (
        Challenge(
            scheme="bearer",
            service="container_registry",
            realm_path="/jwt/auth",
            fact="gitlab-jwt-auth",
        ),
        NameDepth(max_components=4, fact="gitlab#438563"),
    ),
)

_ZOT = Personality(
    "zot",
    "zot (project-zot/zot)",
    "2026-08",
    (
        ManifestTypesRefused(
            media_types=(mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST), fact="zot-routes"
        ),
        MonolithicContentType(content_type=mt.OCTET_STREAM, fact="zot-routes"),
        MountFromWithoutMount(fact="zot-routes"),
        UploadUuidHeader(name="Blob-Upload-UUID", fact="zot-routes"),
        UploadLocationRelative(fact="zot-routes"),
    ),
)

_DIST_28 = Personality(
    "distribution-2.8",
    "CNCF distribution v2.8.3 (default configuration)",
    "2023-10",
    (
        PagingIgnored(fact="dist-2.8.3"),
        ListingContentType(content_type="application/json; charset=utf-8", fact="dist-2.8.3"),
        ContentRangeIgnored(fact="dist-2.8.3"),
        DeleteRefused(
            target="any", status=405, code="UNSUPPORTED", message=_UNSUPPORTED, fact="dist-2.8.3"
        ),
        ReferrersAbsent(fact="dist-2.8.3"),
    ),
)

_DIST_3 = Personality(
    "distribution-3",
    "CNCF distribution v3.1.1 (default configuration)",
    "2026-08",
    (
        DeleteRefused(
            target="any", status=405, code="UNSUPPORTED", message=_UNSUPPORTED, fact="dist-3.x"
        ),
        ReferrersAbsent(fact="dist-3.x"),
    ),
)

_SPEC = Personality("spec", "the OCI distribution-spec, strictly (the core as it is)", "2026-07")

PERSONALITIES: dict[str, Personality] = {
    p.name: p
    for p in (
        _SPEC,
        _DOCKERHUB,
        _GHCR,
        _ECR,
        _QUAY,
        _ACR,
        _HARBOR,
        _GITLAB,
        _ZOT,
        _DIST_28,
        _DIST_3,
    )
}
NAMES: tuple[str, ...] = tuple(PERSONALITIES)


def get_personality(value: str | Personality) -> Personality:
    """The personality named ``value`` (a record is returned as it is); ValueError for an
    unknown name."""
    if isinstance(value, Personality):
        return value
    try:
        return PERSONALITIES[value]
    except KeyError:
        raise ValueError(
            f"unknown personality {value!r}; choose one of {', '.join(NAMES)}"
        ) from None
