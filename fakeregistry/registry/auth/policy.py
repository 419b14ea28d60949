"""What a request needs and what the rules grant: scopes (:class:`Access`), the access a
request method asks for (:func:`required_access`), and the rules and anonymous pull of an
:class:`AccessPolicy`.

Access is named as the token specification names it, a resource type, a name and actions,
written as a scope: ``repository:team/app:pull,push`` or ``registry:catalog:*``. What a request
needs is what distribution asks (``registry/handlers/app.go``): GET and HEAD need ``pull``;
POST, PUT and PATCH need ``pull`` and ``push``; DELETE needs ``delete``; a mount's ``from``
needs ``pull`` on the source; ``/v2/_catalog`` needs ``registry:catalog:*``; ``/v2/`` needs only
a valid identity.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from fakeregistry.rules.reference import is_valid_repository
from fakeregistry.rules.scope import ANY, DELETE, PULL, PUSH, Scope, merge_scopes

# The actions a repository scope may name; "*" in a scope or a rule stands for all of them.
ACTIONS: tuple[str, ...] = (PULL, PUSH, DELETE)
_ORDER = {PULL: 0, PUSH: 1, DELETE: 2, ANY: 3}


@dataclass(frozen=True, slots=True)
class Access(Scope):
    """A scope as the registry writes it: ``Access("repository", "team/app", ("pull", "push"))``.

    The one scope type of :mod:`fakeregistry.rules.scope`, with the actions in distribution's
    order (pull, push, delete, then ``*``) rather than by name, and ``scope`` spelling it as the
    token specification does: ``repository:team/app:pull,push``.
    """

    @staticmethod
    def action_key(action: str) -> tuple[int, str]:
        return _ORDER.get(action, 9), action

    @property
    def scope(self) -> str:
        return str(self)


# distribution: the catalog is the resource "registry:catalog" with the action "*".
CATALOG = Access("registry", "catalog", (ANY,))


def is_scoped_name(name: str) -> bool:
    """True for a repository name that access can be granted on.

    Any name the registry accepts in ``sparse`` validation, except what could escape or widen
    a scope: ``.`` and ``..`` segments, ``*``, ``:``, ``,``, quotes, backslashes and non-ASCII.

    >>> is_scoped_name("team/app"), is_scoped_name("team/../admin"), is_scoped_name("team/*")
    (True, False, False)
    """
    if not is_valid_repository(name, strict=False):
        return False
    if any(not 33 <= ord(char) < 127 or char in '*:,"\\' for char in name):
        return False
    return all(part not in (".", "..") for part in name.split("/"))


def parse_scope(text: str) -> Access | None:
    """One scope (``type:name:actions``) as the access it asks for, or None when it asks for
    nothing that can be granted.

    Unknown actions are dropped and ``*`` stands for pull, push and delete. Scopes with more or
    fewer than three parts, unknown resource types, resource classes (``repository(plugin)``)
    and names :func:`is_scoped_name` refuses give None.

    >>> parse_scope("repository:team/app:push,pull").scope
    'repository:team/app:pull,push'
    >>> parse_scope("repository:a/../b:push") is None, parse_scope("repository:a:b:pull") is None
    (True, True)
    """
    parts = text.split(":")
    if len(parts) != 3:
        return None
    kind, name, actions_text = parts
    actions = set(actions_text.split(","))
    if kind == "registry":
        return CATALOG if name == "catalog" and ANY in actions else None
    if kind != "repository" or not is_scoped_name(name):
        return None
    if ANY in actions:
        actions.update(ACTIONS)
    known = Access.ordered(action for action in actions if action in ACTIONS)
    return Access("repository", name, known) if known else None


def parse_scopes(values: Iterable[str]) -> list[Access]:
    """Scopes given as repeated parameters, each possibly space-joined, merged per resource
    (``["repository:a:pull", "repository:a:push repository:b:pull"]`` asks for pull and push
    on ``a`` and pull on ``b``), in the order first asked, which a token's ``access`` claim
    keeps. Scopes that ask for nothing grantable are left out."""
    parsed = (parse_scope(text) for value in values for text in value.split())
    asked = [access for access in parsed if access is not None]
    merged = {access.resource: access for access in merge_scopes(asked)}
    return [merged[resource] for resource in dict.fromkeys(a.resource for a in asked)]


def required_access(
    method: str, repository: str | None, *, catalog: bool = False, mount_from: str | None = None
) -> list[Access]:
    """What a request needs (distribution ``registry/handlers/app.go``, ``authorized``).

    >>> [a.scope for a in required_access("POST", "b", mount_from="a")]
    ['repository:b:pull,push', 'repository:a:pull']
    >>> required_access("GET", None)
    []
    """
    if repository is None:
        return [CATALOG] if catalog else []
    needed = [_method_access(method, repository)]
    if mount_from:
        needed.append(Access.repository(mount_from, PULL))
    return [access for access in needed if access.actions]


def _method_access(method: str, repository: str) -> Access:
    if method in ("GET", "HEAD"):
        return Access.repository(repository, PULL)
    if method in ("POST", "PUT", "PATCH"):
        return Access.repository(repository, PULL, PUSH)
    if method == "DELETE":
        return Access.repository(repository, DELETE)
    # Other methods change nothing (the router answers 405); like distribution, they need only
    # a valid identity.
    return Access.repository(repository)


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    # "*" matches any characters, "/" included: "team/*" covers team/app and team/app/sub.
    bare = pattern.replace(ANY, "a")
    if pattern != ANY and not is_scoped_name(bare):
        raise ValueError(f"invalid repository pattern {pattern!r}")
    return re.compile(
        "".join(".*" if part == ANY else re.escape(part) for part in re.split(r"(\*)", pattern))
        + r"\Z"
    )


def _strings(value: str | Collection[str], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{what} must be strings, got {value!r}")
    return items


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Grants ``actions`` on the repositories matching ``repositories``, and the catalog when
    ``catalog``, to ``user``: a user name, or ``"*"`` for every signed-in user.

    Patterns are repository names where ``*`` matches any characters, ``/`` included
    (``team/*`` covers ``team/app`` and ``team/app/cache``; ``*`` covers everything). Actions
    are ``pull``, ``push`` and ``delete``; ``*`` means all three.

    >>> AccessRule("alice", "team/*", ["pull"]).actions_on("alice", "team/app")
    frozenset({'pull'})
    """

    user: str = ANY
    repositories: str | Collection[str] = (ANY,)
    actions: str | Collection[str] = ACTIONS
    catalog: bool = False
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.user, str) or not self.user:
            raise ValueError(f"a rule needs a user name or '*', got {self.user!r}")
        repositories = _strings(self.repositories, "repositories")
        actions = set(_strings(self.actions, "actions"))
        unknown = actions - {*ACTIONS, ANY}
        if unknown:
            raise ValueError(f"unknown actions {sorted(unknown)}; use pull, push, delete or *")
        if ANY in actions:
            actions = set(ACTIONS)
        object.__setattr__(self, "repositories", repositories)
        object.__setattr__(self, "actions", frozenset(actions))
        object.__setattr__(self, "_patterns", tuple(_compile_pattern(p) for p in repositories))

    def applies_to(self, user: str) -> bool:
        return self.user in (ANY, user)

    def matches(self, repository: str) -> bool:
        return any(pattern.match(repository) for pattern in self._patterns)

    def actions_on(self, user: str, repository: str) -> frozenset[str]:
        """The actions this rule grants ``user`` on ``repository`` (a scoped name)."""
        if self.applies_to(user) and self.matches(repository):
            return frozenset(self.actions)
        return frozenset()


