"""A message's CAP alert fields, set from the message page (priority and emergency only)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from campaigns import selectors
from campaigns.forms_cap import CapForm
from campaigns.services.cap import message_set_cap
from core.web import run_service


@login_required
@require_POST
def message_cap(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.message_detail(request.user, pk)
    if message is None:
        raise Http404("No such message.")
    target = reverse("campaigns:message", kwargs={"pk": pk}) + "#cap-fields"
    if request.POST.get("clear"):
        run_service(request, message_set_cap, message=message, values=None, success=gettext("CAP fields cleared."))
        return redirect(target)
    form = CapForm.for_message(message, data=request.POST)
    if not form.is_valid():
        flash.error(request, gettext("Check the CAP fields: %(problems)s") % {"problems": "; ".join(
            f"{form.fields[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
            for name, errors in form.errors.items())})
        return redirect(target)
    values: dict[str, Any] = dict(form.cleaned_data)
    if values.get("expires") is None:
        values.pop("expires", None)
    run_service(request, message_set_cap, message=message, values=values,
                success=gettext("CAP fields saved. The message needs approval again if it had it."))
    return redirect(target)
