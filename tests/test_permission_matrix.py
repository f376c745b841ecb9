"""Who may reach which URL, generated from the URL conf so that no endpoint escapes.

Every URL name of the project (Django-admin internals aside) is one parametrized item of
``test_permission_matrix`` (the DRF router's ``.json`` format-suffix routes of a name are a second
item). A name with no entry in ``EXPECTED`` fails, so a new endpoint must say who may use it.

Each entry lists the methods the view accepts and, for every role of team A, the outcome class
the policies in ``accounts/permissions.py`` call for:

* ``OK``      the request reached the view's logic: 2xx, 3xx, 400 or 409 (and no refusal);
* ``DENIED``  403, or (HTML forms) the service refused with ``NotAllowed`` and the page says so;
* ``HIDDEN``  404: unknown, or another team's object (never 403, which would confirm it exists);
* ``LOGIN``   sent to sign in: a redirect to the sign-in page for pages, 401 for the API.

URLs naming an object of team A are also requested by the same roles of team B, who must get
``HIDDEN``. Nothing may answer 500. Every principal's request runs in a savepoint that is rolled
back, with an empty cache, so each one meets the same arranged state (a draft, a message in review,
an approved one...). Methods an entry does not list must answer 405. A cell the application does
not honour yet is a ``Bug``: ``test_known_bugs`` holds it as a strict xfail.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from campaigns import publishing
from campaigns.models import Delivery, Message, MessageStatus, Variant
from campaigns.services import messages as message_services
from campaigns.services import workflow
from core import web
from core.errors import NotAllowed, NotFound, ServiceError
from tests.factories import GOOD_BODY, World, make_approved, make_message, make_submitted

OK, DENIED, HIDDEN, LOGIN = "ok", "denied", "hidden", "login"
ROLES = ("officer", "supervisor", "liaison", "admin")


@dataclass(frozen=True)
class Bug:
    """A cell where the application does not yet do what the policy says. The matrix accepts either
    value (so other regressions still show); ``test_known_bugs`` asserts ``want`` and is a strict xfail,
    so it fails, asking for this marker to go, once the bug is fixed."""

    want: str
    now: str
    reason: str


def only(*allowed: str) -> dict[str, Any]:
    """These roles of the object's team may; the other roles are refused."""
    return {role: OK if role in allowed else DENIED for role in ROLES}


def every(outcome: str) -> dict[str, Any]:
    return dict.fromkeys(ROLES, outcome)


EVERYONE = only(*ROLES)          # can_view_team / can_view_metrics: any role of the team
DRAFTERS = only("officer", "supervisor")  # can_draft, can_edit_message, can_submit, can_schedule, ...
SUPERVISOR = only("supervisor")  # can_approve (not the author), can_withdraw, can_pause_publishing, ...
ADMIN = only("admin")            # can_view_audit, can_manage_channels, can_manage_retention
# Citizens' replies: visible to INBOX_ROLES of the team; officers do not see them at all (404).
INBOX = only("liaison", "supervisor", "admin")
INBOX_SEEN = {**INBOX, "officer": HIDDEN}
TRIAGE_SEEN = {**only("liaison", "supervisor"), "officer": HIDDEN}   # can_triage
HOLDERS = {**only("supervisor", "admin"), "officer": HIDDEN}         # legal hold
ADOPTERS = {**only("supervisor"), "officer": HIDDEN}  # can_draft and can_triage: only a supervisor


