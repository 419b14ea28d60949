"""Container platforms: the OCI ``platform`` object, containerd's specifier syntax and aliases.

A platform says which machine an image runs on. In an image index every manifest descriptor
may carry one::

    {"architecture": "arm", "os": "linux", "variant": "v7"}

and engines describe their host the same way. This module reads and writes that object
(:meth:`Platform.from_json`, :meth:`Platform.to_json`), parses and prints the specifier
strings users type after ``--platform`` exactly as ``github.com/containerd/platforms`` does
(:meth:`Platform.parse`, :meth:`Platform.format`, :meth:`Platform.format_all`), folds the
aliases engines accept (:meth:`Platform.normalize`), and describes the machine we run on the
way an engine would (:meth:`Platform.host`)::

    >>> p = Platform.parse("linux/arm/v7")
    >>> p.os, p.architecture, p.variant
    ('linux', 'arm', 'v7')
    >>> Platform.parse("windows(10.0.17763+win32k)/amd64").format_all()
    'windows(10.0.17763+win32k)/amd64'
    >>> Platform("Linux", "aarch64", "8").normalize().format()
    'linux/arm64'

Which descriptor an engine then *picks* is :mod:`fakeregistry.engine.selection`'s business. Rules
and upstream file names are summarised in ``docs/platform-rules.md`` part A (A1 aliases, A2
syntax, A7 host detection); the Go look-alikes it needs are in :mod:`fakeregistry.platforms.go`.
Pure, standard library only.
"""

from __future__ import annotations

import functools
import platform as _pyplatform
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fakeregistry.platforms import cpuinfo as _cpuinfo
from fakeregistry.platforms.go import GoEscapeError, go_path_join, go_path_unescape, go_quote
from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "KNOWN_ARCHITECTURES",
    "KNOWN_OS",
    "Platform",
    "PlatformError",
    "go_quote",
    "normalize_arch",
    "normalize_os",
]


class PlatformError(FakeRegistryError, ValueError):
    """A platform specifier or platform object that containerd would reject.

    The message is containerd's own, e.g. ``"linux/arm/v7/x": cannot parse platform
    specifier: invalid argument``.
    """


# containerd/platforms database.go: isKnownOS / isKnownArch ("generated from go/build/syslist.go").
# Only a one-word specifier consults them ("linux" is an OS, "arm64" an architecture).
KNOWN_OS = frozenset(
    {
        "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
        "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos",
    }
)  # fmt: skip
KNOWN_ARCHITECTURES = frozenset(
    {
        "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le",
        "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
        "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
    }
)  # fmt: skip

# containerd/platforms platforms.go. The Go sources (with anchors) are quoted verbatim in
# error messages; Python matches with fullmatch() because its "$" also matches before a
# trailing newline, which Go's does not.
_SPECIFIER_SOURCE = r"^[A-Za-z0-9_.-]+$"
_OS_SOURCE = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$"
_SPECIFIER_RE = re.compile(_SPECIFIER_SOURCE[1:-1])
_OS_RE = re.compile(_OS_SOURCE[1:-1])
_INVALID = "invalid argument"  # errdefs.ErrInvalidArgument's text, which containerd wraps

# FormatAll escapes the characters that would be read back as syntax (platforms.go
# osOptionReplacer); "%" first so nothing is escaped twice.
_OS_OPTION_ESCAPES = str.maketrans({"%": "%25", "+": "%2B", "(": "%28", ")": "%29", "/": "%2F"})


def _decode_os_option(value: str) -> str:
    # platforms.go decodeOSOption: only values containing "%" are unescaped (rc.3+).
    return go_path_unescape(value) if "%" in value else value


def _encode_os_option(value: str) -> str:
    return value.translate(_OS_OPTION_ESCAPES)


