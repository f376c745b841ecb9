"""Images of published messages, for everyone. Anything not published is simply not there."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from campaigns.models import MediaAsset
from campaigns.views.media import asset_response
from engage.public.selectors import published_messages


@require_safe
def public_media_file(request: HttpRequest, pk: int) -> FileResponse:
    asset = MediaAsset.objects.filter(pk=pk, message__in=published_messages().values("pk")).first()
    if asset is None:
        raise Http404("No such image.")
    response = asset_response(asset)
    response["Cache-Control"] = "public, max-age=86400"
    return response
