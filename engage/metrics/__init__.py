"""Trust and engagement metrics, computed in SQL (conditional aggregates, window functions and
``percentile_cont``), never by looping over rows in Python.

One module per family: :mod:`~engage.metrics.response` (answered, how fast, SLA, backlog),
:mod:`~engage.metrics.voice` (categories, sentiment, corrections, rumours),
:mod:`~engage.metrics.reach` (deliveries per channel), :mod:`~engage.metrics.equity` (segments
and languages against the overall figures, under-served flags), :mod:`~engage.metrics.series`
(time series for charts); :mod:`~engage.metrics.scope` resolves the filters against what the
user may see; :mod:`~engage.metrics.dashboard` puts a dashboard together and
:mod:`~engage.metrics.exports` turns its tables into audited CSV and JSON.
"""

from engage.metrics.trust import trust_metrics

__all__ = ["trust_metrics"]
