"""The HTTP layer: the only code that imports ``aiohttp.web``."""

from fakeregistry.registry.http.app import STORAGE, create_api_app

__all__ = ["STORAGE", "create_api_app"]
