"""The layer that makes the core answer like another registry: one middleware applying a
:class:`~fakeregistry.registry.personality.Personality`'s rules around the ``/v2/`` handlers.

It runs inside the auth middleware (a request it sees has passed auth) and inside the error
middleware. Request rules refuse or rewrite what reaches the core (deletes, names, mounts,
``Content-Range``, paging parameters, media types, referrers, blob redirects); response rules
reshape what comes back (status codes, headers, ``Link``, error codes and bodies). The auth
rules are applied by :class:`~fakeregistry.registry.auth.AuthConfig` itself. Each branch names
the rule kind it applies; the rules cite their facts (``docs/personalities.md``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDict

from fakeregistry.registry.auth import Access, bearer_challenge
from fakeregistry.registry.auth.challenges import parse_authorization
from fakeregistry.registry.http import blobs, discovery, manifests, uploads
from fakeregistry.registry.http.auth import AUTH
from fakeregistry.registry.http.blobhost import BLOB_HOST
from fakeregistry.registry.http.keys import STORAGE
from fakeregistry.registry.personality import Personality
from fakeregistry.registry.personality import rules as pr
from fakeregistry.registry.storage import is_digest_reference
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["PERSONALITY_STATE", "PersonalityState", "personality_middleware"]

Respond = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class PersonalityState:
    """What a personality counts between requests (Docker Hub's pulls per source address)."""

    pulls: dict[str, list[float]] = field(default_factory=dict)

    def reset(self) -> None:
        self.pulls.clear()


PERSONALITY_STATE = web.AppKey("personality_state", PersonalityState)


def _envelope(
    status: int,
    code: str,
    message: str,
    detail: object = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> web.Response:
    entry: dict[str, object] = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    response = web.Response(
        status=status, body=json.dumps({"errors": [entry]}).encode(), headers=headers
    )
    response.headers["Content-Type"] = content_type
    return response


def _with_query(request: web.Request, **changes: str | None) -> web.Request:
    """``request`` with query values replaced (None drops one); the body is shared."""
    query = {k: v for k, v in request.query.items() if k not in changes}
    query.update({k: v for k, v in changes.items() if v is not None})
    target = request.path + (f"?{urlencode(query)}" if query else "")
    return request.clone(rel_url=target)


def _insufficient_scope(
    request: web.Request, personality: Personality, name: str, message: str
) -> web.Response:
    # Docker Hub's answer for a name it will not tell apart from a private one
    # (NeedsLibraryPrefix), also GitLab's for names too deep (NameDepth).
    challenge = personality.rule(pr.Challenge)
    service = challenge.service if challenge and challenge.service else "fakeregistry"
    realm_path = challenge.realm_path if challenge else "/token"
    header = bearer_challenge(
        f"{request.url.origin()}{realm_path}",
        service,
        [Access.repository(name, "pull")],
        "insufficient_scope",
    )
    detail = [{"Type": "repository", "Class": "", "Name": name, "Action": "pull"}]
    return _envelope(401, "UNAUTHORIZED", message, detail, {"WWW-Authenticate": header})


def _link_target(link: str) -> str:
    return link.split(">", 1)[0].lstrip("<")


class _Shaper:
    """The rules of one personality, applied per request."""

    def __init__(self, personality: Personality, app: web.Application) -> None:
        self.p = personality
        self.app = app
        self.state = PersonalityState()

    # -- request side ---------------------------------------------------------------------

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.handler
        name = request.match_info.get("name")
        try:
            refusal = self._refuse(request, route, name)
            if refusal is not None:
                return refusal
            response = await self._dispatch(request, route, name, handler)
        except RegistryError as error:
            return self._error(error)
        self._shape(request, route, response)
        return response

    def _refuse(self, request: web.Request, route: object, name: str | None) -> web.Response | None:
        p = self.p
        if name is not None:
            if p.rule(pr.NeedsLibraryPrefix) and "/" not in name:
                return _insufficient_scope(request, p, name, "authentication required")
            depth = p.rule(pr.NameDepth)
            if depth is not None and name.count("/") + 1 > depth.max_components:
                return _insufficient_scope(request, p, name, "authorization failed")
        if route is discovery.get_catalog and p.rule(pr.CatalogAbsent):
            absent = p.rule(pr.CatalogAbsent)
            assert absent is not None
            raise RegistryError(ErrorCode.NOT_FOUND, status=absent.status)
        if route is discovery.get_referrers and p.rule(pr.ReferrersAbsent):
            raise RegistryError(ErrorCode.NOT_FOUND, "no referrers API on this registry")
        if request.method == "DELETE" and route in (manifests.delete_manifest, blobs.delete_blob):
            refusal = self._delete_refusal(request, route, name or "")
            if refusal is not None:
                return refusal
        if route is uploads.start_upload:
            query = request.query
            if p.rule(pr.MountFromWithoutMount) and "from" in query and "mount" not in query:
                raise RegistryError(ErrorCode.UNSUPPORTED, "from without mount")
            wanted = p.rule(pr.MonolithicContentType)
            if wanted is not None and "digest" in query and "mount" not in query:
                given = request.headers.get("Content-Type", "").split(";")[0].strip()
                if given != wanted.content_type:
                    raise RegistryError(
                        ErrorCode.UNSUPPORTED,
                        f"monolithic upload needs Content-Type {wanted.content_type}",
                        status=415,
                    )
        if route is manifests.put_manifest:
            refused = p.rule(pr.ManifestTypesRefused)
            given = request.headers.get("Content-Type", "").split(";")[0].strip()
            if refused is not None and given in refused.media_types:
                return _envelope(
                    refused.status, "MANIFEST_INVALID", "manifest invalid", {"mediaType": given}
                )
        if route is discovery.get_tags:
            limit = p.rule(pr.PageLimitError)
            raw_n = request.query.get("n", "")
            if limit is not None and raw_n.isdigit() and int(raw_n) > limit.max_n:
                return _envelope(limit.status, limit.code, limit.message)
        return None

    def _delete_refusal(
        self, request: web.Request, route: object, name: str
    ) -> web.Response | None:
        reference = request.match_info.get("reference", "")
        by_tag = route is manifests.delete_manifest and not is_digest_reference(reference)
        for rule in self.p.all(pr.DeleteRefused):
            if rule.target == "any" or (rule.target == "tag" and by_tag):
                return _envelope(rule.status, rule.code, rule.message)
            if rule.target == "tagged-digest" and route is manifests.delete_manifest and not by_tag:
                repo = request.app[STORAGE].repositories.get(name)
                if repo is not None and reference in repo.tags.values():
                    return _envelope(rule.status, rule.code, rule.message)
        return None

    async def _dispatch(
        self, request: web.Request, route: object, name: str | None, handler: Handler
    ) -> web.StreamResponse:
        p = self.p
        if route is blobs.get_blob and request.method == "GET" and name is not None:
            redirect = p.rule(pr.BlobRedirect)
            blob_host = request.app.get(BLOB_HOST)
            if redirect is not None and blob_host is not None and blob_host.base_url:
                return self._redirect(request, name, redirect)
        if route is manifests.get_manifest and p.rule(pr.RateLimit):
            return await self._rate_limited(request, handler)
        if route is uploads.start_upload and p.rule(pr.MountIgnored) and "mount" in request.query:
            request = _with_query(request, mount=None, **{"from": None})
        if route is uploads.patch_upload and p.rule(pr.ContentRangeIgnored):
            headers = CIMultiDict(request.headers)
            headers.popall("Content-Range", None)
            request = request.clone(headers=headers)
        if route is discovery.get_referrers and p.rule(pr.ReferrersUnknownSubject):
            repo = request.app[STORAGE].repositories.get(name or "")
            if repo is not None and request.match_info["digest"] not in repo.manifests:
                raise RegistryError(ErrorCode.MANIFEST_INVALID, "unknown subject digest")
        if route is discovery.get_tags:
            return await self._tags(request, name or "", handler)
        return await handler(request)

    def _redirect(
        self, request: web.Request, name: str, rule: pr.BlobRedirect
    ) -> web.StreamResponse:
        digest = request.match_info["digest"]
        request.app[STORAGE].get_blob(name, digest)  # BLOB_UNKNOWN before any redirect
        location = request.app[BLOB_HOST].sign(name, digest, expiry=rule.expiry, template=rule.path)
        headers = {"Location": location, "Docker-Content-Digest": digest}
        if rule.html_body:
            text = (
                "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
                f"<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target "
                f'URL: <a href="{location}">{location}</a>. If not, click the link.\n'
            )
            return web.Response(
                status=rule.status, text=text, content_type="text/html", headers=headers
            )
        return web.Response(status=rule.status, headers=headers)

    async def _rate_limited(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = self.p.rule(pr.RateLimit)
        assert rule is not None
        source = request.remote or "unknown"
        limit = rule.authenticated if self._signed_in(request) else rule.anonymous
        now = time.monotonic()
        pulls = [t for t in self.state.pulls.get(source, []) if now - t < rule.window]
        headers = {"docker-ratelimit-source": source}
        if request.method == "GET":
            if len(pulls) >= limit:
                headers.update(
                    {"ratelimit-limit": f"{limit};w={rule.window}", "ratelimit-remaining": "0"}
                )
                headers["ratelimit-remaining"] = f"0;w={rule.window}"
                return _envelope(429, "TOOMANYREQUESTS", rule.message, headers=headers)
            pulls.append(now)
        self.state.pulls[source] = pulls
        response = await handler(request)
        response.headers["ratelimit-limit"] = f"{limit};w={rule.window}"
        response.headers["ratelimit-remaining"] = f"{max(limit - len(pulls), 0)};w={rule.window}"
        response.headers.update(headers)
        return response

    def _signed_in(self, request: web.Request) -> bool:
        config = request.app.get(AUTH)
        authorization = request.headers.get("Authorization")
        token = parse_authorization(authorization, "bearer")
        if config is None or config.tokens is None or token is None:
            return parse_authorization(authorization, "basic") is not None
        try:
            return config.tokens.verify(token).subject is not None
        except Exception:
            return False

    async def _tags(self, request: web.Request, name: str, handler: Handler) -> web.StreamResponse:
        p = self.p
        if p.rule(pr.PagingIgnored):
            request = _with_query(request, n=None, last=None)
        raw_n = request.query.get("n", "")
        n = int(raw_n) if raw_n.isdigit() else None
        cap = p.rule(pr.PageCap)
        default = p.rule(pr.PageDefault)
        if cap is not None:
            n = cap.n if n is None or n > cap.n or n == 0 else n
        elif default is not None and n is None:
            n = default.n
        if n is not None and str(n) != raw_n:
            request = _with_query(request, n=str(n))
        if not p.rule(pr.TagOrder):
            return await handler(request)
        # TagOrder: push order (the storage keeps tags in the order they were first set).
        request.app[STORAGE].check_name(name)
        repo = request.app[STORAGE].repositories.get(name)
        if repo is None:
            raise RegistryError(ErrorCode.NAME_UNKNOWN, f"repository {name!r} not known")
        tags = list(repo.tags)
        last = request.query.get("last")
        if last in repo.tags:
            tags = tags[tags.index(last) + 1 :]
        headers = {}
        if n is not None and len(tags) > n:
            tags = tags[:n]
            link = f"/v2/{name}/tags/list?last={quote(tags[-1], safe='')}&n={n}"
            headers["Link"] = f'<{link}>; rel="next"'
        return web.json_response({"name": name, "tags": tags}, headers=headers)

    # -- response side --------------------------------------------------------------------

    def _shape(self, request: web.Request, route: object, response: web.StreamResponse) -> None:
        p = self.p
        headers = response.headers
        if route in (uploads.start_upload, uploads.patch_upload, uploads.get_upload):
            status = p.rule(pr.UploadStatus)
            if status is not None and route is uploads.patch_upload and response.status == 202:
                response.set_status(status.status)
            uuid = p.rule(pr.UploadUuidHeader)
            if uuid is not None and "Docker-Upload-UUID" in headers:
                headers[uuid.name] = headers.pop("Docker-Upload-UUID")
            location = headers.get("Location")
            if p.rule(pr.UploadLocationRelative) and location and "://" in location:
                headers["Location"] = "/" + location.split("://", 1)[1].split("/", 1)[1]
        if route is manifests.put_manifest and p.rule(pr.ReferrersAbsent):
            headers.popall("OCI-Subject", None)
        if route in (discovery.get_tags, discovery.get_catalog):
            content_type = p.rule(pr.ListingContentType)
            if content_type is not None and route is discovery.get_tags:
                headers["Content-Type"] = content_type.content_type
            style = p.rule(pr.LinkStyle)
            link = headers.get("Link")
            if style is not None and link:
                headers["Link"] = self._restyle(request, style, _link_target(link))

    @staticmethod
    def _restyle(request: web.Request, style: pr.LinkStyle, target: str) -> str:
        path, _, query = target.partition("?")
        values = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        last, n = values.get("last", ""), values.get("n", "")
        if style.style == "absolute":
            return f'<{request.url.origin()}{path}?n={n}&last={last}>; rel="next"'
        return f'<{path}?last={last}&n={n}&orderby=>; rel="next"'

    def _error(self, error: RegistryError) -> web.Response:
        code, status, message = error.code.value, error.status, error.message
        content_type = "application/json"
        changed = False
        for rule in self.p.all(pr.ErrorRewrite):
            if rule.code is not None and rule.code != code:
                continue
            changed = True
            code = rule.to_code or code
            status = rule.to_status or status
            message = rule.message or message
            content_type = rule.content_type or content_type
        headers = dict(error.headers)
        if not changed:
            raise error
        return _envelope(status, code, message, error.detail, headers, content_type)


def personality_middleware(personality: Personality, app: web.Application) -> Middleware:
    """The middleware applying ``personality`` on ``app`` (its state under
    :data:`PERSONALITY_STATE`); it must run inside the error and auth middlewares."""
    shaper = _Shaper(personality, app)
    app[PERSONALITY_STATE] = shaper.state
    extras = personality.all(pr.ExtraHeader)
    if extras:

        async def add_extra_headers(request: web.Request, response: web.StreamResponse) -> None:
            # On every /v2/ answer, the auth middleware's 401s included (ExtraHeader).
            if request.path.startswith("/v2"):
                for extra in extras:
                    response.headers[extra.name] = extra.value.format(
                        id=secrets.token_hex(8).upper()
                    )

        app.on_response_prepare.append(add_extra_headers)

    @web.middleware
    async def shape(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v2"):
            return await handler(request)
        return await shaper(request, handler)

    return shape