def _parse_os_features(text: str) -> tuple[str, ...]:
    """platforms.go ``parseOSFeatures``: ``a+b%2Bc`` → ``("a", "b+c")``, in written order."""
    features: list[str] = []
    for piece in text.split("+"):
        raw = piece.strip()
        if not raw:
            raise PlatformError(f"empty os feature: {_INVALID}")
        try:
            feature = _decode_os_option(raw)
        except GoEscapeError as exc:
            raise PlatformError(f"invalid os feature {go_quote(raw)}: {exc}") from None
        if feature:
            features.append(feature)
    return tuple(features)


@functools.cache
def _running_goos() -> str:
    return _cpuinfo.goos(_pyplatform.system())


def normalize_os(os: str, *, host_os: str | None = None) -> str:
    """containerd's ``normalizeOS``: lowercase, ``macos`` → ``darwin``, ``""`` → the host's OS.

    An empty OS means "the OS this engine runs on" (``runtime.GOOS``); *host_os* says which
    that is (default: the OS running this Python).

    >>> normalize_os("Windows"), normalize_os("macOS"), normalize_os("", host_os="freebsd")
    ('windows', 'darwin', 'freebsd')
    """
    if not os:
        return host_os if host_os is not None else _running_goos()
    lowered = os.lower()
    return "darwin" if lowered == "macos" else lowered


def normalize_arch(architecture: str, variant: str) -> tuple[str, str]:
    """containerd's ``normalizeArch`` (database.go): fold aliases, canonicalise the variant.

    ====================== ========= ==================================================
    architecture           becomes   variant
    ====================== ========= ==================================================
    ``i386``               ``386``   dropped
    ``x86_64`` ``x86-64``  ``amd64`` ``v1`` dropped (baseline), others kept
    ``amd64``
    ``aarch64`` ``arm64``  ``arm64`` ``8`` ``v8`` ``v8.0`` dropped; ``9`` ``9.0`` ``v9.0``
                                     → ``v9``; others kept
    ``armhf``              ``arm``   always ``v7``
    ``armel``              ``arm``   always ``v6``
    ``arm``                ``arm``   ``""`` ``7`` → ``v7``; ``5`` ``6`` ``8`` → ``v5`` …
    anything else          lowercased, variant lowercased
    ====================== ========= ==================================================

    So canonical arm always has a variant, while canonical amd64 v1 and arm64 v8 have none.

    >>> normalize_arch("x86_64", "v1"), normalize_arch("aarch64", "v8"), normalize_arch("arm", "")
    (('amd64', ''), ('arm64', ''), ('arm', 'v7'))
    """
    arch, var = architecture.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if var == "v1" else var
    if arch in ("aarch64", "arm64"):
        if var in ("8", "v8", "v8.0"):
            var = ""
        elif var in ("9", "9.0", "v9.0"):
            var = "v9"
        return "arm64", var
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if var in ("", "7"):
            var = "v7"
        elif var in ("5", "6", "8"):
            var = "v" + var
        return "arm", var
    return arch, var


