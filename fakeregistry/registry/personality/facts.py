"""The facts the rules cite: short source id -> confidence tag, date, and what it says.

Tags as in the research notes: ``S`` server source at a commit, ``D`` vendor documentation,
``C`` client code that special-cases the registry, ``I`` an issue report of observed behaviour.
The full citation (repository, file, lines, commit or URL) of each id is in
``docs/personalities.md``; a test checks that every id used by a rule is cited there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FACTS", "Fact"]


@dataclass(frozen=True, slots=True)
class Fact:
    tag: Literal["S", "D", "C", "I"]
    date: str
    says: str


FACTS: dict[str, Fact] = {
    # Docker Hub
    "containerd-resolver": Fact("C", "2026-08-22", "docker.io is served by registry-1.docker.io"),
    "rules_docker#31": Fact(
        "I", "2017", "a name without library/ answers 401 insufficient_scope, not 404"
    ),
    "renovate-common": Fact(
        "C", "2026-08-22", "Docker Hub's and ECR's WWW-Authenticate challenges, verbatim"
    ),
    "hub-token-capture": Fact(
        "I", "2022", "Hub's token JSON has token and access_token, expires_in 300"
    ),
    "hub-pulls": Fact(
        "D", "2025-03-27", "ratelimit-limit/-remaining/docker-ratelimit-source; GET counts"
    ),
    "kogito#2854": Fact("I", "2023", "the 429 TOOMANYREQUESTS body of the pull limit"),
    "hub-openapi": Fact(
        "D",
        "2025-06-25",
        "blob GET may 307 to a CDN; DELETE by digest only (405 by tag, 403 still referenced)",
    ),
    "regctl-catalog": Fact("C", "2026-07-01", "Docker Hub does not support _catalog"),
    "roadmap#724": Fact("I", "2024-09-30", "no referrers API on Docker Hub (still open)"),
    # GHCR
    "cosign#3434": Fact(
        "I",
        "2023-12",
        "GHCR's /v2/ challenge with placeholder scope, X-Github-Request-Id, DELETE 405",
    ),
    "drydock#87": Fact("I", "2026-02", "GHCR needs a token exchange even for public images"),
    "argocd-iu#303": Fact(
        "I", "2021", "Basic straight on GHCR's /v2/ answers DENIED invalid token"
    ),
    "ghcr-delete": Fact("I", "2026-08", "GHCR rejects registry manifest deletion with 405"),
    "smg#2348": Fact("I", "2026-08-28", "GHCR tags/list without n answers 100 tags and a Link"),
    "renovate-index": Fact("C", "2026-08-22", "GHCR and quay.io list tags oldest to newest"),
    "ghcr-cleanup#13": Fact("I", "2024-05", "GHCR answers 404 on the referrers API"),
    "oras-go#621": Fact("I", "2023-10", "GHCR has no _catalog"),
    # ECR
    "regclient-blob": Fact("C", "2026-07-01", "ECR answers a chunk PATCH with 201"),
    "renovate-ecr": Fact("C", "2026-08-22", "ECR tags/list n > 1000 answers 405 with its body"),
    "ecr-blob-mounting": Fact(
        "D", "2026-01-20", "ECR mounts only when the BLOB_MOUNTING setting is enabled (opt in)"
    ),
    "ecr-oci11": Fact("D", "2024-06-27", "ECR supports OCI 1.1 with the referrers API"),
    # Quay
    "quay-v2auth": Fact(
        "S", "2026-08-21", "token JSON is {token} only; scope actions push|pull|* else 400"
    ),
    "quay-challenge": Fact("C", "2026-08-21", 'Bearer realm="https://quay.io/v2/auth"'),
    "quay-tags": Fact("S", "2026-08-21", "tags/list pages of 100 (n clamped), absolute Link"),
    "quay-referrers": Fact("S", "2026-08-21", "referrers of an unknown subject: 400"),
    "registry-proxy#26": Fact("I", "2020", "quay.io blob GET 302 with an HTML body to CloudFront"),
    # ACR
    "acr-aad-oauth": Fact(
        "D",
        "2026",
        "ACR /oauth2/exchange and /oauth2/token, access_token only, null-GUID user, "
        "Basic accepted, relative Link with orderby=",
    ),
    "containerd-authorizer": Fact(
        "C", "2022-01-27", "ACR answers the OAuth2 password POST with 400"
    ),
    "acr-data-endpoints": Fact("D", "2026", "ACR blob pulls 307 to a data endpoint, 20 minutes"),
    "fluxcd-pkg#328": Fact("I", "2022", "ACR does not support tag deletion; digest works"),
    "acr-skus": Fact("D", "2026", "anonymous pull is an opt-in feature of Standard and Premium"),
    # Harbor
    "harbor-v2auth": Fact(
        "S",
        "2026-08-21",
        "Bearer /service/token harbor-registry; Basic realm=harbor on failure and _catalog; "
        "HEAD without Authorization 401",
    ),
    "harbor-token-expiry": Fact("S", "2026-08-21", "tokens last 30 minutes"),
    "harbor-manifest-delete": Fact("S", "2026-08-21", "DELETE by tag answers 400 UNSUPPORTED"),
    "harbor-errors": Fact(
        "S",
        "2026-08-21",
        "NOT_FOUND for unknown manifests/repos; UNSUPPORTED is 400; charset=utf-8 errors",
    ),
    # GitLab
    "gitlab-jwt-auth": Fact(
        "C", "2026-08-24", 'Bearer realm="https://gitlab.com/jwt/auth",service="container_registry"'
    ),
    "gitlab#438563": Fact(
        "I", "2024", "names deeper than the project path + 2 fail with insufficient_scope"
    ),
    # zot
    "zot-routes": Fact(
        "S",
        "2026-08-21",
        "Docker types 415, monolithic POST needs octet-stream, ?from without mount 405, "
        "Blob-Upload-UUID, relative Location",
    ),
    # distribution
    "dist-2.8.3": Fact(
        "S",
        "2023-10-02",
        "tags/list ignores n/last; charset=utf-8; Content-Range ignored; deletes off; no referrers",
    ),
    "dist-3.x": Fact("S", "2026-05-01", "deletes off by default (405); no referrers (404)"),
}
