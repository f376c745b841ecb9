"""The staff triage inbox, under /desk/inbox/: the list, bulk changes, the export, a reply's page,
subject access and erasure, and the inbox settings. The buttons on a reply's page are in ``actions``.

Views read through ``engage.inbound.selectors`` and write through ``engage.inbound``. Personal
data is masked everywhere except on a reply's page after "Show personal details", which is
audited each time.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import permissions
from accounts.languages import english_name
from accounts.models import Role, Team, User
from accounts.policies import policy_for
from campaigns import selectors as outbound
from campaigns.models import Campaign, Channel, Event, Segment
from campaigns.publishing.reconcile import can_be_asked
from core.errors import ServiceError
from core.ids import parse_id, parse_ids
from core.pii import mask_pii
from core.web import run_service
from engage.inbound import answer_sending, answers, contact_history, policies, retention, selectors, triage
from engage.inbound.classify.category import CATEGORIES
from engage.inbound.forms import (
    AssignForm,
    BulkForm,
    CorrectionForm,
    EscalateForm,
    InboxFilterForm,
    NoteForm,
    RespondForm,
    RetentionForm,
    RightsForm,
    RuleForm,
    SlaForm,
    StatusForm,
    TemplateForm,
)
from engage.inbound.identity import author_label, mask_handle
from engage.models import (
    AnswerStatus,
    AnswerTemplate,
    AnswerTemplateVersion,
    CategoryRule,
    Reply,
    ReplyStatus,
)


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "campaigns/forbidden.html", {"reason": reason}, status=403)


def _reply(request: HttpRequest, pk: int):
    reply = selectors.reply_detail(request.user, pk)
    if reply is None:
        raise Http404("No such reply.")
    return reply


def _row(reply: Any) -> dict[str, Any]:
    return {
        "reply": reply,
        "text": reply.text_masked if reply.processed_at else mask_pii(reply.text),
        "author": author_label(reply.author_key),
    }


# --- the inbox ----------------------------------------------------------------------------------

def _filter_form(request: HttpRequest) -> InboxFilterForm:
    user = request.user
    users: dict[int, User] = {}
    for team_id in sorted(selectors.triage_team_ids(user)):
        for u in selectors.assignable_users(team_id):
            users[u.pk] = u
    data = request.GET.copy() if request.GET else None
    if data is not None and "status" not in data:
        data["status"] = "open"
    return InboxFilterForm(
        data, initial={"status": "open"},
        channels=list(policy_for(Channel).queryset(user, "inbox", outbound.channels_for(user))),
        events=list(policy_for(Event).queryset(user, "inbox", outbound.events_for(user))[:200]),
        campaigns=list(policy_for(Campaign).queryset(user, "inbox", outbound.campaigns_for(user))
                       .filter(archived=False)[:200]),
        segments=list(policy_for(Segment).queryset(user, "inbox", outbound.segments_for(user))),
        users=sorted(users.values(), key=lambda u: u.display_name.lower()),
    )


def _filters_from(form: InboxFilterForm) -> selectors.InboxFilters:
    if not form.is_bound:
        return selectors.InboxFilters(open=True)
    if not form.is_valid():
        return selectors.InboxFilters(open=True)
    d = form.cleaned_data
    status = d.get("status") or ""
    return selectors.InboxFilters(
        open=True if status == "open" else None,
        status=[status] if status and status != "open" else None,
        category=d.get("category") or "", sentiment=d.get("sentiment") or "", language=d.get("language") or "",
        source=d.get("source") or "", channel=d.get("channel"), event=d.get("event"), campaign=d.get("campaign"),
        segment=d.get("segment"), assignee=d.get("assignee") or "", urgent=True if d.get("urgent") else None,
        overdue=True if d.get("overdue") else None, restricted=True if d.get("restricted") else None,
        order=d.get("order") or "",
    )


def _with_lookup(answers_: list, route: Any) -> list:
    """Mark the unconfirmed answers whose platform the reconciler asks (the rest wait for a person)."""
    for answer in answers_:
        answer.can_be_asked = answer.status == AnswerStatus.UNCONFIRMED and can_be_asked(
            answer.channel or (route.channel if route else None))
    return answers_


def _can_use_inbox(user: Any) -> bool:
    return bool(selectors.inbox_team_ids(user) or selectors.restricted_team_ids(user))


@login_required
@require_safe
def inbox_list(request: HttpRequest) -> HttpResponse:
    if not _can_use_inbox(request.user):
        return _forbidden(request, gettext("The inbox is for liaison officers, supervisors and administrators."))
    form = _filter_form(request)
    filters = _filters_from(form)
    page = selectors.CappedPaginator(selectors.reply_list(request.user, filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "engage/inbox/list.html", {
        "form": form, "page": page, "rows": [_row(r) for r in page], "query": query.urlencode(),
        "counts": selectors.inbox_counts(request.user),
        "can_triage": bool(selectors.triage_team_ids(request.user)),
        "can_rights": policy_for(Reply).allows_any(request.user, "administer"),
        "no_reader": selectors.languages_without_reader(request.user),
        "now": timezone.now(),
    })


@login_required
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    ids = parse_ids(request.POST.getlist("ids"), limit=triage.MAX_BULK)
    form = BulkForm(request.POST, ids=ids)
    back = reverse("inbox:list") + ("?" + request.POST["query"] if request.POST.get("query") else "")
    if not form.is_valid():
        flash.error(request, gettext("Choose some replies and an action."))
        return redirect(back)
    found = list(selectors.visible_replies(request.user).filter(pk__in=form.cleaned_data["ids"]))
    action = form.cleaned_data["action"]
    kwargs: dict[str, Any] = {}
    if action == "assign-me":
        action, kwargs["assignee"] = "assign", request.user
    elif action == "assign":
        assignee_id = parse_id(form.cleaned_data.get("assignee"))
        kwargs["assignee"] = User.objects.filter(pk=assignee_id, is_active=True).first() if assignee_id else None
        if kwargs["assignee"] is None:
            flash.error(request, gettext("Choose who to assign them to."))
            return redirect(back)
    elif action == "triaged":
        action, kwargs["status"] = "status", ReplyStatus.TRIAGED
    count = run_service(request, triage.replies_bulk, replies=found, action=action, **kwargs)
    if count:
        flash.success(request, ngettext("%(count)d reply updated.", "%(count)d replies updated.", count) % {"count": count})
    return redirect(back)


@login_required
@require_safe
def inbox_export(request: HttpRequest) -> HttpResponse:
    if not _can_use_inbox(request.user):
        return _forbidden(request, gettext("The inbox is for liaison officers, supervisors and administrators."))
    filters = _filters_from(_filter_form(request))
    rows = selectors.reply_list(request.user, filters)[:10_000]
    content = triage.replies_export_csv(actor=request.user, replies=rows, filters=filters.as_dict())
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="replies.csv"'
    return response


# --- one reply ------------------------------------------------------------------------------------

@login_required
@require_safe
def inbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _reply(request, pk)
    user = request.user
    reveal = request.GET.get("reveal") == "1"
    if reveal:
        try:
            triage.reply_reveal_personal_data(actor=user, reply=reply, purpose="inbox page")
        except ServiceError as exc:
            flash.error(request, exc.message)
            reveal = False
    replies = policy_for(Reply)
    can_triage = replies.may(user, "triage", reply)
    readers = selectors.language_readers(reply.team_id, reply.language)
    reader_ids = [u.pk for u in readers["on_duty"] + readers["off_duty"]]
    users = sorted(selectors.assignable_users(reply.team_id),
                   key=lambda u: reader_ids.index(u.pk) if u.pk in reader_ids else len(reader_ids))
    templates = policies.templates_in_language_first(policies.templates_for_team(reply.team_id), reply.language)
    route = answers.answer_route(reply)
    history = contact_history.reply_contact_history(actor=user, reply=reply)
    # "Preview": exactly what a template would send, built by the sender's own function.
    preview_template = next((t for t in templates if t.pk == parse_id(request.GET.get("preview"))), None)
    preview = None
    if preview_template is not None and can_triage and route is not None:
        preview = answer_sending.answer_preview(reply=reply, template=preview_template)
    return render(request, "engage/inbox/detail.html", {
        "reply": reply,
        "reveal": reveal,
        "text": reply.text if reveal else (reply.text_masked if reply.processed_at else mask_pii(reply.text)),
        "author": author_label(reply.author_key),
        "handle_masked": mask_handle(reply.author_handle),
        # The title names who wrote it as far as this view shows them: "Reply from @jane, 4 Dec".
        "who": (reply.author_handle or reply.author_name if reveal else mask_handle(reply.author_handle))
        or author_label(reply.author_key),
        "answers": _with_lookup(list(reply.answers.select_related("channel")), route),
        "notes": list(reply.notes.all()),
        "corrections": list(reply.corrections.all()),
        "route": route,
        "language_name": english_name(reply.language),
        "readers": readers,
        "readers_line": ", ".join([gettext("%(name)s (on duty)") % {"name": u.display_name} for u in readers["on_duty"]]
                                  + [u.display_name for u in readers["off_duty"]]) or gettext("none"),
        "suggested": readers["on_duty"][0] if readers["on_duty"] else None,
        "can": {
            "triage": can_triage,
            "personal": permissions.can_view_personal_data(user, reply.team_id),
            "hold": replies.may(user, "oversee", reply),
            "draft": replies.may(user, "draft", reply),
            "answer": can_triage and route is not None and reply.redacted_at is None,
        },
        # Unassigned: the on-duty liaison officer who reads its language is offered first.
        "assign_form": AssignForm(initial={"assignee": reply.assignee_id or (
            readers["on_duty"][0].pk if readers["on_duty"] else None)}, users=users),
        "status_form": StatusForm(initial={"status": reply.status}),
        "correction_form": CorrectionForm(initial={"category": reply.category, "sentiment": reply.sentiment,
                                                   "urgent": reply.urgent}),
        "note_form": NoteForm(),
        "escalate_form": EscalateForm(),
        "respond_form": RespondForm(templates=templates, initial={
            "template": preview_template.pk if preview_template else None}),
        "templates": templates,
        "preview_template": preview_template,
        "preview": preview,
        # A mention in front names the person: masked unless their details are open (and audited).
        "preview_text": _preview_text(preview, reveal),
        "history": history,
        "statuses": AnswerStatus,
    })


def _preview_text(preview: Any, reveal: bool) -> str:
    if preview is None:
        return ""
    if reveal or not preview.prefix:
        return preview.text
    return mask_handle(preview.prefix.strip()) + " " + preview.text[len(preview.prefix):]


# --- rights (administrators) ------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def inbox_rights(request: HttpRequest) -> HttpResponse:
    if not policy_for(Reply).allows_any(request.user, "administer"):
        return _forbidden(request, gettext("Subject access and erasure are for administrators."))
    form = RightsForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        handle = form.cleaned_data["handle"]
        if form.cleaned_data["action"] == "export":
            export = run_service(request, retention.replies_subject_access, handle=handle)
            if export is not None:
                response = HttpResponse(json.dumps(export, ensure_ascii=False, indent=2),
                                        content_type="application/json; charset=utf-8")
                response["Content-Disposition"] = 'attachment; filename="subject-access.json"'
                return response
        else:
            result = run_service(request, retention.replies_erase, handle=handle,
                                 reason=form.cleaned_data.get("reason", ""))
            if result is not None:
                flash.success(request, ngettext(
                    "%(erased)d reply erased; %(held)d kept under legal hold; %(lists)d SMS or email list entries "
                    "deleted.", "%(erased)d replies erased; %(held)d kept under legal hold; %(lists)d SMS or email "
                    "list entries deleted.", result["erased"]) % {
                        "erased": result["erased"], "held": result["held"], "lists": result.get("list_entries", 0)})
                return redirect("inbox:rights")
    return render(request, "engage/inbox/rights.html", {"form": form, "result": result})


# --- settings (supervisors: templates; administrators: clocks, retention, rules) -----------------

def _post_id(request: HttpRequest, name: str) -> int:
    """A posted id, or 0 (matches nothing) when it is not one: the one bounded parser, ASCII digits only."""
    return parse_id(request.POST.get(name)) or 0


def _template_versions(user: Any, team: Team) -> list[dict[str, Any]]:
    """Template versions of the team waiting for a second supervisor, and what this user may do."""
    rows = []
    for version in policies.pending_template_versions([team.pk]):
        approved = version.template.approved_version
        to_approve = version.is_pending
        rows.append({
            "version": version, "to_approve": to_approve, "approved": approved if to_approve else None,
            "can_approve": to_approve and permissions.can_approve_answer_template(
                user, team, author_id=version.author_id),
            "can_emergency": to_approve and user.pk == version.author_id
            and permissions.can_emergency_publish(user, team),
            "can_review": not to_approve and user.pk != version.author_id
            and permissions.can_review_emergency_publication(user, team, publisher_id=version.approved_by_id),
        })
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def inbox_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    teams = list(policy_for(Team).queryset(user, "oversee").order_by("name"))
    read_only = not teams  # a liaison officer reads the templates and rules they answer by, and changes nothing
    if read_only:
        if request.method == "POST":
            return _forbidden(request, gettext("Inbox settings are changed by supervisors and administrators."))
        teams = [t for t in policy_for(Team).queryset(user, "view").order_by("name")
                 if permissions.can_triage(user, t)]
    if not teams:
        return _forbidden(request, gettext("Inbox settings are for liaison officers, supervisors and administrators."))
    team = next((t for t in teams if str(t.pk) == (request.POST.get("team") or request.GET.get("team"))), teams[0])
    if request.method == "POST":
        kind = request.POST.get("kind")
        forms_by_kind = {"template": TemplateForm, "sla": SlaForm, "retention": RetentionForm, "rule": RuleForm}
        if kind == "routing":
            from accounts.services import team_update_settings

            run_service(request, team_update_settings, team=team, success=gettext("Routing saved."), changes={
                "restricted_queue": request.POST.get("restricted_queue") == "on",
                "answer_feedback": request.POST.get("answer_feedback") == "on",  # engage.inbound.feedback
            })
        elif kind == "rule-disable":
            rule_id = parse_id(request.POST.get("rule"))
            rule = CategoryRule.objects.filter(pk=rule_id, team=team).first() if rule_id else None
            if rule is not None:
                run_service(request, policies.category_rule_disable, rule=rule, success=gettext("Rule switched off."))
        elif kind in ("template-disable", "template-enable"):
            template = AnswerTemplate.objects.filter(pk=_post_id(request, "template"), team=team).first()
            if template is not None:
                run_service(request, policies.answer_template_set_active, template=template,
                            is_active=kind == "template-enable",
                            success=gettext("Template withdrawn.") if kind == "template-disable"
                            else gettext("Template in use again."))
        elif kind in ("template-approve", "template-review"):
            version = AnswerTemplateVersion.objects.filter(pk=_post_id(request, "version"), template__team=team).first()
            if version is None:
                flash.error(request, gettext("No such template version."))
            elif kind == "template-approve":
                emergency = request.POST.get("emergency") == "on"
                run_service(request, policies.answer_template_approve, version=version, emergency=emergency,
                            expected_hash=request.POST.get("content_hash", ""),
                            success=gettext("Template approved: it is used from now on. As an emergency approval, "
                                            "it waits for a second supervisor's review.") if emergency
                            else gettext("Template approved: it is used from now on."))
            else:
                run_service(request, policies.answer_template_review, version=version,
                            comment=request.POST.get("comment", ""), success=gettext("Approval reviewed."))
        elif kind in forms_by_kind:
            form = forms_by_kind[kind](request.POST)
            if form.is_valid():
                d = form.cleaned_data
                if kind == "template":
                    template = AnswerTemplate.objects.filter(pk=_post_id(request, "template"), team=team).first()
                    run_service(request, policies.answer_template_save, team=team, template=template,
                                success=gettext("Template saved. Another supervisor approves it before it is used."), **d)
                elif kind == "sla":
                    run_service(request, policies.sla_policy_set, team=team, category=d["category"],
                                minutes=d.get("minutes"), success=gettext("Response time saved."))
                elif kind == "retention":
                    run_service(request, policies.retention_policy_set, team=team, category=d["category"],
                                days=d["days"], success=gettext("Retention period saved."))
                else:
                    run_service(request, policies.category_rule_add, team=team, success=gettext("Rule added."), **d)
            else:
                flash.error(request, gettext("Check the form: %(problems)s") % {
                    "problems": "; ".join(e for errs in form.errors.values() for e in errs)})
        return redirect(reverse("inbox:settings") + f"?team={team.pk}")
    from engage.inbound.feedback import feedback_enabled

    slas = [(c, policies.sla_minutes(team_id=team.pk, category=c, urgent=False)) for c in CATEGORIES]
    slas.insert(0, (policies.URGENT, policies.sla_minutes(team_id=team.pk, category="", urgent=True)))
    return render(request, "engage/inbox/settings.html", {
        "teams": teams, "team": team,
        "templates": list(policies.templates_to_manage(team.pk)),
        "template_versions": [] if read_only else _template_versions(user, team),
        "read_only": read_only,
        "slas": slas,
        "retention": sorted((c, d) for c, d in policies.retention_days(team_id=team.pk).items() if c),
        "rules": list(CategoryRule.objects.filter(team=team, is_active=True)),
        "forms": {"template": TemplateForm(), "sla": SlaForm(), "retention": RetentionForm(), "rule": RuleForm()},
        "can_admin": permissions.can_manage_team(user, team),
        "can_templates": permissions.has_role(user, team, {Role.SUPERVISOR}),
        "answer_feedback": feedback_enabled(team.pk),  # inherited from a team above when not set here
    })