def _strings(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PlatformError(f"platform field {key!r} must be an array of strings")
    return tuple(value)


def _string(value: object, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PlatformError(f"platform field {key!r} must be a string")
    return value


@dataclass(frozen=True, slots=True)
class Platform:
    """An OCI/Docker platform: ``os``/``architecture`` plus the optional qualifiers.

    Field names follow the OCI image-spec; :meth:`from_json`/:meth:`to_json` use the JSON
    keys ``os``, ``architecture``, ``variant``, ``os.version``, ``os.features`` and
    ``features`` (the last one exists only in Docker's manifest list: CPU features such as
    ``sse4``). Values are kept as written — call :meth:`normalize` for containerd's
    canonical form. ``str(p)`` is :meth:`format_all`.

    >>> Platform.from_json({"os": "windows", "architecture": "amd64",
    ...                     "os.version": "10.0.17763.5576"}).format_all()
    'windows(10.0.17763.5576)/amd64'
    """

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = field(default=())
    features: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Accept any iterable of strings but store tuples, so platforms stay hashable.
        for name in ("os_features", "features"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    def __str__(self) -> str:
        return self.format_all()

    # -- JSON -------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Platform:
        """Read a ``platform`` object of an index/manifest list descriptor or image config.

        Missing keys and JSON ``null`` read as empty (Go's zero values); unknown keys are
        ignored; a value of the wrong JSON type raises :class:`PlatformError` (Go's decoder
        fails the whole document).

        >>> Platform.from_json({"architecture": "arm64", "os": "linux", "variant": "v8"}).variant
        'v8'
        """
        if not isinstance(data, Mapping):
            raise PlatformError("platform must be a JSON object")
        return cls(
            os=_string(data.get("os"), "os"),
            architecture=_string(data.get("architecture"), "architecture"),
            variant=_string(data.get("variant"), "variant"),
            os_version=_string(data.get("os.version"), "os.version"),
            os_features=_strings(data.get("os.features"), "os.features"),
            features=_strings(data.get("features"), "features"),
        )

    def to_json(self) -> dict[str, object]:
        """The ``platform`` object, keys in the image-spec / distribution struct order.

        ``architecture`` and ``os`` are always written; the others only when set
        (``omitempty``).

        >>> Platform("linux", "arm", "v7").to_json()
        {'architecture': 'arm', 'os': 'linux', 'variant': 'v7'}
        """
        out: dict[str, object] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        if self.features:
            out["features"] = list(self.features)
        return out

    # -- specifiers -------------------------------------------------------------------------

    @classmethod
    def parse(cls, specifier: str, *, host: Platform | None = None) -> Platform:
        """Parse a containerd platform specifier (``platforms.Parse``, current containerd).

        Grammar: ``<os>[(<osversion>[+<osfeature>]*)]`` | ``<arch>`` |
        ``<os>[(…)]/<arch>[/<variant>]``.

        - ``linux/arm64`` → ``{linux, arm64}``; ``linux/arm64/v8`` keeps ``v8`` (the matchers
          normalize it away); ``linux/arm/v7`` keeps ``v7`` but ``linux/arm`` has no variant.
        - two or three parts are *not* checked against the known names (``linux/whatever``
          parses); the architecture is normalized (``linux/aarch64`` → ``linux/arm64``).
        - one part is looked up as an OS (``linux``, ``windows(10.0.17763)``), then as an
          architecture (``arm64``, ``x86_64``); the missing half comes from *host* (default:
          :meth:`host` of this machine) — the arm variant too, unless it is ``v7``.
        - ``windows(10.0.17763+win32k)``: OS version and features; ``linux(+gpu)`` features
          alone. Option text containing ``%`` is percent-decoded.

        Errors are :class:`PlatformError` with containerd's message:

        >>> Platform.parse("linux/arm/v7/x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fakeregistry.platforms.platform.PlatformError: "linux/arm/v7/x": cannot parse platform ...
        >>> Platform.parse("arm64", host=Platform("linux", "amd64")).format()
        'linux/arm64'
        """
        if "*" in specifier:
            raise PlatformError(f"{go_quote(specifier)}: wildcards not yet supported: {_INVALID}")
        parts = specifier.split("/", 3)  # strings.SplitN(specifier, "/", 4)
        os_name, os_version = "", ""
        os_features: tuple[str, ...] = ()
        for i, part in enumerate(parts):
            if i == 0:
                match = _OS_RE.fullmatch(part)
                if match is None:
                    raise PlatformError(
                        f"{go_quote(part)} is an invalid OS component of {go_quote(specifier)}: "
                        f"OSAndVersion specifier component must match {go_quote(_OS_SOURCE)}: "
                        f"{_INVALID}"
                    )
                os_name = normalize_os(match[1])
                raw_version = match[2] or ""
                try:
                    os_version = _decode_os_option(raw_version)
                except GoEscapeError as exc:
                    raise PlatformError(
                        f"{go_quote(specifier)} has an invalid OS version "
                        f"{go_quote(raw_version)}: {exc}"
                    ) from None
                if match[3]:
                    try:
                        os_features = _parse_os_features(match[3][1:])
                    except PlatformError as exc:
                        raise PlatformError(
                            f"{go_quote(specifier)} has invalid OS features: {exc}"
                        ) from None
            elif not _SPECIFIER_RE.fullmatch(part):
                raise PlatformError(
                    f"{go_quote(part)} is an invalid component of {go_quote(specifier)}: "
                    f"platform specifier component must match {go_quote(_SPECIFIER_SOURCE)}: "
                    f"{_INVALID}"
                )

        if len(parts) == 1:
            machine = host if host is not None else _default_host()
            if os_name in KNOWN_OS:
                # "picks a default architecture": GOARCH, and the arm variant unless it is v7.
                arch = machine.architecture
                arm_variant = machine.variant if arch == "arm" and machine.variant != "v7" else ""
                return cls(os_name, arch, arm_variant, os_version, os_features)
            arch, variant = normalize_arch(parts[0], "")
            if arch == "arm" and variant == "v7":
                variant = ""
            if arch in KNOWN_ARCHITECTURES:
                return cls(machine.os, arch, variant, os_version, os_features)
            raise PlatformError(
                f"{go_quote(specifier)}: unknown operating system or architecture: {_INVALID}"
            )
        if len(parts) == 2:
            arch, variant = normalize_arch(parts[1], "")
            if arch == "arm" and variant == "v7":
                variant = ""
            return cls(os_name, arch, variant, os_version, os_features)
        if len(parts) == 3:
            arch, variant = normalize_arch(parts[1], parts[2])
            if arch == "arm64" and variant == "":
                variant = "v8"
            return cls(os_name, arch, variant, os_version, os_features)
        raise PlatformError(f"{go_quote(specifier)}: cannot parse platform specifier: {_INVALID}")

    @classmethod
    def parse_all(
        cls, specifiers: Iterable[str], *, host: Platform | None = None
    ) -> list[Platform]:
        """``platforms.ParseAll``: parse each, errors prefixed ``invalid platform <s>: ``.

        >>> [p.format() for p in Platform.parse_all(["linux/amd64", "linux/arm/v6"])]
        ['linux/amd64', 'linux/arm/v6']
        """
        out: list[Platform] = []
        for specifier in specifiers:
            try:
                out.append(cls.parse(specifier, host=host))
            except PlatformError as exc:
                raise PlatformError(f"invalid platform {specifier}: {exc}") from None
        return out

    def format(self) -> str:
        """``platforms.Format``: ``os/arch/variant``, empty parts skipped; ``unknown`` if no OS.

        >>> Platform("linux", "arm64", "v8").format(), Platform("", "amd64").format()
        ('linux/arm64/v8', 'unknown')
        """
        if not self.os:
            return "unknown"
        return go_path_join(self.os, self.architecture, self.variant)

    def format_all(self) -> str:
        """``platforms.FormatAll``: :meth:`format` plus ``(osversion+features)`` after the OS.

        Features are printed sorted, empty and repeated ones skipped; ``%``, ``+``, ``(``,
        ``)`` and ``/`` inside the version or a feature are percent-escaped, so the result
        parses back to the same platform.

        >>> Platform("linux", "amd64", os_features=("tdx", "gpu", "gpu")).format_all()
        'linux(+gpu+tdx)/amd64'
        >>> Platform("windows", "amd64", os_version="10.0+x").format_all()
        'windows(10.0%2Bx)/amd64'
        """
        if not self.os:
            return "unknown"
        if not self.os_version and not self.os_features:
            return go_path_join(self.os, self.architecture, self.variant)
        version = _encode_os_option(self.os_version)
        features = _format_os_features(self.os_features)
        head = self.os
        if version or features:
            head += "(" + version + ("+" + features if features else "") + ")"
        return go_path_join(head, self.architecture, self.variant)

    # -- canonical form ---------------------------------------------------------------------

    def normalize(self, *, host_os: str | None = None) -> Platform:
        """containerd's ``platforms.Normalize``: the canonical form matchers compare.

        OS lowercased (``macos`` → ``darwin``; empty → *host_os*, default this machine's OS);
        architecture and variant per :func:`normalize_arch`; ``os_features`` sorted and
        de-duplicated. ``os_version`` and ``features`` are left alone.

        >>> p = Platform("Linux", "armhf", "v6", os_features=("b", "a", "b")).normalize()
        >>> p.format(), p.os_features
        ('linux/arm/v7', ('a', 'b'))
        """
        arch, variant = normalize_arch(self.architecture, self.variant)
        return Platform(
            os=normalize_os(self.os, host_os=host_os),
            architecture=arch,
            variant=variant,
            os_version=self.os_version,
            os_features=tuple(sorted(set(self.os_features))),
            features=self.features,
        )

    # -- the machine we run on --------------------------------------------------------------

    @classmethod
    def host(
        cls,
        *,
        system: str | None = None,
        machine: str | None = None,
        cpuinfo: str | None = None,
        os_version: str | None = None,
        os_features: Iterable[str] = (),
    ) -> Platform:
        """This machine (or a simulated one) as an engine's host platform.

        - ``os``/``architecture``: Go's GOOS/GOARCH for *system* (``platform.system()``) and
          *machine* (``platform.machine()``), see
          :func:`fakeregistry.platforms.cpuinfo.goos`/``goarch``.
        - ``variant``: the arm/arm64 variant as containerd detects it
          (:func:`fakeregistry.platforms.cpuinfo.arm_variant`: ``CPU architecture`` line,
          ``uname -m`` fallback, Raspberry Pi quirk); for amd64 the micro-architecture level
          ``v1``…``v4`` from the cpuinfo flags, as moby's ``maximumSpec()`` adds it (containerd
          itself has none — the engine profiles in :mod:`fakeregistry.engine.selection` drop it
          where the engine does).
        - ``features``: the CPU flags (``flags`` or ``Features`` line).
        - ``os_version``: on Windows ``major.minor.build`` like containerd's ``DefaultSpec``.

        Inputs default to the real machine; *cpuinfo* is read from ``/proc/cpuinfo`` only when
        neither *system* nor *machine* is given (a simulated host gets ``""`` unless you pass
        its cpuinfo text).

        >>> rpi = "model name : ARMv6-compatible processor rev 7 (v6l)\\nCPU architecture: 7\\n"
        >>> Platform.host(system="Linux", machine="armv6l", cpuinfo=rpi).format()
        'linux/arm/v6'
        >>> win = Platform.host(system="Windows", machine="AMD64", os_version="10.0.20348.2340")
        >>> win.format_all()
        'windows(10.0.20348)/amd64/v1'
        """
        simulated = system is not None or machine is not None
        goos = _cpuinfo.goos(system if system is not None else _pyplatform.system())
        raw_machine = machine if machine is not None else _pyplatform.machine()
        goarch = _cpuinfo.goarch(raw_machine)
        if cpuinfo is None:
            cpuinfo = _cpuinfo.read_cpuinfo() if not simulated and goos == "linux" else ""
        flags = _cpuinfo.cpu_flags(cpuinfo)
        if goarch in ("arm", "arm64"):
            variant = _cpuinfo.arm_variant(
                goos=goos, goarch=goarch, cpuinfo=cpuinfo, machine=raw_machine
            )
        elif goarch == "amd64":
            variant = _cpuinfo.amd64_level(flags)
        else:
            variant = ""
        if os_version is None:
            os_version = _pyplatform.version() if goos == "windows" and not simulated else ""
        if goos == "windows":
            # DefaultSpec: fmt.Sprintf("%d.%d.%d", RtlGetNtVersionNumbers()) — no revision.
            os_version = ".".join(os_version.split(".")[:3])
        return cls(goos, goarch, variant, os_version, tuple(os_features), flags)


def _format_os_features(features: Iterable[str]) -> str:
    """platforms.go ``formatOSFeatures``: sorted, empty and duplicate values skipped."""
    return "+".join(_encode_os_option(f) for f in sorted(set(features)) if f)


@functools.cache
def _default_host() -> Platform:
    # The machine a one-word specifier borrows its missing half from; computed once, like
    # containerd's cpuVariant() behind a sync.Once.
    return Platform.host()
