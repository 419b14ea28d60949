"""Resource scopes of the Docker token flow: ``type:name:actions``.

The grammar is distribution's (``docs/spec/auth/scope.md``, "Resource Scope Grammar")::

    scope           := resourcescope [ ' ' resourcescope ]*
    resourcescope   := resourcetype ":" resourcename ":" action [ ',' action ]*
    resourcetype    := resourcetypevalue [ '(' resourcetypevalue ')' ]
    resourcename    := [ hostname '/' ] component [ '/' component ]*
    action          := /[a-z]*/

A name may itself hold a colon (``localhost:5000/app``), so the type ends at the first colon
and the actions start after the last one. A token grants scopes; ``*`` among a granted
resource's actions stands for every action (distribution's ``accessSet.contains``).

Both sides use this type: the client to ask for tokens (:mod:`fakeregistry.client.tokens`)
and the registry to decide what a request needs. Pure, standard library only.

>>> scope = Scope.parse("repository:localhost:5000/team/app:push,pull")
>>> scope.name, scope.actions, str(scope)
('localhost:5000/team/app', ('pull', 'push'), 'repository:localhost:5000/team/app:pull,push')
>>> [str(s) for s in merge_scopes(parse_scopes("repository:a:pull repository:a:push"))]
['repository:a:pull,push']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "ANY",
    "DELETE",
    "PULL",
    "PUSH",
    "Scope",
    "ScopeError",
    "covers",
    "merge_scopes",
    "parse_scopes",
]

PULL, PUSH, DELETE = "pull", "push", "delete"
# In a granted scope, "*" stands for every action on the resource.
ANY = "*"

S = TypeVar("S", bound="Scope")


class ScopeError(FakeRegistryError, ValueError):
    """Text that is not a ``type:name:actions`` scope."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Actions on one resource: ``Scope("repository", "team/app", ("pull", "push"))``.

    ``actions`` are kept without repeats in the order :meth:`action_key` gives (by name;
    a subclass may order them otherwise), so two scopes naming the same actions in any order
    are equal, hash alike and print alike. Any iterable of actions is accepted.
    """

    type: str
    name: str
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", self.ordered(self.actions))

    @staticmethod
    def action_key(action: str) -> tuple[int, str]:
        """The order in which actions are written: by name, as containerd writes them."""
        return 0, action

    @classmethod
    def ordered(cls, actions: Iterable[str]) -> tuple[str, ...]:
        """*actions* without repeats or empty names, in this type's order."""
        return tuple(sorted({action for action in actions if action}, key=cls.action_key))

    @classmethod
    def parse(cls, text: str) -> Self:
        """One ``type:name:actions`` scope; raises :class:`ScopeError` when *text* is not one.

        >>> Scope.parse("registry:catalog:*")
        Scope(type='registry', name='catalog', actions=('*',))
        >>> Scope.parse("repository:app")
        Traceback (most recent call last):
        ...
        fakeregistry.rules.scope.ScopeError: invalid scope 'repository:app'
        """
        kind, sep, rest = text.partition(":")
        name, sep2, actions = rest.rpartition(":")
        if not sep or not sep2 or not kind:
            raise ScopeError(f"invalid scope {text!r}")
        return cls(kind, name, tuple(actions.split(",")))

    @classmethod
    def repository(cls, name: str, *actions: str) -> Self:
        """``Scope.repository("team/app", "pull")``."""
        return cls("repository", name, actions)

    @property
    def resource(self) -> tuple[str, str]:
        """``(type, name)``: what the actions are on."""
        return self.type, self.name

    @property
    def key(self) -> tuple[str, str]:
        """The same as :attr:`resource` (the client's older name)."""
        return self.type, self.name

    def as_claim(self) -> dict[str, Any]:
        """The entry of a token's ``access`` claim (distribution ``docs/spec/auth/jwt.md``)."""
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scopes(values: str | Iterable[str]) -> list[Scope]:
    """Every well-formed scope in a space-joined value (a challenge's ``scope``), or in
    several (repeated ``scope`` query parameters), in order; malformed ones are skipped.

    >>> [str(s) for s in parse_scopes(["repository:a:pull bad", "registry:catalog:*"])]
    ['repository:a:pull', 'registry:catalog:*']
    """
    texts = [values] if isinstance(values, str) else values
    found: list[Scope] = []
    for value in texts:
        for text in value.split():
            try:
                found.append(Scope.parse(text))
            except ScopeError:
                continue
    return found


def merge_scopes(scopes: Iterable[S]) -> tuple[S, ...]:
    """One scope per resource with the union of its actions, ordered by resource (the
    class of a resource's first scope is kept).

    >>> [str(s) for s in merge_scopes([Scope.repository("b", "pull"),
    ...                                Scope.repository("a", "push"),
    ...                                Scope.repository("a", "pull")])]
    ['repository:a:pull,push', 'repository:b:pull']
    """
    first: dict[tuple[str, str], S] = {}
    actions: dict[tuple[str, str], set[str]] = {}
    for scope in scopes:
        first.setdefault(scope.resource, scope)
        actions.setdefault(scope.resource, set()).update(scope.actions)
    return tuple(
        type(first[resource])(resource[0], resource[1], tuple(actions[resource]))
        for resource in sorted(first)
    )


def covers(granted: Iterable[Scope], wanted: Iterable[Scope], *, wildcard: bool = False) -> bool:
    """True when *granted* holds every action of every *wanted* scope on its resource.

    With *wildcard*, ``*`` among a resource's granted actions stands for all of them (how a
    registry reads a token); without it ``*`` is one action like any other (how a client
    reads the scopes it asked for, which are not necessarily the ones it was given).

    >>> held = [Scope.repository("a", "pull", "push"), Scope.repository("b", "*")]
    >>> covers(held, [Scope.repository("a", "pull")]), covers(held, [Scope.repository("b", "pull")])
    (True, False)
    >>> covers(held, [Scope.repository("b", "pull")], wildcard=True)
    True
    """
    held: dict[tuple[str, str], set[str]] = {}
    for scope in granted:
        held.setdefault(scope.resource, set()).update(scope.actions)
    for scope in wanted:
        have = held.get(scope.resource, set())
        if wildcard and ANY in have:
            continue
        if not set(scope.actions) <= have:
            return False
    return True