@pytest.fixture(autouse=True)
def _private_cache(settings: Any, request: pytest.FixtureRequest) -> None:
    """A cache of this test's own: the embedded file cache is shared by every run on the machine, and the
    public form's rate limit and the public page cache live in it."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"engage-matrix-{request.node.nodeid}"}}


# --- the arranged state, one per test function ----------------------------------------------

class Arranged:
    """Objects of team A in the states the cases need, each made on first use (outside the savepoints)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.a = world.a

    @cached_property
    def draft(self) -> Message:
        """By team A's officer, with an Arabic variant."""
        return make_message(self.a)

    @cached_property
    def variant(self) -> Variant:
        return message_services.variant_add(
            actor=self.a.officer, message=self.draft, language="ar",
            body="الطرق مزدحمة قرب الملعب يوم السبت. استخدموا القطار من فضلكم.")

    @cached_property
    def targeted_draft(self) -> Message:
        """A draft for team A's segment: the delivery plan proposes the segment's channels."""
        return make_message(self.a, segments=[self.a.segment])

    @cached_property
    def in_review(self) -> Message:
        return make_submitted(self.a)

    @cached_property
    def own_in_review(self) -> Message:
        """A routine message team A's supervisor wrote: nobody here may approve it (another supervisor must)."""
        return make_submitted(self.a, author=self.a.supervisor)

    @cached_property
    def own_emergency_in_review(self) -> Message:
        """The supervisor's own emergency message: the one exception, self-approval."""
        return make_submitted(self.a, author=self.a.supervisor, urgency="emergency")

    @cached_property
    def approved(self) -> Message:
        return make_approved(self.a)

    @cached_property
    def scheduled(self) -> Message:
        return publishing.message_schedule(actor=self.a.officer, message=make_approved(self.a),
                                           scheduled_at=timezone.now() + timedelta(days=1))

    @cached_property
    def delivery(self) -> Delivery:
        delivery = Delivery.objects.filter(message=self.scheduled).order_by("id").first()
        assert delivery is not None, "scheduling made no deliveries"
        return delivery

    @cached_property
    def emergency_self_approved(self) -> Message:
        """The second supervisor's own emergency message, self-approved: the supervisor may review it."""
        message = make_submitted(self.a, author=self.a.supervisor2, urgency="emergency")
        message = workflow.message_approve(actor=self.a.supervisor2, message=message)
        assert message.emergency_self_approved
        return message

    @cached_property
    def emergency_approved(self) -> Message:
        """The officer's emergency message, approved by the second supervisor."""
        return workflow.message_approve(actor=self.a.supervisor2, message=make_submitted(self.a, urgency="emergency"))

    @cached_property
    def published(self) -> Message:
        message = publishing.message_schedule(actor=self.a.officer, message=make_approved(self.a), scheduled_at=None)
        # Stand in for the worker: the deliveries went out.
        Delivery.objects.filter(message=message).update(status="sent")
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.PUBLISHED, published_at=timezone.now())
        return message

    @cached_property
    def published_alert(self) -> Message:
        """A published priority message: a CAP alert."""
        return self._publish(make_message(self.a, urgency="priority"))

    @cached_property
    def image(self) -> Any:
        """The image of a published message, as the public pages serve it."""
        message = make_message(self.a)
        asset = message_services.media_add(actor=self.a.officer, message=message, data=self.png,
                                           alt_text="A map of the roads closed near the stadium")
        self._publish(message)
        return asset

    def _publish(self, message: Message) -> Message:
        """Approve, schedule now and send on the public channel, as the worker would."""
        from campaigns.publishing import deliveries_claim_due, delivery_send

        message = workflow.message_submit(actor=self.a.officer, message=message)
        message = workflow.message_approve(actor=self.a.supervisor, message=message)
        publishing.message_schedule(actor=self.a.officer, message=message, scheduled_at=None)
        for delivery_id, token, _urgent in deliveries_claim_due():
            delivery_send(delivery_id=delivery_id, token=token)
        message.refresh_from_db()
        assert message.status in (MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED), message.status
        return message

    @cached_property
    def rumour(self) -> Any:
        from campaigns.services.rumours import rumour_create

        return rumour_create(actor=self.a.officer, event=self.a.event, claim="The match is cancelled.")

    @cached_property
    def rumour_verdict(self) -> Any:
        from campaigns.services.rumours import rumour_verdict_write

        return rumour_verdict_write(actor=self.a.officer, rumour=self.rumour, status="false",
                                    explanation="The match goes ahead.")

    @cached_property
    def reply(self) -> Any:
        """A processed citizen reply on team A's Mastodon account: answerable."""
        return self._reply("matrix-1")

    @cached_property
    def held_reply(self) -> Any:
        """A reply under legal hold."""
        from engage.inbound.triage import reply_update

        return reply_update(actor=self.a.supervisor, reply=self._reply("matrix-2"), legal_hold=True)

    def _reply(self, provider_id: str) -> Any:
        from engage.inbound.ingest import reply_store
        from engage.inbound.processing import reply_process
        from engage.models import Reply

        stored = reply_store(team_id=self.a.team.pk, channel=self.a.mastodon, source="mastodon",
                             provider_id=provider_id, text="What time do the gates open?", author_handle="@jane",
                             author_name="Jane Doe", received_at=timezone.now(), raw_payload={"text": "…"})
        reply_process(reply_id=stored.reply_id)
        return Reply.objects.get(pk=stored.reply_id)

    @cached_property
    def answer(self) -> Any:
        """A liaison officer's free-text answer proposed for a supervisor to adopt (as answers were before
        liaison officers drafted their own: such rows are still adopted)."""
        from engage.inbound.answers import reply_respond
        from engage.models import ReplyAnswer

        answer = reply_respond(actor=self.a.liaison, reply=self.reply, template=None, body="Gates open at 13:00.")
        ReplyAnswer.objects.filter(pk=answer.pk).update(status="proposed", message=None)
        answer.refresh_from_db()
        return answer

    @cached_property
    def png(self) -> bytes:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, format="PNG")
        return buffer.getvalue()

    @property
    def event(self):
        return self.a.event

    @cached_property
    def watch(self) -> Any:
        """A watch of team A's event set up by its second supervisor, waiting for approval."""
        from engage.awareness.services import watch_create

        return watch_create(actor=self.a.supervisor2, event=self.a.event, purpose="Spot crushes.",
                            window_start=timezone.now(), window_end=timezone.now() + timedelta(days=1),
                            hashtags=["DerbyDay"], instances=["https://social.example"])

    @cached_property
    def awareness_candidate(self) -> Any:
        from engage.awareness.models import RumourCandidate, Watch

        watch = Watch.objects.create(event=self.a.event, purpose="Spot rumours.", window_start=timezone.now(),
                                     window_end=timezone.now() + timedelta(days=1), created_by=self.a.supervisor2,
                                     approved_by=self.a.supervisor, status="approved", hashtags=["DerbyDay"])
        return RumourCandidate.objects.create(watch=watch, claim="The match is off.", tokens=["match", "off"],
                                              count=5, first_seen=timezone.now(), last_seen=timezone.now())

    @property
    def campaign(self):
        return self.a.campaign

    @property
    def segment(self):
        return self.a.segment

    @property
    def channel(self):
        return self.a.mastodon

    @property
    def sms_channel(self):
        """Team A's SMS list (the factory puts one recipient on it)."""
        return self.a.sms

    @property
    def list_recipient(self):
        return self.a.sms.list_recipients.order_by("pk").first()

    @property
    def inbound_channel(self):
        """Team A's SMS gateway: its webhooks are signed (Twilio's scheme) with the channel's auth token."""
        return self.a.sms


# --- the expectation table --------------------------------------------------------------------

