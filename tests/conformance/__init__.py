"""A Python port of the OCI distribution-spec conformance suite (``conformance/`` of
opencontainers/distribution-spec): the Ginkgo suite of the v1.1.1 release and the rewritten
suite of the current main branch.

This directory is a package because its test modules share the support modules next to them
(``v111.py``, ``v2.py``), and ``tests`` itself is a package.
"""