_RULE_KEYS = {"user", "repositories", "repository", "actions", "catalog"}
_POLICY_KEYS = {"anonymous_pull", "rules"}


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Who may do what. Without arguments: every signed-in user may pull, push and delete
    everywhere and list the catalog; anonymous users may do nothing.

    ``anonymous_pull`` opens pull to requests without credentials: ``True`` everywhere, or a
    list of repository patterns. Signed-in users may always do what anonymous users may. Rules
    only grant; whatever no rule grants is refused.

    A file (YAML or JSON) says the same::

        anonymous_pull: ["public/*"]    # or true / false
        rules:
          - user: alice                 # a user name, or "*" for every signed-in user
            repositories: ["team/*"]    # or `repository: team/*`
            actions: [pull, push]       # pull, push, delete or "*"
          - user: admin
            actions: ["*"]
            catalog: true               # registry:catalog:*
    """

    rules: tuple[AccessRule, ...] = (AccessRule(catalog=True),)
    anonymous_pull: bool | str | Collection[str] = False
    _anonymous: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        value = self.anonymous_pull
        if isinstance(value, bool):
            patterns: tuple[str, ...] = (ANY,) if value else ()
        else:
            patterns = _strings(value, "anonymous_pull patterns")
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "anonymous_pull", patterns)
        object.__setattr__(self, "_anonymous", tuple(_compile_pattern(p) for p in patterns))

    @property
    def allows_anonymous(self) -> bool:
        """True when anonymous users may pull something."""
        return bool(self._anonymous)

    def with_anonymous_pull(self, patterns: bool | str | Collection[str] = True) -> AccessPolicy:
        """This policy with anonymous pull opened (or closed, with ``False``)."""
        return replace(self, anonymous_pull=patterns)

    def actions_on(self, user: str | None, repository: str) -> frozenset[str]:
        """The actions ``user`` (None: anonymous) may take on ``repository``."""
        if not is_scoped_name(repository):
            return frozenset()
        granted: set[str] = set()
        if any(pattern.match(repository) for pattern in self._anonymous):
            granted.add(PULL)
        if user is not None:
            for rule in self.rules:
                granted |= rule.actions_on(user, repository)
        return frozenset(granted)

    def may_list_catalog(self, user: str | None) -> bool:
        return user is not None and any(r.catalog and r.applies_to(user) for r in self.rules)

    def grant(self, user: str | None, requested: Access) -> Access | None:
        """The part of ``requested`` that ``user`` may have, or None when nothing."""
        if requested.type == CATALOG.type and requested.name == CATALOG.name:
            return CATALOG if ANY in requested.actions and self.may_list_catalog(user) else None
        if requested.type != "repository":
            return None
        allowed = self.actions_on(user, requested.name)
        actions = Access.ordered(action for action in requested.actions if action in allowed)
        return Access(requested.type, requested.name, actions) if actions else None

    def permits(self, user: str | None, access: Access) -> bool:
        """True when ``user`` may have all of ``access``."""
        granted = self.grant(user, access)
        return granted is not None and set(access.actions) <= set(granted.actions)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessPolicy:
        """A policy from parsed YAML or JSON (see the class documentation)."""
        if not isinstance(data, Mapping):
            raise ValueError("an access file holds a mapping with 'rules' and 'anonymous_pull'")
        unknown = set(data) - _POLICY_KEYS
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; expected {sorted(_POLICY_KEYS)}")
        rules_data = data.get("rules", [])
        if not isinstance(rules_data, list):
            raise ValueError("'rules' must be a list")
        rules = tuple(_rule_from_dict(item) for item in rules_data)
        anonymous = data.get("anonymous_pull", False)
        if not isinstance(anonymous, bool | str | list):
            raise ValueError("'anonymous_pull' must be true, false or a list of patterns")
        return cls(rules=rules, anonymous_pull=anonymous)

    @classmethod
    def load(cls, path: str | Path) -> AccessPolicy:
        """A policy from a YAML or JSON file."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: {exc}") from None
        try:
            return cls.from_dict(data if data is not None else {})
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _rule_from_dict(item: Any) -> AccessRule:
    if not isinstance(item, Mapping):
        raise ValueError(f"a rule is a mapping, got {item!r}")
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise ValueError(f"unknown rule keys {sorted(unknown)}; expected {sorted(_RULE_KEYS)}")
    if "repository" in item and "repositories" in item:
        raise ValueError("give 'repository' or 'repositories', not both")
    repositories = item.get("repositories", item.get("repository", ANY))
    catalog = item.get("catalog", False)
    if not isinstance(catalog, bool):
        raise ValueError("'catalog' must be true or false")
    user = item.get("user", ANY)
    if not isinstance(user, str):
        raise ValueError(f"'user' must be a string, got {user!r}")
    actions = item.get("actions", [] if catalog else ACTIONS)
    return AccessRule(user=user, repositories=repositories, actions=actions, catalog=catalog)
