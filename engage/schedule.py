"""The periodic tasks, declared in code. ``manage.py setup_periodic_tasks`` writes them to
django-celery-beat's database scheduler; exactly one beat runs them."""

from django.conf import settings

PERIODIC_TASKS: list[dict] = [
    {"name": "Publishing tick", "task": "campaigns.tick", "every": settings.ENGAGE_TICK_SECONDS,
     "description": "Claims due deliveries and enqueues them."},
    {"name": "Recover stale deliveries", "task": "campaigns.reap", "every": 60.0,
     "description": "Stale claims go back to pending; stale in-flight sends become unconfirmed."},
    {"name": "Reconcile unconfirmed deliveries", "task": "campaigns.reconcile", "every": 60.0,
     "description": "Asks the platforms that can answer whether unconfirmed deliveries went out, and settles them."},
    {"name": "Channel health", "task": "campaigns.check_channels", "every": 1800.0,
     "description": "Checks each channel's credentials and warns before tokens expire."},
    {"name": "Platform post statistics", "task": "campaigns.fetch_stats", "every": 900.0,
     "description": "Fetches views, shares, replies and likes of recent posts from the platforms that give them."},
    {"name": "Inbound sweeper", "task": "engage.sweep", "every": 10.0,
     "description": "Processes replies left unprocessed (broker down), sends pending and approved answers."},
    {"name": "Mastodon mentions", "task": "engage.poll_mastodon", "every": 60.0,
     "description": "Fetches new mentions of each Mastodon channel since the last one seen."},
    {"name": "Reply retention", "task": "engage.retention", "every": 86400.0,
     "description": "Redacts replies past their retention period (legal holds excepted)."},
    {"name": "Metrics summary", "task": "engage.metrics_refresh", "every": 60.0,
     "description": "Recounts the hours of the metrics summary whose replies changed (engage.metrics.rollup)."},
    {"name": "Audit chain head", "task": "accounts.publish_audit_head", "every": 86400.0,
     "description": "Signs and publishes the audit trail's chain head on the transparency page (daily)."},
    {"name": "Metrics summary rebuild", "task": "engage.metrics_rebuild", "every": 86400.0,
     "description": "Rebuilds the metrics summary from scratch (catches erased replies)."},
    {"name": "Event awareness", "task": "awareness.run", "every": 60.0,
     "description": "Reads the approved watches of public signals inside their window, stops ended ones, "
                    "deletes post text past its retention (issue 18)."},
]
