"""scheduler: deciding when. ``govarchive serve`` runs :func:`scheduler.service.serve`;
``govarchive worker`` runs :func:`scheduler.queue_worker.work`."""

from govarchive.politeness_groups import politeness_groups
from govarchive.scheduler.queue import Dispatcher
from govarchive.scheduler.queue import ensure_schema as ensure_queue_schema
from govarchive.scheduler.queue_worker import work
from govarchive.scheduler.service import Service, default_max_concurrent_runs, serve

__all__ = ["Dispatcher", "Service", "default_max_concurrent_runs", "ensure_queue_schema",
           "politeness_groups", "serve", "work"]
