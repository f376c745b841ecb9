from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from engage.schedule import PERIODIC_TASKS


class Command(BaseCommand):
    help = "Write the periodic tasks declared in engage/schedule.py to the beat scheduler (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        names = []
        for item in PERIODIC_TASKS:
            micro = int(round(item["every"] * 1_000_000))
            if micro % 1_000_000 == 0:
                schedule, _ = IntervalSchedule.objects.get_or_create(every=micro // 1_000_000,
                                                                     period=IntervalSchedule.SECONDS)
            else:
                schedule, _ = IntervalSchedule.objects.get_or_create(every=micro,
                                                                     period=IntervalSchedule.MICROSECONDS)
            PeriodicTask.objects.update_or_create(
                name=item["name"],
                defaults={"task": item["task"], "interval": schedule, "enabled": True,
                          "description": item["description"], "queue": "urgent" if "tick" in item["task"] else None},
            )
            names.append(item["name"])
        stale = PeriodicTask.objects.exclude(name__in=names).exclude(name__startswith="celery.")
        removed = stale.count()
        stale.delete()
        self.stdout.write(f"{len(names)} periodic tasks set up, {removed} stale removed.")