Body = Callable[[Arranged], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    method: str
    expect: Mapping[str, Any]            # team A's roles -> outcome (or a known Bug)
    anon: str = LOGIN                    # signed out
    other_team: str | None = None        # team B's roles; by default HIDDEN when the URL names an object
    subject: str | None = None           # which arranged object fills <pk> (default: by the route's prefix)
    action: str | None = None            # fills <slug:action>
    body: Body | None = None
    multipart: bool = False              # API only: send the body as multipart/form-data
    query: str | Callable[[Arranged], str] = ""  # appended to the URL, e.g. "?handle=@jane"

    @property
    def label(self) -> str:
        return self.method + (f" {self.action}" if self.action else "") + (f" ({self.subject})" if self.subject else "")


def GET(expect: Mapping[str, Any], **kw: Any) -> Case:  # noqa: N802 - reads like the HTTP verb
    return Case("GET", expect, **kw)


def POST(expect: Mapping[str, Any], **kw: Any) -> Case:  # noqa: N802
    return Case("POST", expect, **kw)


def PATCH(expect: Mapping[str, Any], **kw: Any) -> Case:  # noqa: N802
    return Case("PATCH", expect, **kw)


def DELETE(expect: Mapping[str, Any], **kw: Any) -> Case:  # noqa: N802
    return Case("DELETE", expect, **kw)


PUBLIC = {"anon": OK, "other_team": OK}


def _future(days: int = 30) -> str:
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _message_form(x: Arranged) -> dict[str, Any]:
    return {"campaign": x.campaign.pk, "body": GOOD_BODY, "language": "en", "urgency": "routine",
            "channels": [x.world.a.public.pk], "instructive": "on"}


def _event_form(x: Arranged) -> dict[str, Any]:
    return {"team": x.world.a.team.pk, "name": "Harbour parade", "kind": "planned", "starts_at": _future(),
            "risk_level": "low", "location": "Harbour"}


def _image(x: Arranged) -> dict[str, Any]:
    upload = io.BytesIO(x.png)
    upload.name = "map.png"
    return {"file": upload, "alt_text": "A map of the roads closed near the stadium"}


# kind: "page" (signed-in HTML), "api" (DRF), "public" (no sign-in), "admin" (Django admin, staff only)
EXPECTED: dict[str, tuple[str, list[Case]]] = {
    # Signing in and out: open to everyone; a signed-in visitor of the sign-in page is sent on.
    "accounts:login": ("page", [GET(EVERYONE, anon=OK), POST(EVERYONE, anon=OK, body=lambda x: {})]),
    "accounts:logout": ("page", [POST(every(LOGIN))]),  # everyone ends on the sign-in page
    "accounts:otp": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {"otp": "000000"})]),
    "accounts:otp_setup": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {"otp": "000000"})]),
    "accounts:password_change": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {})]),  # a form error
    "accounts:sign_out_everywhere": ("page", [POST(every(LOGIN))]),  # everyone ends on the sign-in page
    "accounts:password_reset": ("page", [GET(EVERYONE, anon=OK),
                                         POST(EVERYONE, anon=OK, body=lambda x: {"email": "nobody@example.org"})]),
    "accounts:password_reset_done": ("page", [GET(EVERYONE, anon=OK)]),
    "accounts:password_reset_confirm": ("page", [GET(EVERYONE, anon=OK),
                                                 POST(EVERYONE, anon=OK, body=lambda x: {})]),
    "accounts:password_reset_complete": ("page", [GET(EVERYONE, anon=OK)]),
    # The desk: role home, audit trail (admins only), alerts.
    "desk_accounts:home": ("page", [GET(EVERYONE)]),
    "desk_accounts:audit": ("page", [GET(ADMIN)]),
    "desk_accounts:audit_export": ("page", [GET(ADMIN)]),
    "desk_accounts:notifications": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {})]),
    # One's own alert settings: every signed-in person, for themself only.
    "desk_accounts:notification_settings": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {})]),
    "desk_accounts:reading_languages": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {"languages": ["ti"]})]),
    # Each person's own desk language; there is no page for anyone else's.
    "desk_accounts:desk_language": ("page", [GET(EVERYONE), POST(EVERYONE, body=lambda x: {"language": "cy"})]),
    # Team A's liaison: the liaison themselves, or an administrator of their team.
    "desk_accounts:reading_languages_of": ("page", [
        GET({**every(HIDDEN), "liaison": OK, "admin": OK}),
        POST({**every(HIDDEN), "liaison": OK, "admin": OK}, body=lambda x: {"languages": ["ti", "en"]})]),
    # Messages.
    "campaigns:messages": ("page", [GET(EVERYONE)]),
    "campaigns:message_new": ("page", [GET(DRAFTERS), POST(DRAFTERS, body=_message_form)]),
    "campaigns:message": ("page", [GET(EVERYONE)]),
    "campaigns:message_deliveries": ("page", [GET(EVERYONE)]),  # the panel the message page refreshes
    "campaigns:message_edit": ("page", [GET(DRAFTERS), POST(DRAFTERS, body=_message_form)]),
    # The message page's buttons, one URL each (campaigns/views/message_actions.py): the service decides.
    "campaigns:message_submit": ("page", [POST(DRAFTERS)]),
    "campaigns:message_approve": ("page", [
        POST(SUPERVISOR, subject="in_review",  # the officer wrote it: refused too
             body=lambda x: {"content_hash": x.in_review.content_hash}),
        POST(every(DENIED), subject="own_in_review",  # never one's own routine message
             body=lambda x: {"content_hash": x.own_in_review.content_hash}),
        POST(SUPERVISOR, subject="own_emergency_in_review",  # the emergency exception
             body=lambda x: {"content_hash": x.own_emergency_in_review.content_hash}),
    ]),
    "campaigns:message_request_changes": ("page", [
        POST(SUPERVISOR, subject="in_review", body=lambda x: {"comment": "Please say which station."}),
        POST(every(DENIED), subject="own_in_review", body=lambda x: {"comment": "Please say which station."}),
    ]),
    "campaigns:message_comment": ("page", [POST(DRAFTERS, body=lambda x: {"comment": "Looks right."})]),
    "campaigns:message_apply_plan": ("page", [POST(DRAFTERS, subject="targeted_draft"),
                                              POST({**DRAFTERS, "liaison": DENIED, "admin": DENIED})]),
    "campaigns:message_schedule": ("page", [POST(DRAFTERS, subject="approved",
                                                 body=lambda x: {"scheduled_at": _future(2)})]),
    "campaigns:message_send_now": ("page", [POST(DRAFTERS, subject="approved", body=lambda x: {"confirm": "on"})]),
    "campaigns:message_withdraw": ("page", [POST(SUPERVISOR, subject="scheduled",
                                                 body=lambda x: {"reason": "Match postponed", "confirm": "on"})]),
    "campaigns:message_emergency_review": ("page", [POST(SUPERVISOR, subject="emergency_self_approved",
                                                         body=lambda x: {"comment": "Checked."})]),
    "campaigns:message_pause_override": ("page", [POST(SUPERVISOR, subject="emergency_approved")]),
    "campaigns:message_variant_add": ("page", [POST(DRAFTERS, body=lambda x: {
        "language": "fr", "format": "standard", "body": "Routes chargées samedi. #DerbyDay"})]),
    "campaigns:message_media_add": ("page", [POST(DRAFTERS, body=_image)]),
    "campaigns:variant_delete": ("page", [POST(DRAFTERS)]),
    "campaigns:delivery": ("page", [GET(EVERYONE)]),  # a redirect to its row on its message's page
    "campaigns:delivery_action": ("page", [
        POST(DRAFTERS, action="retry"),          # can_schedule; a pending delivery: 409-like refusal is OK
        POST(DRAFTERS, action="posted"),
        POST(DRAFTERS, action="not-posted"),
        POST(SUPERVISOR, action="release"),      # can_pause_publishing
        POST(SUPERVISOR, action="skip"),
        POST(every(HIDDEN), action="no-such-action"),
    ]),
    "campaigns:review": ("page", [GET(SUPERVISOR)]),
    "public-words": ("page", [GET(SUPERVISOR)]),  # event drafts, rumour verdicts, templates to approve
    "campaigns:media": ("page", [GET(EVERYONE)]),  # a message's image, for its team only
    # The metrics dashboard and event reports (can_view_metrics: any role of the team).
    "dashboard:index": ("page", [GET(EVERYONE)]),
    "dashboard:report": ("page", [GET(EVERYONE)]),
    "dashboard:report_pdf": ("page", [GET(EVERYONE)]),
    "campaigns:calendar": ("page", [GET(EVERYONE)]),
    # Moving a scheduled message from the calendar: the schedule form's service decides (can_schedule).
    "campaigns:calendar_move": ("page", [POST(DRAFTERS, subject="scheduled",
                                              body=lambda x: {"scheduled_at": _future(3)})]),
    # Events and playbooks.
    "campaigns:events": ("page", [GET(EVERYONE)]),
    "campaigns:event_new": ("page", [GET(DRAFTERS), POST(DRAFTERS, body=_event_form)]),
    "campaigns:event": ("page", [GET(EVERYONE), POST(DRAFTERS, body=_event_form)]),
    "campaigns:event_phase": ("page", [POST(SUPERVISOR, body=lambda x: {"phase": "during", "reason": "Kick-off"})]),
    "campaigns:event_publish": ("page", [POST(SUPERVISOR, body=lambda x: {"content_hash": "0" * 64})]),
    "campaigns:playbooks": ("page", [GET(EVERYONE)]),
    # Segments, channels, publishing controls.
    "campaigns:segments": ("page", [GET(EVERYONE)]),
    "campaigns:segment_new": ("page", [GET(DRAFTERS),
                                       POST(DRAFTERS, body=lambda x: {"team": x.world.a.team.pk, "name": "Families"})]),
    "campaigns:segment": ("page", [GET(EVERYONE),
                                   POST(DRAFTERS, body=lambda x: {"team": x.world.a.team.pk, "name": "Families",
                                                                  "languages": "en pl"})]),
    "campaigns:channels": ("page", [GET(EVERYONE), POST(ADMIN, body=lambda x: {
        "team": x.world.a.team.pk, "kind": "public", "name": "Website",
        "config": '{"site_url": "http://testserver"}'})]),
    # The people on a list channel: team administrators (can_manage_channels); exports are audited.
    "campaigns:recipients": ("page", [GET(ADMIN, subject="sms_channel"), POST(ADMIN, subject="sms_channel", body=lambda x: {
        "action": "add", "add-address": "+447700900998", "add-language": "fa", "add-consent_source": "form"})]),
    "campaigns:recipients_export": ("page", [GET(ADMIN, subject="sms_channel")]),
    "campaigns:recipient_opt_out": ("page", [POST(ADMIN, subject="sms_channel", body=lambda x: {"reason": "Asked"})]),
    "campaigns:publishing": ("page", [GET(EVERYONE),
                                      POST(SUPERVISOR, body=lambda x: {"reason": "Incident", "team": x.world.a.team.pk})]),
    # Rumour control (can_manage_events to register, can_set_rumour_status to decide) and CAP fields.
    "campaigns:rumours": ("page", [GET(EVERYONE), POST(DRAFTERS, body=lambda x: {"claim": "Gates close early."})]),
    # Writing a verdict is for drafters; publishing it (by someone who did not write it) and the
    # after-review of an emergency self-publication are for supervisors.
    "campaigns:rumour_status": ("page", [POST(DRAFTERS, body=lambda x: {
        f"r{x.rumour.pk}-status": "false", f"r{x.rumour.pk}-explanation": "The match goes ahead as planned."})]),
    "campaigns:rumour_verdict_publish": ("page", [POST(SUPERVISOR, body=lambda x: {
        "content_hash": x.rumour_verdict.content_hash})]),
    "campaigns:rumour_verdict_review": ("page", [POST(SUPERVISOR, body=lambda x: {"comment": "Checked."})]),
    "campaigns:message_cap": ("page", [POST(DRAFTERS, subject="draft", body=lambda x: {"clear": "1"})]),
    # The triage inbox: liaison officers, supervisors and administrators (INBOX_ROLES); officers do not
    # see citizens' replies at all (404), administrators see them but do not triage (can_triage).
    "inbox:list": ("page", [GET(INBOX)]),
    "inbox:export": ("page", [GET(INBOX)]),
    # An officer's bulk request drops the replies it cannot see: "Choose at least one reply." (no leak).
    "inbox:bulk": ("page", [POST({**TRIAGE_SEEN, "officer": OK},
                                 body=lambda x: {"ids": [x.reply.pk], "action": "triaged"})]),
    "inbox:rights": ("page", [GET(ADMIN), POST(ADMIN, body=lambda x: {"handle": "@jane", "action": "export"})]),
    "inbox:settings": ("page", [
        GET(only("liaison", "supervisor", "admin")),  # a liaison officer reads it (engage/inbox/settings.html)
        POST(ADMIN, body=lambda x: {"kind": "sla", "team": x.world.a.team.pk, "category": "question",
                                    "minutes": 90}),
        POST(SUPERVISOR, body=lambda x: {"kind": "template", "team": x.world.a.team.pk, "title": "Gates",
                                         "language": "en", "purpose": "general",
                                         "body": "Gates open two hours before kick-off."}),
    ]),
    "inbox:detail": ("page", [GET(INBOX_SEEN)]),
    # The buttons on a reply's page, one URL each (engage/inbound/views/actions.py): the service decides.
    "inbox:assign_me": ("page", [POST(TRIAGE_SEEN)]),
    "inbox:assign": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"assignee": x.world.a.liaison.pk})]),
    "inbox:status": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"status": "triaged"})]),
    "inbox:correct": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"category": "question", "sentiment": "neutral"})]),
    "inbox:note": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"body": "Asked twice today."})]),
    "inbox:escalate": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"reason": "Needs a supervisor."})]),
    "inbox:hold": ("page", [POST(HOLDERS)]),
    "inbox:unhold": ("page", [POST(HOLDERS, subject="held_reply")]),
    "inbox:respond": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"body": "Gates open at 13:00."})]),
    "inbox:adopt": ("page", [POST(ADOPTERS, body=lambda x: {"answer": x.answer.pk})]),
    "inbox:resolve_sent": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"answer": x.answer.pk})]),
    "inbox:resolve_not_sent": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"answer": x.answer.pk})]),
    "inbox:release_held": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"answer": x.answer.pk})]),
    "inbox:drop_held": ("page", [POST(TRIAGE_SEEN, body=lambda x: {"answer": x.answer.pk})]),
    # The API (signed out: 401).
    "api-token": ("api", [POST(EVERYONE, anon=OK, body=lambda x: {})]),  # a 400: no credentials given
    "api-me": ("api", [GET(EVERYONE)]),
    "api-logout": ("api", [POST(EVERYONE)]),  # anyone signs themselves out
    "api-logout-all": ("api", [POST(EVERYONE)]),
    "api-checks": ("api", [POST(EVERYONE, body=lambda x: {"body": "Roads are busy.", "channels": ["sms"]})]),
    "api-pause": ("api", [POST(SUPERVISOR, other_team=HIDDEN,
                               body=lambda x: {"reason": "Incident", "team": x.world.a.team.pk})]),
    "api-resume": ("api", [POST(SUPERVISOR, other_team=HIDDEN,
                                body=lambda x: {"reason": "Clear", "team": x.world.a.team.pk})]),
    # Platform webhooks carry no session: the channel's signature decides, the same for everyone.
    # Unsigned, every request is refused with 401 (auth.missing).
    "api-inbound": ("api", [POST(every(LOGIN), anon=LOGIN, other_team=LOGIN, body=lambda x: {"Body": "hi"})]),
    "api-metrics-trust": ("api", [GET(EVERYONE)]),  # can_view_metrics: any role, over its own teams
    "api-metrics-series": ("api", [GET(EVERYONE, other_team=HIDDEN, query=lambda x: (
        f"?metric=median_response_seconds&interval=day&event={x.event.pk}"))]),
    "api-metrics-export": ("api", [GET(EVERYONE, other_team=HIDDEN, query=lambda x: f"?event={x.event.pk}")]),
    "reply-list": ("api", [GET(EVERYONE)]),  # everyone gets the replies they may see (officers: none)
    "reply-detail": ("api", [GET(INBOX_SEEN), PATCH(TRIAGE_SEEN, body=lambda x: {"status": "triaged"})]),
    "reply-bulk": ("api", [POST(TRIAGE_SEEN, other_team=HIDDEN, body=lambda x: {
        "ids": [x.reply.pk], "action": "status", "status": "triaged"})]),
    "reply-export": ("api", [GET(INBOX)]),
    "reply-subject-access": ("api", [GET(ADMIN, query="?handle=@jane")]),
    "reply-erase": ("api", [POST(ADMIN, body=lambda x: {"handle": "@jane", "reason": "Request 12"})]),
    "reply-respond": ("api", [POST(TRIAGE_SEEN, body=lambda x: {"body": "Gates open at 13:00."})]),
    "reply-adopt": ("api", [POST(ADOPTERS)]),
    "reply-release": ("api", [POST(TRIAGE_SEEN, body=lambda x: {"send": False})]),  # not held: a 409
    "reply-escalate": ("api", [POST(TRIAGE_SEEN, body=lambda x: {"reason": "Needs a supervisor."})]),
    "reply-notes": ("api", [POST(TRIAGE_SEEN, body=lambda x: {"body": "Asked twice today."})]),
    "event-list": ("api", [GET(EVERYONE), POST(DRAFTERS, body=lambda x: {
        "team": x.world.a.team.pk, "name": "Harbour parade", "kind": "planned",
        "starts_at": (timezone.now() + timedelta(days=9)).isoformat()})]),
    "event-detail": ("api", [GET(EVERYONE), PATCH(DRAFTERS, body=lambda x: {"location": "Harbour"})]),
    "event-phase": ("api", [POST(SUPERVISOR, body=lambda x: {"phase": "during", "reason": "Kick-off"})]),
    "event-publish": ("api", [POST(SUPERVISOR, body=lambda x: {"content_hash": "0" * 64})]),
    "campaign-list": ("api", [GET(EVERYONE), POST(DRAFTERS, body=lambda x: {"name": "Extra",
                                                                            "team": x.world.a.team.pk})]),
    "campaign-detail": ("api", [GET(EVERYONE), PATCH(DRAFTERS, body=lambda x: {"description": "Matchday"})]),
    "message-list": ("api", [GET(EVERYONE), POST(DRAFTERS, body=lambda x: {"campaign": x.campaign.pk,
                                                                           "body": GOOD_BODY})]),
    "message-detail": ("api", [GET(EVERYONE), PATCH(DRAFTERS, body=lambda x: {"title": "Roads"})]),
    "message-approve": ("api", [POST(SUPERVISOR, subject="in_review",
                                     body=lambda x: {"content_hash": x.in_review.content_hash}),
                                POST(every(DENIED), subject="own_in_review",
                                     body=lambda x: {"content_hash": x.own_in_review.content_hash}),
                                POST(SUPERVISOR, subject="own_emergency_in_review",
                                     body=lambda x: {"content_hash": x.own_emergency_in_review.content_hash})]),
    "message-request-changes": ("api", [POST(SUPERVISOR, subject="in_review",
                                             body=lambda x: {"comment": "Say which station."}),
                                        POST(every(DENIED), subject="own_in_review",
                                             body=lambda x: {"comment": "Say which station."})]),
    "message-comments": ("api", [POST(DRAFTERS, body=lambda x: {"comment": "Looks right."})]),
    "message-deliveries": ("api", [GET(EVERYONE, subject="scheduled")]),
    "message-coverage": ("api", [GET(EVERYONE, subject="targeted_draft")]),
    "message-apply-plan": ("api", [POST(DRAFTERS, subject="targeted_draft"),
                                   POST({**DRAFTERS, "liaison": DENIED, "admin": DENIED})]),
    "message-emergency-review": ("api", [POST(SUPERVISOR, subject="emergency_self_approved",
                                              body=lambda x: {"comment": "Checked."})]),
    "message-findings": ("api", [GET(EVERYONE)]),
    "message-history": ("api", [GET(EVERYONE)]),
    "message-media": ("api", [POST(DRAFTERS, body=_image, multipart=True)]),
    "message-pause-override": ("api", [POST(SUPERVISOR, subject="emergency_approved")]),
    "message-schedule": ("api", [POST(DRAFTERS, subject="approved", body=lambda x: {
        "scheduled_at": (timezone.now() + timedelta(days=2)).isoformat()})]),
    "message-submit": ("api", [POST(DRAFTERS)]),
    "message-variants": ("api", [POST(DRAFTERS, body=lambda x: {"language": "fr", "body": "Routes chargées samedi."})]),
    "message-withdraw": ("api", [POST(SUPERVISOR, subject="scheduled", body=lambda x: {"reason": "Postponed"})]),
    "variant-detail": ("api", [GET(EVERYONE), PATCH(DRAFTERS, body=lambda x: {"body": "الطرق مزدحمة يوم السبت."}),
                               DELETE(DRAFTERS)]),
    "segment-list": ("api", [GET(EVERYONE), POST(DRAFTERS, body=lambda x: {"name": "Families",
                                                                           "team": x.world.a.team.pk})]),
    "segment-detail": ("api", [GET(EVERYONE), PATCH(DRAFTERS, body=lambda x: {"description": "Parents"})]),
    "channel-list": ("api", [GET(EVERYONE), POST(ADMIN, body=lambda x: {
        "team": x.world.a.team.pk, "kind": "public", "name": "Website", "config": {"site_url": "http://testserver"}})]),
    "channel-detail": ("api", [GET(EVERYONE), PATCH(ADMIN, body=lambda x: {"name": "Mastodon (main)"})]),
    # Others see an empty list, and no one of them (404) by id.
    "recipient-list": ("api", [GET(EVERYONE), POST(ADMIN, body=lambda x: {
        "channel": x.sms_channel.pk, "address": "+447700900997", "language": "ar", "consent_source": "form"})]),
    "recipient-detail": ("api", [GET({**every(HIDDEN), "admin": OK})]),
    "recipient-opt-out": ("api", [POST({**every(HIDDEN), "admin": OK}, body=lambda x: {"reason": "Asked"})]),
    "recipient-import": ("api", [POST(ADMIN, body=lambda x: {
        "channel": x.sms_channel.pk, "text": "+447700900996\n+447700900995,fa", "consent_source": "paper"})]),
    "recipient-export": ("api", [GET(ADMIN, query=lambda x: f"?channel={x.sms_channel.pk}")]),
    # The OpenAPI schema and its browsable page are public, as the contract says.
    "api-schema": ("api", [GET(EVERYONE, anon=OK)]),
    "api-docs": ("api", [GET(EVERYONE, anon=OK)]),
    # Public pages.
    "public:home": ("public", [GET(EVERYONE, anon=OK)]),
    "public:news": ("public", [GET(EVERYONE, anon=OK)]),
    "public:news_detail": ("public", [GET(EVERYONE, **PUBLIC)]),
    "public:event": ("public", [GET(EVERYONE, **PUBLIC)]),
    "public:event_updates": ("public", [GET(EVERYONE, **PUBLIC)]),
    "public:feed_news": ("public", [GET(EVERYONE, anon=OK)]),
    "public:feed_event": ("public", [GET(EVERYONE, **PUBLIC)]),
    "public:feed_cap": ("public", [GET(EVERYONE, anon=OK)]),
    "public:cap_alert": ("public", [GET(EVERYONE, subject="published_alert", **PUBLIC)]),
    "public:image": ("public", [GET(EVERYONE, **PUBLIC)]),
    "public:contact": ("public", [GET(EVERYONE, anon=OK),
                                  POST(EVERYONE, anon=OK, body=lambda x: {"text": "Where is lost property?"})]),
    "public:contact_force": ("public", [GET(EVERYONE, anon=OK),
                                        POST(EVERYONE, anon=OK, body=lambda x: {"text": "Where is lost property?"})]),
    "public:news_reply": ("public", [GET(EVERYONE, **PUBLIC),
                                     POST(EVERYONE, **PUBLIC, body=lambda x: {"text": "Thank you."})]),
    "public:how_we_use_messages": ("public", [GET(EVERYONE, anon=OK)]),
    # "Did this answer help?": anyone with the link; the matrix's token is not a valid one, so a friendly 400.
    "public:feedback": ("public", [GET(EVERYONE, anon=OK), POST(EVERYONE, anon=OK, body=lambda x: {"helpful": "yes"})]),
    "public:transparency": ("public", [GET(EVERYONE, anon=OK)]),  # anonymised aggregates only
    # the published audit chain heads: public to all; before the first publication there is none (404 for all)
    "public:audit_head": ("public", [GET(every(HIDDEN), anon=HIDDEN)]),
    "public:audit_heads": ("public", [GET(EVERYONE, anon=OK)]),
    "public:audit_key": ("public", [GET(every(HIDDEN), anon=HIDDEN)]),
    # Django's admin: staff only; no Engage role is staff, so everyone is sent to the admin's sign-in.
    "admin:index": ("admin", [GET(every(LOGIN))]),
    # Event awareness (issue 18): the event team's desk sees the watches (administrators an empty list);
    # a supervisor sets one up, a second supervisor approves it, a supervisor stops it and decides on
    # rumour candidates. Administrators hold no awareness role: another team's watch is 404 to them.
    "awareness:list": ("page", [GET(EVERYONE)]),
    "awareness:new": ("page", [GET(SUPERVISOR, subject="event"), POST(SUPERVISOR, subject="event", body=lambda x: {
        "purpose": "Spot crushes and rumours.", "window_start": _future(1), "window_end": _future(2),
        "retention_hours": "24", "hashtags": "DerbyDay", "instances": "https://social.example", "feed_urls": ""})]),
    "awareness:approve": ("page", [POST({**SUPERVISOR, "admin": HIDDEN}, subject="watch")]),
    "awareness:stop": ("page", [POST({**SUPERVISOR, "admin": HIDDEN}, subject="watch")]),
    "awareness:promote": ("page", [POST({**SUPERVISOR, "admin": HIDDEN}, subject="awareness_candidate")]),
    "awareness:dismiss": ("page", [POST({**SUPERVISOR, "admin": HIDDEN}, subject="awareness_candidate")]),
}

