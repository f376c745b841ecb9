"""The Celery app: one queue for routine work, one for urgent work, exactly one beat.

Database connections in workers follow the same rule as in web requests: Django's
``close_old_connections`` runs before and after each task, so a connection lives for
``CONN_MAX_AGE`` (60 s on PostgreSQL, none on SQLite) and is health-checked before reuse, and
one left broken or inside a transaction by a task is closed. Celery's own Django fix-up would
instead close every connection around every task (``CELERY_DB_REUSE_MAX`` unset): a new
PostgreSQL connection per delivery, a third of a send's time in the publishing burst.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

app = Celery("engage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run in the caller's process and transaction (tests, eager mode)
    from django.db import close_old_connections

    close_old_connections()
