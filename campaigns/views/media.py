"""Images of messages, for staff: served only to members of the message's team."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from accounts import permissions
from campaigns.models import MediaAsset


def asset_response(asset: MediaAsset) -> FileResponse:
    response = FileResponse(asset.file.open("rb"), content_type=asset.mime)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_safe
def media_file(request: HttpRequest, pk: int) -> FileResponse:
    asset = MediaAsset.objects.select_related("message").filter(pk=pk).first()
    if asset is None or not permissions.can_view_team(request.user, asset.message.team_id):
        raise Http404("No such image.")
    return asset_response(asset)
