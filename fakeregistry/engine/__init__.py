"""L4, the simulated engines: which manifest each engine picks for a host (profiles and
selection), the simulated pull over HTTP against any registry, and OCI image layouts.
"""
