"""Auth on the wire: the middleware that checks every ``/v2/`` request, and the token endpoint.

The decisions live in :mod:`fakeregistry.registry.auth`; this module only reads what a request
carries
(method, repository, ``from``, ``Authorization``) and hands the 401 and 403 errors it raises to
the error middleware, which writes them with their ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from fakeregistry.registry.auth import AuthConfig, required_access
from fakeregistry.registry.http.bodies import read_form
from fakeregistry.registry.http.keys import USER
from fakeregistry.registry.personality import rules as pr
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["AUTH", "add_token_routes", "auth_middleware", "exchange_token", "get_token"]

AUTH = web.AppKey("auth", AuthConfig)

_CATALOG_PATH = "/v2/_catalog"


def _token_realm(request: web.Request, config: AuthConfig) -> str:
    # The token endpoint of this server as the client addressed it (scheme and Host header),
    # like distribution's auto-redirect realm.
    return config.token_realm or f"{request.url.origin()}{config.token_path}"


def auth_middleware(config: AuthConfig) -> Middleware:
    """A middleware that lets a ``/v2/`` request through only when ``config`` authorizes it.

    It must run inside the error middleware (after it in ``middlewares``). Other paths, the
    token endpoint among them, pass untouched.
    """

    @web.middleware
    async def check_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/v2") or path == config.token_path:
            return await handler(request)
        name = request.match_info.get("name")
        needed = required_access(
            request.method,
            name,
            catalog=name is None and path == _CATALOG_PATH,
            mount_from=request.query.get("from") if name is not None else None,
        )
        user = config.authorize(
            request.headers.get("Authorization"),
            needed,
            token_realm=_token_realm(request, config),
        )
        if user is not None:
            request[USER] = user
        return await handler(request)

    return check_auth


def _form_text(form: dict[str, str], key: str) -> str | None:
    value = form.get(key)
    return value if value else None


# The Docker token specification's endpoint: GET with Basic credentials and repeated or
# space-joined `scope` parameters; also the OAuth2 POST form (grant_type=password) that
# containerd and Docker try first when they hold a password.
# https://distribution.github.io/distribution/spec/auth/token/ (GET) and
# https://distribution.github.io/distribution/spec/auth/oauth/ (POST)
async def get_token(request: web.Request) -> web.Response:
    config = request.app[AUTH]
    authorization = request.headers.get("Authorization")
    refresh = config.rule(pr.RefreshTokens)
    if request.method == "POST":
        form = await read_form(request)
        grant = form.get("grant_type")
        if refresh is not None and grant == "refresh_token":
            issued = config.issue_from_refresh(form.get("refresh_token"), [form.get("scope", "")])
            return web.json_response(config.token_response(issued))
        if grant != "password" or config.rule(pr.PasswordGrantRefused) is not None:
            # No refresh tokens are issued; clients fall back to GET on this answer.
            raise RegistryError(
                ErrorCode.UNSUPPORTED, f"unsupported grant_type {grant!r}", status=400
            )
        issued = config.issue_token(
            authorization,
            [form.get("scope", "")],
            _form_text(form, "service"),
            username=_form_text(form, "username"),
            password=form.get("password", ""),
        )
        body = config.token_response(issued)
        body["scope"] = " ".join(access.scope for access in issued.access)
        return web.json_response(body)
    issued = config.issue_token(
        authorization, request.query.getall("scope", []), request.query.get("service")
    )
    return web.json_response(config.token_response(issued))


# ACR's POST /oauth2/exchange (grant_type=access_token): a refresh token for the identity of
# the access token (here one of this server's own tokens stands in for the Entra ID token).
# https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
async def exchange_token(request: web.Request) -> web.Response:
    config = request.app[AUTH]
    form = await read_form(request)
    if form.get("grant_type") != "access_token":
        raise RegistryError(ErrorCode.UNSUPPORTED, "grant_type must be access_token", status=400)
    return web.json_response(
        {"refresh_token": config.issue_refresh_token(form.get("access_token"))}
    )


def add_token_routes(app: web.Application, config: AuthConfig) -> None:
    """Serve the token endpoint of ``config`` (token mode only) on ``app``."""
    app[AUTH] = config
    if config.mode == "token":
        app.router.add_get(config.token_path, get_token)
        app.router.add_post(config.token_path, get_token)
        refresh = config.rule(pr.RefreshTokens)
        if refresh is not None:
            app.router.add_post(refresh.exchange_path, exchange_token)
