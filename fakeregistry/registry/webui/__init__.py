"""The web page: what the registry holds, and each tag's platforms, for a person in a browser.

- ``GET /`` lists every repository and, per tag, its digest, type (image, Docker manifest list,
  OCI index, artifact), size, referrers and platforms: every entry of an index or list (with
  ``os.version`` and ``os.features``; attestation entries and entries without a platform are
  marked), or for an image the platform its config blob names.
- ``GET /ui/<repository>`` shows one repository, its untagged manifests included.
- ``GET /ui/<repository>/-/manifest/<ref>``, ``/-/raw/<ref>`` and ``/-/engines/<ref>?host=``
  (``&format=json``): one manifest in full, its bytes, and what each engine would pull on a
  host (:mod:`~fakeregistry.registry.webui.pages` lists the routes).

Turn it on with ``create_app(..., web_ui=True)`` or :func:`add_web_ui` (``fakeregistry serve``
does, unless ``--no-web-ui``). It adds only these routes; ``/v2/`` is untouched.

With auth on, the page asks what the API would: ``/`` needs ``registry:catalog:*`` and
``pull`` on every repository it shows (the catalog alone names repositories; their tags and
digests are what ``pull`` guards), ``/ui/<repository>`` needs ``pull`` on that repository. The
answers are the API's (401 with its challenge, 403 ``DENIED``); a browser asks for the user name
and password of a ``basic`` registry, while a ``token`` registry wants ``Authorization: Bearer``.

Every value from the registry is escaped (Jinja2 autoescape) and the page runs no script (its
``Content-Security-Policy`` forbids any). Odd content never breaks the page: a config blob that
is missing, too large, not JSON or without a platform is named as such on its row.

:mod:`~fakeregistry.registry.webui.view` builds what the lists show from storage (no HTTP),
:mod:`~fakeregistry.registry.webui.detail` one manifest (with
:mod:`~fakeregistry.registry.webui.signatures`), :mod:`~fakeregistry.registry.webui.engines`
the engine view and :mod:`~fakeregistry.registry.webui.search` the front page's filter;
:mod:`~fakeregistry.registry.webui.pages` renders the templates in ``templates/`` and serves
them.
"""

from __future__ import annotations

from fakeregistry.registry.webui.pages import (
    add_web_ui,
    get_index_page,
    get_repository_page,
    human_size,
    repository_path,
)
from fakeregistry.registry.webui.view import (
    ATTESTATION_TYPE,
    CONFIG_READ_LIMIT,
    REFERENCE_DIGEST,
    REFERENCE_TYPE,
    EntryView,
    ErrorHook,
    ManifestView,
    Note,
    PlatformView,
    RepositoryView,
    describe_repository,
    short_digest,
)

__all__ = [
    "ATTESTATION_TYPE",
    "CONFIG_READ_LIMIT",
    "REFERENCE_DIGEST",
    "REFERENCE_TYPE",
    "EntryView",
    "ErrorHook",
    "ManifestView",
    "Note",
    "PlatformView",
    "RepositoryView",
    "add_web_ui",
    "describe_repository",
    "get_index_page",
    "get_repository_page",
    "human_size",
    "repository_path",
    "short_digest",
]
