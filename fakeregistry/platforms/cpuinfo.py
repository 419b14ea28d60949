"""What an engine learns about the machine it runs on: GOOS, GOARCH, CPU variant, CPU flags.

Container engines are Go programs, so they describe their host with Go's names
(``runtime.GOOS``/``runtime.GOARCH``) plus a CPU *variant* that they detect at run time:

- arm and arm64 variants come from ``/proc/cpuinfo`` (containerd/platforms
  ``cpuinfo_linux.go: getArmCPUVariant``), with ``uname -m`` as the fallback and the
  Raspberry Pi quirk (an ARMv6 board whose kernel reports ``CPU architecture: 7``);
- the amd64 micro-architecture level (x86-64-v1 … v4) is *not* detected by containerd at
  all; moby asks the CPU (``tonistiigi/go-archvariant``) and containers/image reads the
  ``flags`` line of ``/proc/cpuinfo``. Here we use the flags, as containers/image does
  (``internal/pkg/platform/platform_matcher.go: classifyAmd64Variant``).

Every function takes its inputs as arguments (the cpuinfo text, the ``uname -m`` string, the
OS name), so a test can simulate any host::

    >>> arm_variant(goos="linux", goarch="arm64", cpuinfo="CPU architecture: 8\\n")
    'v8'
    >>> amd64_level(["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"])
    'v2'
    >>> goarch("x86_64"), goos("Darwin")
    ('amd64', 'darwin')

Pure, standard library only; :func:`read_cpuinfo` is the one function that touches the disk.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AMD64_LEVEL_FLAGS",
    "amd64_level",
    "arm_variant",
    "arm_variant_from_machine",
    "cpu_flags",
    "cpuinfo_value",
    "goarch",
    "goos",
    "read_cpuinfo",
]

# x86-64 micro-architecture levels as /proc/cpuinfo flag names (System V psABI levels, the
# same sets GOAMD64 uses). containers/image `classifyAmd64Variant` and containerd/platforms
# PR #7 (unmerged) use exactly these lists. "pni" is Linux's name for SSE3 and "abm" covers
# LZCNT; OSXSAVE and the OS register-state checks that go-archvariant makes via CPUID are
# invisible in /proc/cpuinfo, so (like containers/image) we cannot check them.
AMD64_LEVEL_FLAGS: dict[str, frozenset[str]] = {
    "v2": frozenset({"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"}),
    "v3": frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    "v4": frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}),
}

# `uname -m` / platform.machine() spellings -> Go's GOARCH. Python reports what the kernel
# (or Windows' PROCESSOR_ARCHITECTURE) says; Go engines only ever see GOARCH.
_MACHINE_TO_GOARCH = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "amd64": "amd64",
    "x64": "amd64",
    "i386": "386",
    "i486": "386",
    "i586": "386",
    "i686": "386",
    "i86pc": "amd64",  # illumos/Solaris report the platform, which is 64-bit on every Go port
    "x86": "386",
    "aarch64": "arm64",
    "aarch64_be": "arm64be",
    "arm64": "arm64",
    "armv8b": "armbe",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "ppc": "ppc",
    "s390x": "s390x",
    "s390": "s390",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
    "mips": "mips",
    "mipsel": "mipsle",
    "mips64": "mips64",
    "mips64el": "mips64le",
    "sparc64": "sparc64",
}

# platform.system() -> GOOS. Anything else is lowercased, which is what Go calls the other
# kernels too (netbsd, openbsd, dragonfly, aix, ...).
_SYSTEM_TO_GOOS = {
    "linux": "linux",
    "darwin": "darwin",
    "windows": "windows",
    "freebsd": "freebsd",
    "sunos": "solaris",
    "cygwin": "windows",
    "msys": "windows",
    "ios": "ios",
    "ipados": "ios",
    "android": "android",
}


def goos(system: str) -> str:
    """Go's ``GOOS`` for a ``platform.system()`` (``uname -s``) value.

    >>> goos("Linux"), goos("Windows"), goos("SunOS"), goos("NetBSD")
    ('linux', 'windows', 'solaris', 'netbsd')
    """
    name = system.strip().lower()
    if name.startswith(("cygwin", "mingw", "msys")):
        return "windows"
    return _SYSTEM_TO_GOOS.get(name, name)


def goarch(machine: str) -> str:
    """Go's ``GOARCH`` for a ``platform.machine()`` (``uname -m``) value.

    32-bit ARM machines report ``armv6l``, ``armv7l``, ``armv8l`` ...: they are all ``arm``
    (the variant comes from :func:`arm_variant`).

    >>> goarch("AMD64"), goarch("armv7l"), goarch("aarch64"), goarch("i686")
    ('amd64', 'arm', 'arm64', '386')
    """
    name = machine.strip().lower()
    if name in _MACHINE_TO_GOARCH:
        return _MACHINE_TO_GOARCH[name]
    if name.startswith("arm"):
        return "arm"
    return name


def read_cpuinfo(path: str = "/proc/cpuinfo") -> str:
    """The text of ``/proc/cpuinfo``, or ``""`` where there is none (macOS, Windows)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cpuinfo_value(cpuinfo: str, key: str) -> str | None:
    """The value of the first ``key : value`` line, as containerd reads it.

    containerd (``cpuinfo_linux.go: getCPUInfo``) splits each line on ``":"``, compares the
    trimmed first piece case-insensitively and returns the trimmed *second* piece — so only the
    text up to a second colon, and only from the first processor listed. ``None`` when no line
    has the key.

    >>> cpuinfo_value("processor : 0\\nCPU architecture: 8\\n", "Cpu architecture")
    '8'
    >>> cpuinfo_value("a : b : c", "a"), cpuinfo_value("x: 1", "y")
    ('b', None)
    """
    wanted = key.casefold()
    for line in cpuinfo.splitlines():
        parts = line.split(":")
        # Go's strings.EqualFold is simple Unicode case folding; casefold() agrees on ASCII keys.
        if len(parts) > 1 and parts[0].strip().casefold() == wanted:
            return parts[1].strip()
    return None