# Which arranged object fills <pk>, by the route's first segment.
SUBJECT_BY_PREFIX = {
    "messages": "draft", "variants": "variant", "deliveries": "delivery", "events": "event",
    "campaigns": "campaign", "segments": "segment", "channels": "channel", "news": "published",
    "rumours": "rumour", "rumour-verdicts": "rumour_verdict", "cap": "draft", "inbox": "reply", "replies": "reply",
    "feeds": "event", "img": "image", "media": "image", "dashboard": "event", "recipients": "list_recipient",
}


# --- walking the URL conf ---------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    name: str
    route: str
    params: tuple[str, ...]
    takes_no_format: bool = False  # a DRF @action whose method has no `format` parameter


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def _action_takes_no_format(callback: Any) -> bool:
    """A DRF @action (extra action) whose method cannot take the router's ``format`` keyword."""
    import inspect

    viewset, actions = getattr(callback, "cls", None), getattr(callback, "actions", None) or {}
    for method_name in actions.values():
        method = getattr(viewset, method_name, None)
        if method is None or not hasattr(method, "mapping"):
            continue
        parameters = inspect.signature(method).parameters.values()
        if not any(p.name == "format" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            return True
    return False


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern),
                             f"{namespace}:{ns}" if namespace and ns else (ns or namespace))
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name, entry.callback


