"""What the message page's buttons do: one small view per action, each at its own URL
(``/desk/messages/<pk>/<action>/``, named ``campaigns:message_<action>``).

Every action is signed in and POST only (CSRF on); the message is looked up through the selectors, so
one the user may not see is a 404; the service the action calls decides whether this user may do it
(``accounts.permissions``) and whether the message is in a state that allows it. A refusal or a wrong
state is shown on the message page, where every action leads back.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.http import HttpRequest
from django.utils import timezone

from campaigns import publishing
from campaigns.forms import CommentForm, MediaForm, ScheduleForm, SendNowForm, VariantForm, WithdrawForm
from campaigns.models import Message
from campaigns.services import coverage, workflow
from campaigns.services import messages as message_services
from campaigns.views.messages import _message
from core.web import object_action, run_service

MAX_IMAGE_BYTES = 10 * 1024 * 1024


# An action on one message the user may see (or 404), and back to the message page afterwards.
message_post = object_action(_message, "campaigns:message")


def _form_errors(form: forms.Form) -> str:
    return " ".join(e for errs in form.errors.values() for e in errs)


@message_post
def message_submit(request: HttpRequest, message: Message) -> None:
    run_service(request, workflow.message_submit, message=message, success="Sent for approval.")


@message_post
def message_approve(request: HttpRequest, message: Message) -> None:
    # The hash of the version the supervisor reviewed: a message changed since is not approved.
    run_service(request, workflow.message_approve, message=message,
                expected_hash=request.POST.get("content_hash", ""), success="Approved.")


@message_post
def message_request_changes(request: HttpRequest, message: Message) -> None:
    form = CommentForm(request.POST)
    if form.is_valid():
        run_service(request, workflow.message_request_changes, message=message,
                    comment=form.cleaned_data["comment"], success="Changes requested.")
    else:
        flash.error(request, "Say what needs to change.")


@message_post
def message_apply_plan(request: HttpRequest, message: Message) -> None:
    run_service(request, coverage.message_apply_plan, message=message,
                success="Added the channels the plan proposes.")


@message_post
def message_comment(request: HttpRequest, message: Message) -> None:
    form = CommentForm(request.POST)
    if form.is_valid():
        run_service(request, message_services.comment_add, message=message, body=form.cleaned_data["comment"],
                    success="Comment added.")


def schedule_from_form(request: HttpRequest, message: Message) -> Message | None:
    """The schedule form's one way in, shared by the message page and the calendar's move (drag or
    form): the same form checks (a time that has passed is refused: sending at once is its own,
    explicit action), the same service (``publishing.message_schedule``: the approval check and the
    audit record), and the same confirmation."""
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        flash.error(request, _form_errors(form))
        return None
    when = form.cleaned_data["scheduled_at"]
    return run_service(request, publishing.message_schedule, message=message, scheduled_at=when,
                       success=f"Scheduled for {timezone.localtime(when):%a %d %b %H:%M %Z}.")


@message_post
def message_schedule(request: HttpRequest, message: Message) -> None:
    schedule_from_form(request, message)


@message_post
def message_send_now(request: HttpRequest, message: Message) -> None:
    form = SendNowForm(request.POST)
    if form.is_valid():
        run_service(request, publishing.message_schedule, message=message, scheduled_at=None,
                    success="Sending now.")
    else:
        flash.error(request, _form_errors(form))


@message_post
def message_withdraw(request: HttpRequest, message: Message) -> None:
    form = WithdrawForm(request.POST)
    if form.is_valid():
        run_service(request, publishing.message_withdraw, message=message, reason=form.cleaned_data["reason"],
                    confirmation=str(WithdrawForm.base_fields["confirm"].label),
                    success="Withdrawn. Posts are being taken down where the platform allows.")
    else:
        flash.error(request, _form_errors(form))


@message_post
def message_emergency_review(request: HttpRequest, message: Message) -> None:
    run_service(request, workflow.message_emergency_review, message=message,
                comment=request.POST.get("comment", ""), success="Review recorded.")


@message_post
def message_pause_override(request: HttpRequest, message: Message) -> None:
    run_service(request, publishing.emergency_pause_override, message=message,
                success="Confirmed: this emergency message may go out during the pause.")


@message_post
def message_variant_add(request: HttpRequest, message: Message) -> None:
    form = VariantForm(request.POST, channels=list(message.channels.all()))
    if form.is_valid():
        run_service(request, message_services.variant_add, message=message, **form.cleaned_data,
                    success="Variant added.")
    else:
        flash.error(request, "Check the variant: " + "; ".join(e for errs in form.errors.values() for e in errs))


@message_post
def message_media_add(request: HttpRequest, message: Message) -> None:
    form = MediaForm(request.POST, request.FILES)
    if not form.is_valid():
        flash.error(request, "Choose an image and describe it in the alt text.")
        return
    upload = form.cleaned_data["file"]
    if upload.size > MAX_IMAGE_BYTES:
        flash.error(request, "Images can be at most 10 MB.")
        return
    run_service(request, message_services.media_add, message=message, data=upload.read(),
                alt_text=form.cleaned_data["alt_text"], success="Image added.")
