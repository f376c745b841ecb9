"""The periodic tasks, declared in code. ``manage.py setup_periodic_tasks`` writes them to
django-celery-beat's database scheduler; exactly one beat runs them."""

from django.conf import settings

PERIODIC_TASKS: list[dict] = [
    {"name": "Publishing tick", "task": "campaigns.tick", "every": settings.ENGAGE_TICK_SECONDS,
     "description": "Claims due deliveries and enqueues them."},
    {"name": "Recover stale deliveries", "task": "campaigns.reap", "every": 60.0,
     "description": "Stale claims go back to pending; stale in-flight sends become unconfirmed."},
    {"name": "Channel health", "task": "campaigns.check_channels", "every": 1800.0,
     "description": "Checks each channel's credentials and warns before tokens expire."},
]
