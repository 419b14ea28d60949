"""The engines' selection rules, one module per family of engines.

Each selector is a function ``(entries, host, requested, media_type) -> Outcome``
(:data:`~fakeregistry.engine.selectors.outcome.Selector`): given the entries of one index
(:mod:`fakeregistry.engine.index`), the host, the platform the user asked for and the
index's media type, it ranks the entries it accepts, says why it rejects the others, and
carries the engine's own "no match" message. :mod:`fakeregistry.engine.profiles` names which
selector each engine uses; :func:`fakeregistry.engine.selection.select_manifest` runs it.

- :mod:`~fakeregistry.engine.selectors.docker`: Docker 1.10-18.05, Docker 18.06-20.10, moby
  (Docker 23+), and Docker's Windows daemon;
- :mod:`~fakeregistry.engine.selectors.containerd`: containerd's ``Default()`` and
  ``DefaultStrict()``;
- :mod:`~fakeregistry.engine.selectors.containers_image`: skopeo, podman, buildah;
- :mod:`~fakeregistry.engine.selectors.full`: fakeregistry's own strict reading.
"""
