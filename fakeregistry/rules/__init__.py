"""L0-L1, the rules: digests, media types, references, sizes (:mod:`~fakeregistry.rules.units`)
and the error table (standard library only), and typed views over raw manifest bytes
(:mod:`~fakeregistry.rules.model`).

Nothing here knows HTTP, storage or an event loop; every module is table-tested on its own.
"""
