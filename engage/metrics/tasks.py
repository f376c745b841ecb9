"""The summary table's periodic refresh (see ``engage/schedule.py``). Thin: one call each."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="engage.metrics_refresh", ignore_result=True)
def metrics_refresh() -> int:
    from engage.metrics.rollup import summary_refresh

    return summary_refresh()


@shared_task(name="engage.metrics_rebuild", ignore_result=True)
def metrics_rebuild() -> int:
    from engage.metrics.rollup import summary_refresh

    return summary_refresh(full=True)