def _skipped(route: str, name: str | None) -> bool:
    plain = route.lstrip("^")
    if plain.startswith("admin/"):
        return name != "admin:index"  # the admin's own models and views are Django's business
    return any(plain.startswith(url.lstrip("/")) for url in (settings.STATIC_URL, settings.MEDIA_URL) if url)


def discover() -> list[Route]:
    routes = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if _skipped(route, name):
            continue
        params = tuple(a or b for a, b in _PARAM.findall(route))
        routes.append(Route(name=name or f"<unnamed {route}>", route=route, params=params,
                            takes_no_format=_action_takes_no_format(callback)))
    return routes


ROUTES = discover()
ROUTE_NAMES = sorted({r.name for r in ROUTES})

# A DRF extra action (@action) whose method takes no ``format`` argument raises TypeError (a 500) on the
# router's format-suffix route (``/api/v1/messages/1/approve.json``). The views are not this suite's to
# change. The walk finds those actions by their signature and marks their suffix items; should one not
# raise after all, the strict xfail fails.
FORMAT_SUFFIX_BUG = pytest.mark.xfail(
    strict=True, raises=TypeError,
    reason="bug: the DRF @action methods in campaigns/api/views.py take no `format` argument, so "
           "GET/POST /api/v1/<resource>/<pk>/<action>.json raises TypeError (500). Fix: add format=None "
           "to each action (as engage/inbound/api.py does), or router.include_format_suffixes = False")