def cpu_flags(cpuinfo: str) -> tuple[str, ...]:
    """The CPU feature flags of the first processor, sorted and de-duplicated.

    x86 kernels list them on a ``flags`` line, arm/arm64 kernels on ``Features``.

    >>> cpu_flags("flags\\t\\t: sse2 fpu sse2 avx\\n")
    ('avx', 'fpu', 'sse2')
    >>> cpu_flags("Features\\t: fp asimd evtstrm aes\\n")
    ('aes', 'asimd', 'evtstrm', 'fp')
    """
    value = cpuinfo_value(cpuinfo, "flags")
    if value is None:
        value = cpuinfo_value(cpuinfo, "Features")
    return tuple(sorted(set((value or "").split())))


def amd64_level(flags: Iterable[str]) -> str:
    """The x86-64 micro-architecture level (``"v1"`` … ``"v4"``) that *flags* support.

    Each level needs all flags of the levels below it (containers/image
    ``classifyAmd64Variant``); ``"v1"`` is the x86-64 baseline every amd64 CPU has.

    >>> v2 = ["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"]
    >>> amd64_level([]), amd64_level(v2), amd64_level(v2[1:] + ["avx2"])
    ('v1', 'v2', 'v1')
    """
    have = set(flags)
    level = "v1"
    for name in ("v2", "v3", "v4"):
        if not AMD64_LEVEL_FLAGS[name] <= have:
            break
        level = name
    return level


