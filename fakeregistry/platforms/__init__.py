"""L0, platforms: the platform type (parse, format, normalise as containerd does), host CPU
detection, and the matchers engines use to compare a platform with a host (standard library only).
"""
