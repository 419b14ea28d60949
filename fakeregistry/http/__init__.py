"""The HTTP layer: the only code that imports ``aiohttp.web``."""

from fakeregistry.http.app import STORAGE, create_app

__all__ = ["STORAGE", "create_app"]
