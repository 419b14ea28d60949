"""Standard-library plumbing shared by the layers: one event-loop thread (:mod:`.loopthread`)
that the threaded server and the synchronous twins of async functions run on."""
