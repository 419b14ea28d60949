"""L4-L5, what the pytest plugin uses: the :class:`~fakeregistry.testing.harness.FakeRegistry`
handle and the sessions that own servers (or point at an external registry)."""