def arm_variant_from_machine(machine: str) -> str:
    """The raw ARM variant in a ``uname -m`` value (containerd ``getCPUVariantFromArch``).

    Used when ``/proc/cpuinfo`` has no ``CPU architecture`` line (an arm binary under qemu
    user emulation, for instance). Raises :class:`ValueError` with containerd's message for a
    machine that is not ``aarch64`` or ``armvN…``.

    >>> arm_variant_from_machine("aarch64"), arm_variant_from_machine("Armv7l")
    ('8', '7')
    >>> arm_variant_from_machine("armv9")
    'unknown'
    """
    arch = machine.lower()
    if arch == "aarch64":
        return "8"
    # Go slices arch[0:4] before it checks the length, so a machine shorter than four bytes
    # panics in containerd; we report it as the same invalid-argument error.
    if arch[:4] == "armv" and len(arch) >= 5:
        return {
            "v8": "8",
            "v7": "7",
            "v6": "6",
            "v5": "5",
            "v4": "4",
            "v3": "3",
        }.get(arch[3:5], "unknown")
    raise ValueError(f"getCPUVariantFromArch invalid arch: {arch}, invalid argument")


# containerd cpuinfo_linux.go: the final switch from the kernel's "CPU architecture" value.
_ARM_VARIANTS = {
    "8": "v8",
    "aarch64": "v8",
    "7": "v7",
    "7m": "v7",
    "?(12)": "v7",
    "?(13)": "v7",
    "?(14)": "v7",
    "?(15)": "v7",
    "?(16)": "v7",
    "?(17)": "v7",
    "6": "v6",
    "6tej": "v6",
    "5": "v5",
    "5t": "v5",
    "5te": "v5",
    "5tej": "v5",
    "4": "v4",
    "4t": "v4",
    "3": "v3",
}


def arm_variant(*, goos: str, goarch: str, cpuinfo: str = "", machine: str = "") -> str:
    """containerd's ``cpuVariant()`` for an arm or arm64 host; ``""`` for any other GOARCH.

    Linux (``cpuinfo_linux.go: getArmCPUVariant``):

    1. the first ``CPU architecture`` line of *cpuinfo*, else the ``uname -m`` *machine*
       (:func:`arm_variant_from_machine`);
    2. the Raspberry Pi quirk: on ``arm``, a value ``7`` whose ``model name`` starts with
       ``ARMv6-compatible`` is really ``6`` (raspberrypi.org forum thread 12614);
    3. ``8``/``aarch64`` → ``v8``; ``7``, ``7M``, ``?(12)`` … ``?(17)`` → ``v7``;
       ``6``, ``6TEJ`` → ``v6``; ``5``, ``5T``, ``5TE``, ``5TEJ`` → ``v5``; ``4``, ``4T`` →
       ``v4``; ``3`` → ``v3``; anything else → ``unknown``.

    Where containerd only logs an error (no cpuinfo line and an unusable machine name, or an
    OS it has no detection for) the variant stays ``""``. Windows and macOS report ``v8`` for
    arm64 and ``v7`` for arm; FreeBSD ``v8`` for arm64 and ``unknown`` otherwise
    (``cpuinfo_other.go``).

    >>> pi_zero = "model name : ARMv6-compatible processor rev 7 (v6l)\\nCPU architecture: 7"
    >>> arm_variant(goos="linux", goarch="arm", cpuinfo=pi_zero)
    'v6'
    >>> arm_variant(goos="linux", goarch="arm64", cpuinfo=pi_zero)
    'v7'
    >>> arm_variant(goos="linux", goarch="arm64", machine="aarch64")
    'v8'
    """
    if goarch not in ("arm", "arm64"):
        return ""
    if goos in ("windows", "darwin"):
        return "v8" if goarch == "arm64" else "v7"
    if goos == "freebsd":
        return "v8" if goarch == "arm64" else "unknown"
    if goos != "linux":
        return ""  # getArmCPUVariant: "not implemented" error, logged; variant stays empty
    raw = cpuinfo_value(cpuinfo, "Cpu architecture")
    if raw is None:
        try:
            raw = arm_variant_from_machine(machine)
        except ValueError:
            return ""
    if goarch == "arm" and raw == "7":
        model = cpuinfo_value(cpuinfo, "model name")
        if model is not None and model.lower().startswith("armv6-compatible"):
            raw = "6"
    return _ARM_VARIANTS.get(raw.lower(), "unknown")
