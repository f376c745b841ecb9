"""The Celery app: one queue for routine work, one for urgent work, exactly one beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")

app = Celery("engage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
