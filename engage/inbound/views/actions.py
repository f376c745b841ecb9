"""What the buttons on a reply's page do: one small view per action, each at its own URL
(``/desk/inbox/<pk>/<action>/``, named ``inbox:<action>``).

Every action is signed in and POST only (CSRF on); the reply is looked up through the selectors, so
one the user may not see is a 404 (officers see no replies at all), as is an answer that is not this
reply's; the service the action calls decides whether this user may do it (``accounts.permissions``:
``can_triage``, ``can_draft``, the legal-hold roles) and whether the reply or answer is in a state
that allows it. A refusal or a wrong state is shown on the reply's page, where every action leads back.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from accounts.models import User
from core.ids import parse_id
from core.web import object_action, run_service
from engage.inbound import answers, policies, selectors, triage
from engage.inbound.forms import AssignForm, CorrectionForm, EscalateForm, NoteForm, RespondForm, StatusForm
from engage.inbound.views.inbox import _reply
from engage.models import AnswerStatus, AnswerTemplate, Reply, ReplyAnswer

# An action on one reply the user may see (or 404), and back to the reply's page afterwards.
reply_post = object_action(_reply, "inbox:detail")


def _answer(request: HttpRequest, reply: Reply) -> ReplyAnswer:
    """The posted answer, one of this reply's (or 404)."""
    answer = ReplyAnswer.objects.filter(pk=parse_id(request.POST.get("answer")) or 0, reply=reply).first()
    if answer is None:
        raise Http404("No such answer.")
    return answer


# --- triage --------------------------------------------------------------------------------------

@reply_post
def inbox_assign_me(request: HttpRequest, reply: Reply) -> None:
    run_service(request, triage.reply_update, reply=reply, assignee=request.user, success=gettext("Assigned to you."))


@reply_post
def inbox_assign(request: HttpRequest, reply: Reply) -> None:
    form = AssignForm(request.POST, users=list(selectors.assignable_users(reply.team_id)))
    if form.is_valid():
        assignee = User.objects.filter(pk=form.cleaned_data["assignee"]).first() \
            if form.cleaned_data["assignee"] else None
        run_service(request, triage.reply_update, reply=reply, assignee=assignee, success=gettext("Assignment changed."))
    else:
        flash.error(request, gettext("Choose a liaison officer or supervisor of this team."))


@reply_post
def inbox_status(request: HttpRequest, reply: Reply) -> None:
    form = StatusForm(request.POST)
    if form.is_valid():
        run_service(request, triage.reply_update, reply=reply, status=form.cleaned_data["status"],
                    success=gettext("Status changed."))


@reply_post
def inbox_correct(request: HttpRequest, reply: Reply) -> None:
    form = CorrectionForm(request.POST)
    if form.is_valid():
        run_service(request, triage.reply_update, reply=reply, category=form.cleaned_data["category"],
                    sentiment=form.cleaned_data["sentiment"], urgent=form.cleaned_data["urgent"],
                    success=gettext("Classification corrected. Thank you: corrections make the accuracy figure."))


@reply_post
def inbox_note(request: HttpRequest, reply: Reply) -> None:
    form = NoteForm(request.POST)
    if form.is_valid():
        run_service(request, triage.reply_note_add, reply=reply, body=form.cleaned_data["body"],
                    success=gettext("Note added."))
    else:
        flash.error(request, gettext("Write the note."))


@reply_post
def inbox_escalate(request: HttpRequest, reply: Reply) -> None:
    form = EscalateForm(request.POST)
    if form.is_valid():
        run_service(request, triage.reply_escalate, reply=reply, reason=form.cleaned_data["reason"],
                    success=gettext("Escalated to the supervisors."))


def _set_legal_hold(request: HttpRequest, reply: Reply, *, held: bool) -> None:
    run_service(request, triage.reply_update, reply=reply, legal_hold=held,
                success=gettext("Legal hold placed.") if held else gettext("Legal hold lifted."))


@reply_post
def inbox_hold(request: HttpRequest, reply: Reply) -> None:
    _set_legal_hold(request, reply, held=True)


@reply_post
def inbox_unhold(request: HttpRequest, reply: Reply) -> None:
    _set_legal_hold(request, reply, held=False)


# --- answers -------------------------------------------------------------------------------------

@reply_post
def inbox_respond(request: HttpRequest, reply: Reply) -> None:
    form = RespondForm(request.POST, templates=list(policies.templates_for_team(reply.team_id)))
    if form.is_valid():
        template = AnswerTemplate.objects.filter(pk=form.cleaned_data.get("template") or 0).first()
        answer = run_service(request, answers.reply_respond, reply=reply, template=template,
                             body=form.cleaned_data.get("body") or None)
        if answer is not None:
            _answer_flash(request, answer)
    else:
        flash.error(request, " ".join(e for errs in form.errors.values() for e in errs))


@reply_post
def inbox_adopt(request: HttpRequest, reply: Reply) -> None:
    run_service(request, answers.answer_adopt, answer=_answer(request, reply), body=request.POST.get("body") or None,
                success=gettext("Sent for approval as a message."))


def _resolve_unconfirmed(request: HttpRequest, reply: Reply, *, sent: bool) -> None:
    run_service(request, answers.answer_resolve_unconfirmed, answer=_answer(request, reply), sent=sent,
                success=gettext("Recorded."))


@reply_post
def inbox_resolve_sent(request: HttpRequest, reply: Reply) -> None:
    _resolve_unconfirmed(request, reply, sent=True)


@reply_post
def inbox_resolve_not_sent(request: HttpRequest, reply: Reply) -> None:
    _resolve_unconfirmed(request, reply, sent=False)


def _release_held(request: HttpRequest, reply: Reply, *, send: bool) -> None:
    run_service(request, answers.answer_release_held, answer=_answer(request, reply), send=send,
                success=gettext("The answer will be sent now.") if send else gettext("Not sent."))


@reply_post
def inbox_release_held(request: HttpRequest, reply: Reply) -> None:
    _release_held(request, reply, send=True)


@reply_post
def inbox_drop_held(request: HttpRequest, reply: Reply) -> None:
    _release_held(request, reply, send=False)


def _answer_flash(request: HttpRequest, answer: ReplyAnswer) -> None:
    text = {
        AnswerStatus.SENT: gettext("The answer was sent."),
        AnswerStatus.PENDING: gettext("The answer will be sent shortly (the platform asked us to wait, or "
                                      "publishing is paused)."),
        AnswerStatus.AWAITING_APPROVAL: gettext("Your answer is now a message waiting for a supervisor's approval; "
                                                "it is sent as a reply as soon as it is approved."),
        AnswerStatus.PROPOSED: gettext("Your answer was proposed to the supervisors: one of them sends it for approval."),
        AnswerStatus.UNCONFIRMED: gettext("The platform did not confirm the answer. Check it before answering again."),
        AnswerStatus.FAILED: gettext("The answer could not be sent: %(error)s") % {"error": answer.last_error},
    }.get(answer.status, f"Answer {answer.get_status_display().lower()}.")
    (flash.error if answer.status in (AnswerStatus.FAILED, AnswerStatus.UNCONFIRMED) else flash.success)(request, text)


