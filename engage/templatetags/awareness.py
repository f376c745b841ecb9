"""The awareness panel on the event page (``{% awareness_panel event %}`` in
templates/engage/awareness/_panel.html) and the watches on the transparency page
(``{% public_watches %}``). Each view of the panel is audited."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import permissions
from engage.awareness import selectors, services
from engage.awareness.charts import panel_charts

register = template.Library()


@register.inclusion_tag("engage/awareness/_panel_body.html", takes_context=True)
def awareness_panel(context: template.Context, event: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not permissions.can_view_awareness(user, event.team_id):
        return {"visible": False}
    data = selectors.event_panel(user=user, event=event)
    services.panel_viewed(actor=user, event=event)
    return {"visible": True, "event": event, "csrf_token": context.get("csrf_token"), **data,
            "charts": panel_charts(data["series"])}


@register.inclusion_tag("engage/awareness/_public_watches.html", takes_context=True)
def public_watches(context: template.Context) -> dict[str, Any]:
    return {"watches": list(selectors.public_watches()[:50])}