def _items() -> list[Any]:
    """One item per URL name; the router's format-suffix routes of a name are a second item."""
    items = []
    for name in ROUTE_NAMES:
        routes = [r for r in ROUTES if r.name == name]
        for with_format in sorted({"format" in r.params for r in routes}):
            broken = with_format and any(r.takes_no_format for r in routes)
            items.append(pytest.param(name, with_format, marks=[FORMAT_SUFFIX_BUG] if broken else [],
                                      id=name + (".<format>" if with_format else "")))
    return items


def _prefix(route: str) -> str:
    segments = [s for s in route.replace("^", "").split("/") if s]
    for segment in segments:
        if segment not in ("desk", "api", "v1"):
            return re.split(r"[\\.(]", segment)[0]
    return ""


def build_url(route: Route, case: Case, x: Arranged) -> str:
    kwargs: dict[str, Any] = {}
    subject = case.subject or SUBJECT_BY_PREFIX.get(_prefix(route.route))
    for param in route.params:
        if param == "pk":
            assert subject, f"no object for <pk> in {route.route}: add its prefix to SUBJECT_BY_PREFIX"
            kwargs["pk"] = getattr(x, subject).pk
        elif param == "variant_id":
            assert subject == "draft", "variants belong to the arranged draft"
            kwargs["variant_id"] = x.variant.pk
        elif param == "action":
            assert case.action, f"{route.name}: say which action each case posts"
            kwargs["action"] = case.action
        elif param == "format":
            kwargs["format"] = "json"
        elif param == "answer_id":
            kwargs["answer_id"] = x.answer.pk
        elif param == "sha":
            kwargs["sha"] = getattr(x, subject).sha256[:12]
        elif param == "width":
            kwargs["width"] = min(getattr(x, subject).width, 1024)
        elif param == "ext" and subject == "image":
            kwargs["ext"] = {"image/png": "png", "image/webp": "webp"}.get(x.image.mime, "jpg")
        elif param == "ext":  # a metrics export
            kwargs["ext"] = "csv"
        elif param == "table":
            kwargs["table"] = "categories"
        elif param == "recipient_id":
            kwargs["recipient_id"] = x.list_recipient.pk
        elif param == "channel_id":
            kwargs["channel_id"] = x.inbound_channel.pk
        elif param == "uidb64":
            kwargs["uidb64"] = urlsafe_base64_encode(force_bytes(x.world.a.officer.pk))
        elif param == "token":
            kwargs["token"] = "not-a-valid-token"
        elif param == "force":
            kwargs["force"] = x.world.force.slug
        elif param == "user_id":
            kwargs["user_id"] = x.world.a.liaison.pk
        else:
            raise AssertionError(f"no value for <{param}> in {route.route}: teach build_url about it")
    return reverse(route.name, kwargs=kwargs) + (case.query(x) if callable(case.query) else case.query)


