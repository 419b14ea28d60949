"""What a push or an inspect reports when it cannot be done: one root, :class:`ManifestToolError`
(under :class:`~fakeregistry.rules.errors.FakeRegistryError`), and a class per kind of problem."""

from __future__ import annotations

from fakeregistry.rules.errors import FakeRegistryError


class ManifestToolError(FakeRegistryError):
    """A push or inspect that cannot be done; the message is one readable line that names
    the member (``spec.yaml:12: manifests[2] …``) and says why."""


class SpecError(ManifestToolError):
    """The spec (YAML file or command-line arguments) is malformed or has unknown keys."""


class PlatformRuleError(ManifestToolError):
    """A member's platform is not a valid os/arch[/variant] combination."""


class DuplicatePlatformError(ManifestToolError):
    """Two entries of the list would have the same platform."""


class MemberError(ManifestToolError):
    """A member is missing, on another registry host, or not something a list can hold."""
