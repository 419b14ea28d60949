"""Registry personalities: one switch makes the fake answer like Docker Hub, GHCR, ECR, Quay,
ACR, Harbor, GitLab, zot or CNCF distribution 2.8/3.x.

A personality is data: a :class:`Personality` record of response-shaping rules
(:mod:`.rules`), each citing a fact (:mod:`.facts`; full citations in
``docs/personalities.md``). Nothing here speaks HTTP: ``registry.http.personality`` applies the
rules over the core, :class:`~fakeregistry.registry.auth.AuthConfig` reads the auth rules, and
``registry.http.blobhost`` is the storage host that blob redirects point at.

>>> get_personality("ecr").rule(rules.UploadStatus).status
201
>>> get_personality("spec").rules
()
"""

from __future__ import annotations

from fakeregistry.registry.personality import rules
from fakeregistry.registry.personality.facts import FACTS, Fact
from fakeregistry.registry.personality.rules import Rule
from fakeregistry.registry.personality.table import (
    NAMES,
    PERSONALITIES,
    Personality,
    get_personality,
)

__all__ = [
    "FACTS",
    "NAMES",
    "PERSONALITIES",
    "Fact",
    "Personality",
    "Rule",
    "get_personality",
    "rules",
]