# --- requests and their outcome ---------------------------------------------------------------

class RefusalSpy:
    """HTML views turn a service's refusal into a flash message and a redirect. Record them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import sys

        self.refusals: list[ServiceError] = []
        original = web.run_service

        def spying(request: Any, fn: Callable[..., Any], *, success: str = "", **kwargs: Any) -> Any:
            def traced(**kw: Any) -> Any:
                try:
                    return fn(**kw)
                except ServiceError as exc:
                    self.refusals.append(exc)
                    raise

            return original(request, traced, success=success, **kwargs)

        patched = 0
        for module in list(sys.modules.values()):
            if getattr(module, "run_service", None) is original:
                monkeypatch.setattr(module, "run_service", spying)
                patched += 1
        assert patched > 1, "no view module calls core.web.run_service any more: revisit RefusalSpy"


def classify(response: Any, refusals: list[ServiceError], login_path: str) -> str:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status == 401:
        return LOGIN
    if status in (301, 302, 303) and urlparse(response["Location"]).path == login_path:
        return LOGIN
    if status == 403:
        return DENIED
    if status == 404:
        return HIDDEN
    if any(isinstance(r, NotAllowed) for r in refusals):
        return DENIED
    if any(isinstance(r, NotFound) for r in refusals):
        return HIDDEN
    if 200 <= status < 400 or status in (400, 409):
        return OK
    return f"status {status}"


@dataclass
class Principal:
    label: str          # "signed out", "A officer", "B admin"...
    role: str           # "" when signed out
    team: str           # "", "A" or "B"
    user: Any = None
    _session_key: str = ""

    @property
    def session_key(self) -> str:
        """A signed-in session, made on first use (outside the savepoints, so it outlives them)."""
        if self.user is not None and not self._session_key:
            self._session_key = session_for(self.user)
        return self._session_key


def session_for(user: Any) -> str:
    """What Client.force_login stores, without the sign-in signal and its audit record."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def principals(world: World) -> list[Principal]:
    """Signed out, then every role of team A, then every role of team B."""
    out = [Principal("signed out", "", "")]
    for team, tw in (("A", world.a), ("B", world.b)):
        for role in ROLES:
            # A fresh instance: permissions caches memberships on the user object.
            user = type(tw.users[role]).objects.get(pk=tw.users[role].pk)
            out.append(Principal(f"{team} {role}", role, team, user))
    return out


def send(kind: str, method: str, url: str, who: Principal, body: dict[str, Any] | None, multipart: bool) -> Any:
    if kind == "api":
        client: Any = APIClient()
        if who.user is not None:
            client.force_authenticate(who.user)
        if method == "GET":
            return client.get(url)
        return getattr(client, method.lower())(url, body or {}, format="multipart" if multipart else "json")
    client = Client()
    if who.session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = who.session_key
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, body or {})


def attempt(kind: str, case: Case, url: str, who: Principal, x: Arranged, spy: RefusalSpy,
            login_path: str) -> tuple[Any, str]:
    """One request, in a savepoint that is rolled back and with an empty cache (rate limits, cached
    pages), so that every principal meets the same state."""
    from django.core.cache import cache

    body = case.body(x) if case.body else None  # fresh each time: an upload is read once
    _ = who.session_key  # signed in before the savepoint, or the session would be rolled back with it
    cache.clear()
    spy.refusals.clear()
    with transaction.atomic():
        response = send(kind, case.method, url, who, body, case.multipart)
        transaction.set_rollback(True)
    return response, classify(response, spy.refusals, login_path)


def login_path_for(kind: str) -> str:
    return reverse("admin:login") if kind == "admin" else resolve_url(settings.LOGIN_URL)


