"""Metrics API: time series for charts and audited CSV/JSON exports of every table.

* ``GET /api/v1/metrics/series/?metric=...&interval=day|hour`` with the filters below.
* ``GET /api/v1/metrics/export/<table>.csv`` (or ``.json``) with the same filters; tables of the
  dashboard (``summary``, ``response_times``, ``backlog``, ``categories``, ``sentiment``,
  ``segments``, ``languages``, ``channels``, ``rumours``) and of an event's after-action report
  (``timeline``, ``phases``: give ``?event=``). Each export is on the audit trail.

Filters: ``team``, ``event``, ``campaign``, ``segment``, ``channel`` (ids), ``language``,
``phase`` (before, during, after), ``since``, ``until`` (ISO 8601). Another team's object is a
404. (``GET /api/v1/metrics/trust/`` is served by ``engage.inbound.api``; its figures come
from :func:`engage.metrics.trust_metrics`.)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.ids import IdField
from engage.metrics import reports, voice
from engage.metrics.dashboard import dashboard
from engage.metrics.exports import ALL_TABLES, FORMATS, REPORT_TABLES, metrics_export
from engage.metrics.scope import PHASES, resolve_scope
from engage.metrics.series import METRICS, series


class MetricsFilterSerializer(serializers.Serializer):
    team = IdField(required=False)
    event = IdField(required=False)
    campaign = IdField(required=False)
    segment = IdField(required=False)
    channel = IdField(required=False)
    language = serializers.CharField(required=False, max_length=16)
    phase = serializers.ChoiceField(choices=PHASES, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class SeriesQuerySerializer(MetricsFilterSerializer):
    metric = serializers.ChoiceField(choices=METRICS)
    interval = serializers.ChoiceField(choices=("day", "hour"), default="day")


FILTER_PARAMETERS = [OpenApiParameter(name, kind) for name, kind in (
    ("team", int), ("event", int), ("campaign", int), ("segment", int), ("channel", int), ("language", str),
    ("phase", str), ("since", OpenApiTypes.DATETIME), ("until", OpenApiTypes.DATETIME))]


def _scope(request: Request, serializer_class: type[serializers.Serializer] = MetricsFilterSerializer
           ) -> tuple[Any, dict[str, Any]]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = dict(query.validated_data)
    extra = {key: data.pop(key) for key in ("metric", "interval") if key in data}
    return resolve_scope(user=request.user, **data), extra


class SeriesView(APIView):
    """A time series for a chart: one point per hour or day, in the team's time zone."""

    @extend_schema(parameters=[OpenApiParameter("metric", str, required=True, enum=list(METRICS)),
                               OpenApiParameter("interval", str, enum=["day", "hour"]), *FILTER_PARAMETERS],
                   responses=OpenApiResponse(description="{metric, interval, timezone, keys, filters, points}"))
    def get(self, request: Request) -> Response:
        scope, extra = _scope(request, SeriesQuerySerializer)
        return Response(series(scope, metric=extra["metric"], interval=extra.get("interval", "day")))


class ExportView(APIView):
    """One table as CSV or JSON (audited)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The file's type comes from the URL (.csv or .json), not from Accept.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=FILTER_PARAMETERS,
                   responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, table: str, ext: str) -> HttpResponse | Response:
        if table not in ALL_TABLES or ext not in FORMATS:
            from rest_framework.exceptions import NotFound

            raise NotFound("No such export.")
        scope, _extra = _scope(request)
        if table in REPORT_TABLES and scope.event is not None:
            data = reports.event_report(user=request.user, event_id=scope.event.pk, timeline_limit=None)
            scope = data["scope"]
        else:
            data = dashboard(scope)
            if table == "rumours":
                data["rumour_list"] = voice.rumour_list(scope, limit=10_000)
        content, content_type, filename = metrics_export(actor=request.user, scope=scope, data=data, name=table,
                                                         fmt=ext)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
