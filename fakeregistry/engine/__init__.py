"""L4, the simulated engines: which manifest each engine picks for a host (profiles and
selection), the simulated pull over HTTP against any registry, and OCI image layouts.

- :mod:`~fakeregistry.engine.profiles`: one :class:`~fakeregistry.engine.profiles.Engine`
  record per engine (summary, Accept list, HEAD-first, config check, selector), in one table;
- :mod:`~fakeregistry.engine.selection`: :func:`~fakeregistry.engine.selection.select_manifest`
  and its results; :mod:`~fakeregistry.engine.selectors`: the engines' rules, one module per
  family; :mod:`~fakeregistry.engine.index`: an index read into entries;
  :mod:`~fakeregistry.engine.hostspec`: the platform an engine looks for on its host;
- :mod:`~fakeregistry.engine.pull`: the simulated pull over HTTP, returning
  :mod:`~fakeregistry.engine.results`; :mod:`~fakeregistry.engine.layout`: OCI image layouts,
  written by a pull and read by seeding.

Everything below ``pull`` and ``results`` is pure (standard library, platforms and rules).
"""
