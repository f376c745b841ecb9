"""The people on a list channel (SMS, email): add, import, opt out, export. Team administrators only."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import permissions
from campaigns import selectors
from campaigns.models import Channel, Segment
from campaigns.services import recipients as recipient_services
from campaigns.views import forbidden
from core.web import run_service

PAGE = 200


class _ListForm(forms.Form):
    language = forms.CharField(max_length=16, initial="en", label=_("Language"),
                               help_text=_("ISO 639-1, such as en, fa, ar"))
    segments = forms.ModelMultipleChoiceField(queryset=Segment.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple, label=_("Segments"))
    consent_source = forms.CharField(max_length=100, label=_("How they agreed"),
                                     help_text=_("For example: sign-up form at the station, 3 March"))

    def __init__(self, *args: Any, channel: Channel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segments"].queryset = Segment.objects.filter(team_id=channel.team_id)


class RecipientAddForm(_ListForm):
    address = forms.CharField(max_length=254, label=_("Phone number or email address"))
    field_order = ["address", "language", "segments", "consent_source"]


class RecipientImportForm(_ListForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=1_000_000,
                           label=_("Addresses"),
                           help_text=_("One per line; add ,language to set it per line (+447700900123,fa)"))
    field_order = ["text", "language", "segments", "consent_source"]


def _channel(request: HttpRequest, pk: int) -> Channel | HttpResponse:
    channel = selectors.channels_for(request.user).filter(pk=pk, kind__in=["sms", "email"]).first()
    if channel is None:
        raise Http404("No such list.")
    if not permissions.can_manage_channels(request.user, channel.team_id):
        return forbidden(request, gettext("Only an administrator of this team manages its recipients."))
    return channel


@login_required
@require_http_methods(["GET", "POST"])
def recipient_list(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    if isinstance(channel, HttpResponse):
        return channel
    action = request.POST.get("action") if request.method == "POST" else None
    add = RecipientAddForm(request.POST if action == "add" else None, channel=channel, prefix="add")
    bulk = RecipientImportForm(request.POST if action == "import" else None, channel=channel, prefix="import")
    if action == "add" and add.is_valid():
        data = add.cleaned_data
        if run_service(request, recipient_services.recipient_add, channel=channel, address=data["address"],
                       language=data["language"], segments=list(data["segments"]),
                       consent_source=data["consent_source"], success=gettext("Added to the list.")):
            return redirect("campaigns:recipients", pk=channel.pk)
    if action == "import" and bulk.is_valid():
        data = bulk.cleaned_data
        result = run_service(request, recipient_services.recipients_import, channel=channel, text=data["text"],
                             language=data["language"], segments=list(data["segments"]),
                             consent_source=data["consent_source"])
        if result is not None:
            from django.contrib import messages as flash

            flash.success(request, gettext(
                "%(added)s added; %(already_listed)s already on the list; %(opted_out)s had opted out and were not "
                "added; %(invalid)s lines were not valid addresses.") % {
                    key: result[key] for key in ("added", "already_listed", "opted_out", "invalid")})
            return redirect("campaigns:recipients", pk=channel.pk)
    rows = list(selectors.list_recipients_for(request.user).filter(channel=channel).order_by("-id")[:PAGE])
    total = selectors.list_recipients_for(request.user).filter(channel=channel).count()
    people = [{"recipient": r, "masked": recipient_services.mask_address(r.address),
               "segments": [s.name for s in r.segments.all()]} for r in rows]
    return render(request, "campaigns/recipients.html", {
        "channel": channel, "people": people, "total": total, "shown": len(rows), "add_form": add,
        "import_form": bulk})


@login_required
@require_POST
def recipient_opt_out(request: HttpRequest, pk: int, recipient_id: int) -> HttpResponse:
    channel = _channel(request, pk)
    if isinstance(channel, HttpResponse):
        return channel
    recipient = selectors.list_recipients_for(request.user).filter(channel=channel, pk=recipient_id).first()
    if recipient is None:
        raise Http404("No such recipient.")
    run_service(request, recipient_services.recipient_opt_out, recipient=recipient,
                reason=request.POST.get("reason", ""), success=gettext("Opted out: they get nothing more."))
    return redirect("campaigns:recipients", pk=channel.pk)


@login_required
@require_safe
def recipient_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The list with addresses in the clear, as CSV: audited before it is built."""
    channel = _channel(request, pk)
    if isinstance(channel, HttpResponse):
        return channel
    rows = run_service(request, recipient_services.recipients_export, channel=channel)
    if rows is None:
        return redirect("campaigns:recipients", pk=channel.pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "address", "language", "segments", "consent_source", "consented_at", "opted_out_at"])
    for row in rows:
        writer.writerow([row["id"], row["address"], row["language"], " ".join(map(str, row["segments"])),
                         row["consent_source"], row["consented_at"], row["opted_out_at"] or ""])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="list-{channel.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response
