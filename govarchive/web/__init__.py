"""``govarchive web``: the read-only query UI and JSON API (FastAPI), over ``storage.Store``."""

from govarchive.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
