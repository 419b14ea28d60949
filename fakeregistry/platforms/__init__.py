"""L0, platforms: the platform type (parse, format, normalise as containerd does), host CPU
detection, and the matchers engines use to compare a platform with a host (standard library only).

- :mod:`~fakeregistry.platforms.platform`: the platform object and specifier syntax;
- :mod:`~fakeregistry.platforms.cpuinfo`: what the host's CPU says (variants, amd64 levels);
- :mod:`~fakeregistry.platforms.match`: containerd's ``Only``/``OnlyStrict``/``Ordered`` matchers;
- :mod:`~fakeregistry.platforms.windows`: which Windows builds a Windows host runs;
- :mod:`~fakeregistry.platforms.go`: Go's ``strconv``, ``path`` and ``%q`` as the engines call them.
"""
