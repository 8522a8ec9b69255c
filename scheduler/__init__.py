"""scheduler: deciding when. ``govarchive serve`` runs :func:`scheduler.service.serve`."""

from govarchive.scheduler.service import Service, serve

__all__ = ["Service", "serve"]
