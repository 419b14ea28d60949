"""L2-L4, the registry: options, storage (no HTTP), content negotiation, auth policy and tokens,
faults and the request log (L2); the HTTP API and the web page (L3, the only code importing
``aiohttp.web``); and the threaded and in-loop servers that bind sockets (L4).
"""