def expected_for(case: Case, who: Principal, names_object: bool) -> Any:
    """None: this principal is not asked (team B, when the URL names nothing of team A)."""
    if who.user is None:
        return case.anon
    if who.team == "A":
        return case.expect[who.role]
    if case.other_team is not None:
        return case.other_team
    return HIDDEN if names_object else None


# --- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "with_format"), _items())
def test_permission_matrix(name: str, with_format: bool, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    if name not in EXPECTED:
        pytest.fail(f"URL {name!r} ({', '.join(r.route for r in ROUTES if r.name == name)}) has no entry in "
                    "EXPECTED: say which roles may use it (see accounts/permissions.py)", pytrace=False)
    kind, cases = EXPECTED[name]
    x = Arranged(world)
    spy = RefusalSpy(monkeypatch)
    login_path = login_path_for(kind)
    people = principals(world)
    failures: list[str] = []
    for route in (r for r in ROUTES if r.name == name and ("format" in r.params) == with_format):
        names_object = "pk" in route.params
        for case in cases:
            url = build_url(route, case, x)
            for who in people:
                if with_format and who.team == "B":
                    continue  # the other team's 404 is checked on the canonical route; the suffix shares its view
                expected = expected_for(case, who, names_object)
                if expected is None:
                    continue
                response, got = attempt(kind, case, url, who, x, spy, login_path)
                if isinstance(expected, Bug):
                    expected = expected.now if got != expected.want else expected.want
                if got != expected:
                    why = f"; refused: {spy.refusals[-1].message}" if spy.refusals else ""
                    failures.append(f"{case.method} {url} as {who.label}: expected {expected}, "
                                    f"got {got} ({response.status_code}){why}")
    assert not failures, f"{name}:\n  " + "\n  ".join(failures)


class _Unarranged:
    """Stand-in objects for URLs whose views must refuse the method before they look anything up."""

    pk = 999_999
    slug = "unarranged"
    sha256 = "0" * 64
    width = 640
    mime = "image/png"

    def __getattr__(self, name: str) -> Any:
        return self


@pytest.fixture
def supervisor(db: None) -> Any:
    """One supervisor of one team: all the 405 check needs."""
    from accounts.models import Role
    from tests.factories import TeamFactory, member

    return member(TeamFactory(), Role.SUPERVISOR)


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_undeclared_methods_are_refused(name: str, supervisor: Any) -> None:
    """A method an entry does not list answers 405, so the table's methods are all the view's methods."""
    if name not in EXPECTED:
        pytest.fail(f"URL {name!r} has no entry in EXPECTED", pytrace=False)
    kind, cases = EXPECTED[name]
    if kind == "admin":
        return  # Django's own
    stub = _Unarranged()
    declared = {c.method for c in cases}
    methods = [m for m in ("GET", "POST", "PATCH", "DELETE")
               if m not in declared and (kind == "api" or m in ("GET", "POST"))]
    who = Principal("a supervisor", "supervisor", "A", supervisor)
    _ = who.session_key
    failures = []
    for route in (r for r in ROUTES if r.name == name):
        url = build_url(route, cases[0], stub)
        for method in methods:
            with transaction.atomic():
                response = send(kind, method, url, who, {}, False)
                transaction.set_rollback(True)
            if response.status_code != 405:
                failures.append(f"{method} {url}: {response.status_code}, not 405")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("subject", "page"), [("draft", "/desk/messages/{pk}/"), ("reply", "/desk/inbox/{pk}/")])
def test_an_unknown_action_is_not_found_for_anyone(subject: str, page: str, world: World) -> None:
    """Each action of a message or a reply has its own URL; any other name answers 404, whoever asks."""
    x = Arranged(world)
    url = page.format(pk=getattr(x, subject).pk) + "no-such-action/"
    got = {}
    for who in principals(world):
        _ = who.session_key
        for method in ("GET", "POST"):
            with transaction.atomic():
                got[f"{method} as {who.label}"] = send("page", method, url, who, {}, False).status_code
                transaction.set_rollback(True)
    assert set(got.values()) == {404}, got


def test_expectation_table_has_no_stale_entries() -> None:
    stale = sorted(set(EXPECTED) - set(ROUTE_NAMES))
    assert not stale, f"EXPECTED names URLs that no longer exist: {stale}"


def test_the_walk_reaches_every_urlconf() -> None:
    """Included URLconfs and the API router are walked, not just the top level; admin internals are not."""
    names = set(ROUTE_NAMES)
    for expected in ("accounts:login", "desk_accounts:audit", "campaigns:message_approve", "message-approve",
                     "public:news_detail", "api-schema", "admin:index"):
        assert expected in names
    assert not any(r.route.startswith("admin/") and r.name != "admin:index" for r in ROUTES)
    assert any("format" in r.params for r in ROUTES), "the router's format-suffix routes are walked too"


def test_classify_tells_the_outcomes_apart() -> None:
    class Response(dict):
        def __init__(self, status: int, location: str = "") -> None:
            super().__init__(Location=location)
            self.status_code = status

    login = "/accounts/login/"
    assert classify(Response(302, "/accounts/login/?next=/desk/"), [], login) == LOGIN
    assert classify(Response(401), [], login) == LOGIN
    assert classify(Response(403), [], login) == DENIED
    assert classify(Response(404), [], login) == HIDDEN
    assert classify(Response(302, "/desk/messages/1/"), [NotAllowed("no")], login) == DENIED
    assert classify(Response(200), [NotFound("no")], login) == HIDDEN
    for status in (200, 201, 204, 302, 400, 409):
        assert classify(Response(status, "/desk/"), [], login) == OK
    assert classify(Response(500), [], login).startswith("server error")
    assert classify(Response(405), [], login) == "status 405"


def _known_bugs() -> list[Any]:
    items = []
    for name, (_kind, cases) in EXPECTED.items():
        for index, case in enumerate(cases):
            for role, cell in case.expect.items():
                if isinstance(cell, Bug):
                    items.append(pytest.param(name, index, role, marks=pytest.mark.xfail(
                        strict=True, raises=AssertionError, reason=cell.reason), id=f"{name}-{case.label}-{role}"))
    return items


@pytest.mark.parametrize(("name", "index", "role"), _known_bugs())
def test_known_bugs(name: str, index: int, role: str, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each known bug of the table, asserted the way the policy wants it."""
    kind, cases = EXPECTED[name]
    case = cases[index]
    x = Arranged(world)
    spy = RefusalSpy(monkeypatch)
    route = next(r for r in ROUTES if r.name == name and "format" not in r.params)
    url = build_url(route, case, x)
    who = next(p for p in principals(world) if p.team == "A" and p.role == role)
    response, got = attempt(kind, case, url, who, x, spy, login_path_for(kind))
    assert got == case.expect[role].want, f"{case.method} {url} as {who.label}: {got} ({response.status_code})"
