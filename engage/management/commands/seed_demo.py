"""Demo data: a force with two teams, a user of every role, three events, channels, segments
and messages. Safe to run twice: everything is looked up before it is created, and every
write goes through the same services as the application."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role, Team, User
from accounts.services import membership_set, team_create, team_update_settings, user_create
from campaigns import publishing
from campaigns.models import Campaign, Channel, Event, Message, Segment
from campaigns.services import events as event_services
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from campaigns.services.segments import segment_create
from core.errors import InvalidInput

DEMO_PASSWORD = "engage-demo-2026"  # noqa: S105 - documented demo sign-in, embedded run only
SANDBOX = os.environ.get("ENGAGE_SANDBOX_URL", "http://127.0.0.1:8025")


def sandbox_config(kind: str, **overrides: object) -> dict:
    """Channel config (secrets included) that points at the local platform sandbox of ``run``."""
    from platforms.sandbox.control import adapter_settings
    from platforms.sandbox.core import SandboxCredentials, SandboxState

    state = SandboxState(SandboxCredentials())
    state.base_url = SANDBOX
    config, secrets = adapter_settings(state, kind)
    config.pop("recipients", None)  # list channels keep their recipients as rows (see _recipients)
    return {**config, **secrets, **overrides}

USERS = [
    ("officer@engage.test", "Olu Okafor", "ops", Role.OFFICER),
    ("supervisor@engage.test", "Sam Patel", "ops", Role.SUPERVISOR),
    ("supervisor2@engage.test", "Grace Lindqvist", "ops", Role.SUPERVISOR),
    ("liaison@engage.test", "Layla Haddad", "community", Role.LIAISON),
    ("community-officer@engage.test", "Tom Kowalski", "community", Role.OFFICER),
    # Every team that drafts has a supervisor, so each of its messages can be approved.
    ("community-supervisor@engage.test", "Amina Yusuf", "community", Role.SUPERVISOR),
    ("admin@engage.test", "Alex Morgan", "force", Role.ADMIN),
]


class Command(BaseCommand):
    help = "Load the demo force, users, events, channels, segments and messages (safe to repeat)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            teams = self._teams()
            users = self._users(teams)
            admin = users["admin@engage.test"]
            if "answer_feedback" not in (teams["force"].settings or {}):  # "Did this answer help?" (issue 8)
                team_update_settings(team=teams["force"], actor=admin, changes={"answer_feedback": True})
            channels = self._channels(teams, admin)
            segments = self._segments(teams, users["officer@engage.test"], channels)
            self._recipients(admin, channels, segments)
            events = self._events(teams, users["officer@engage.test"])
            self._rumours(events, users)
            self._awareness(events, users)
        self._messages(teams, users, channels, segments, events)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Sign in with any of these (password {DEMO_PASSWORD}):")
        for email, _name, _team, role in USERS:
            self.stdout.write(f"  {role:<11} {email}")

    def _teams(self) -> dict[str, Team]:
        force = Team.objects.filter(slug="northshire").first() or team_create(
            name="Northshire Police", slug="northshire", timezone="Europe/London")
        ops = Team.objects.filter(slug="northshire-events").first() or team_create(
            name="Events & Operations Comms", slug="northshire-events", parent=force)
        community = Team.objects.filter(slug="northshire-community").first() or team_create(
            name="Community Engagement Desk", slug="northshire-community", parent=force)
        return {"force": force, "ops": ops, "community": community}

    def _users(self, teams: dict[str, Team]) -> dict[str, User]:
        users = {}
        for email, name, team_key, role in USERS:
            user = User.objects.filter(email=email).first() or user_create(
                email=email, password=DEMO_PASSWORD, full_name=name)
            if not Membership.objects.filter(user=user, team=teams[team_key]).exists():
                membership_set(user=user, team=teams[team_key], role=role,
                               intelligence_liaison=email.startswith("liaison"))
            users[email] = user
        return users

    def _channels(self, teams: dict[str, Team], admin: User) -> dict[str, Channel]:
        site = {"site_url": settings.ENGAGE_SITE_URL}
        specs = [
            ("ops", "public", "Public news pages", site),
            ("ops", "mastodon", "Northshire Police on Mastodon (sandbox)", sandbox_config("mastodon")),
            ("ops", "telegram", "Northshire updates on Telegram (sandbox)",
             sandbox_config("telegram")),
            ("ops", "sms", "Residents' SMS alerts (sandbox gateway)", sandbox_config("sms")),
            ("ops", "email", "Residents' email list",
             {"from_email": "updates@northshire.police.invalid",
              "unsubscribe_url": f"{settings.ENGAGE_SITE_URL}/unsubscribe/"}),
            ("community", "public", "Public news pages (community)", site),
            ("community", "telegram", "Refugee Support Network Telegram (partner, sandbox)",
             sandbox_config("telegram")),
            ("community", "webhook", "Refugee Support Network webhook (sandbox)", sandbox_config("webhook")),
            ("community", "sms", "Community SMS (sandbox gateway)",
             sandbox_config("sms")),
        ]
        out = {}
        for team_key, kind, name, config in specs:
            channel = Channel.objects.filter(team=teams[team_key], name=name).first() or channel_create(
                actor=admin, team=teams[team_key], kind=kind, name=name, config=config)
            out[f"{team_key}:{kind}"] = channel
        return out

    def _recipients(self, admin: User, channels: dict[str, Channel], segments: dict[str, Segment]) -> None:
        """The list channels' subscribers, each with a language and segments (fictional numbers)."""
        from campaigns.services.recipients import recipient_add

        encampment = [s for name, s in segments.items() if name.startswith("Encampment")]
        older = [s for name, s in segments.items() if name.startswith("Older")]
        specs = [("ops:sms", "+447700900001", "en", older), ("ops:sms", "+447700900002", "en", []),
                 ("ops:email", "residents@lists.invalid", "en", []),
                 ("community:sms", "+447700900333", "ar", encampment),
                 ("community:sms", "+447700900334", "fa", encampment)]
        for key, address, language, chosen in specs:
            channel = channels[key]
            try:
                recipient_add(actor=admin, channel=channel, address=address, language=language,
                              segments=[s.pk for s in chosen if s.team_id == channel.team_id],
                              consent_source="Demo data")
            except InvalidInput:
                continue  # already on the list (a second run)

    def _segments(self, teams: dict[str, Team], officer: User, channels: dict[str, Channel]) -> dict[str, Segment]:
        specs = [
            ("community", "Encampment residents: Arabic, Farsi and Tigrinya speakers",
             "People staying at the Riverside encampment. Reached through the Refugee Support Network's "
             "Telegram channel and SMS, in their own languages.",
             ["ar", "fa", "ti"], ["telegram", "sms", "webhook"], ["Riverside"], ["low_bandwidth"],
             [{"name": "Refugee Support Network", "kind": "ngo", "channel": channels["community:telegram"].pk,
               "contact_note": "Duty coordinator, via the partner line"}]),
            ("ops", "Visiting away supporters",
             "Supporters travelling to the derby from out of town, reached through their club's channels.",
             ["en"], ["telegram", "public"], ["Stadium", "Station Road"], [],
             [{"name": "Eastport Supporters' Club", "kind": "supporters_club",
               "contact_note": "Club liaison officer"}]),
            ("ops", "Older residents",
             "Residents who prefer short texts and easy-read updates, in large print online.",
             ["en"], ["sms", "email", "public"], ["Old Town"], ["easy_read", "large_text"],
             [{"name": "Old Town Residents' Association", "kind": "community_leader"}]),
            ("community", "Students", "Students at Northshire University and the college.",
             ["en", "pl", "ro"], ["telegram", "public"], ["Campus"], [],
             [{"name": "Students' Union", "kind": "student_union"}]),
            ("community", "Deaf residents", "Deaf residents who use British Sign Language.",
             ["en"], ["public", "email"], [], ["sign_language_video", "screen_reader"],
             [{"name": "Northshire Deaf Centre", "kind": "community_leader"}]),
        ]
        out = {}
        for team_key, name, description, languages, chans, areas, needs, partners in specs:
            segment = Segment.objects.filter(team=teams[team_key], name=name).first() or segment_create(
                actor=officer if team_key == "ops" else User.objects.get(email="community-officer@engage.test"),
                team=teams[team_key], name=name, description=description, languages=languages, channels=chans,
                areas=areas, needs=needs, partners=partners)
            out[name] = segment
        return out

    def _events(self, teams: dict[str, Team], officer: User) -> dict[str, Event]:
        zone = ZoneInfo(teams["force"].timezone)
        now_local = timezone.now().astimezone(zone)
        days_to_saturday = (5 - now_local.weekday()) % 7 or 7
        saturday = (now_local + timedelta(days=days_to_saturday)).date()
        kickoff = datetime.combine(saturday, time(15, 0), tzinfo=zone)
        community_officer = User.objects.get(email="community-officer@engage.test")
        specs = [
            ("ops", officer, {
                "name": "Northshire v Eastport derby", "kind": "planned", "starts_at": kickoff - timedelta(hours=2),
                "ends_at": kickoff + timedelta(hours=4), "location": "Northshire Stadium, Station Road",
                "latitude": 52.951, "longitude": -1.150, "radius_m": 1500, "expected_attendance": 28000,
                "hashtags": ["DerbyDay", "NorthshireSafe"], "risk_level": "high",
                "what_to_bring": "Your ticket, water in a plastic bottle, layers for the weather.",
                "prohibited_items": "Glass, flares, smoke bombs, fireworks.",
                "help_points": "Help point by Gate C; first aid at Gates A and D."}),
            ("ops", officer, {
                "name": "Climate march through the city centre", "kind": "protest",
                "starts_at": now_local - timedelta(hours=1), "ends_at": now_local + timedelta(hours=3),
                "location": "Market Square to Riverside Park", "latitude": 52.953, "longitude": -1.146,
                "radius_m": 800, "expected_attendance": 3000, "hashtags": ["NorthshireMarch"],
                "risk_level": "medium", "help_points": "Officers in blue vests along the route."}),
            ("community", community_officer, {
                "name": "Riverside encampment", "kind": "encampment", "starts_at": now_local - timedelta(days=21),
                "ends_at": None, "location": "Riverside Park, north field", "latitude": 52.948,
                "longitude": -1.139, "radius_m": 300, "expected_attendance": 180,
                "hashtags": ["RiversideSupport"], "risk_level": "medium",
                "help_points": "Refugee Support Network tent, every day 9:00–19:00."}),
        ]
        out = {}
        for team_key, author, data in specs:
            event = Event.objects.filter(team=teams[team_key], name=data["name"]).first()
            if event is None:
                event = event_services.event_create(actor=author, team=teams[team_key], **data)
                event_services.campaign_create(actor=author, team=teams[team_key], name=data["name"], event=event)
            if event_services.event_draft(event) is not None:
                self._publish_event(event)
            out[data["name"]] = event
        return out

    def _rumours(self, events: dict[str, Event], users: dict[str, User]) -> None:
        """A claim on the derby's rumour board: the officer writes the verdict, a supervisor publishes it.
        At the encampment, two claims heard in the camp, recorded as they were said (Arabic and Farsi) and
        awaiting a decision: the encampment's after-action PDF shows them, shaped right to left."""
        from campaigns.models import Rumour
        from campaigns.services import rumours as rumour_services

        encampment = events["Riverside encampment"]
        for claim in ("يقولون إن المخيم سيُغلق غداً",  # "They say the camp will be closed tomorrow"
                      "می‌گویند آب آشامیدنی آلوده است"):  # "They say the drinking water is contaminated"
            if not Rumour.objects.filter(event=encampment, claim=claim).exists():
                rumour_services.rumour_create(actor=users["community-officer@engage.test"], event=encampment,
                                              claim=claim)
        derby = events["Northshire v Eastport derby"]
        claim = "The derby has been cancelled because of the weather."
        if Rumour.objects.filter(event=derby, claim=claim).exists():
            return
        officer, supervisor = users["officer@engage.test"], users["supervisor@engage.test"]
        rumour = rumour_services.rumour_create(actor=officer, event=derby, claim=claim)
        verdict = rumour_services.rumour_verdict_write(
            actor=officer, rumour=rumour, status="false",
            explanation="The derby goes ahead as planned. Kick-off is at 15:00; check the club's site for updates.")
        rumour_services.rumour_verdict_publish(actor=supervisor, verdict=verdict, expected_hash=verdict.content_hash)

    def _awareness(self, events: dict[str, Event], users: dict[str, User]) -> None:
        """The derby's watch of public posts (issue 18), with a rumour candidate and a spike."""
        from engage.awareness.demo import demo_watch

        demo_watch(event=events["Northshire v Eastport derby"], set_up_by=users["supervisor@engage.test"],
                   approver=users["supervisor2@engage.test"], instance_url=sandbox_config("mastodon")["instance_url"],
                   now=timezone.now())

    def _publish_event(self, event: Event) -> None:
        """The public page shows an event once a second person published it: a demo supervisor of
        the event's team where there is one, else the seed's own marker (audited as such)."""
        from accounts import permissions

        draft = event_services.event_draft(event)
        authors = {r.author_id for r in event_services.pending_revisions(event)}
        for email in [email for email, _name, _team, role in USERS if role == Role.SUPERVISOR]:
            user = User.objects.get(email=email)
            if permissions.can_publish_event(user, event, draft_authors=authors):
                event_services.event_publish(actor=user, event=event, expected_hash=draft.content_hash)
                return
        event_services.event_publish_seeded(event=event, label="demo seed")

    def _messages(self, teams, users, channels, segments, events) -> None:
        officer, supervisor = users["officer@engage.test"], users["supervisor@engage.test"]
        derby = Campaign.objects.get(event=events["Northshire v Eastport derby"])
        march = Campaign.objects.get(event=events["Climate march through the city centre"])
        if Message.objects.filter(campaign__in=[derby, march]).exists():
            return
        public = channels["ops:public"]
        # Published on the public pages: went through approval and the same send path.
        msg = message_services.message_create(
            actor=officer, campaign=march, title="March route and closures",
            body="The climate march is moving from Market Square to Riverside Park this afternoon. "
                 "Roads on the route will close for a short time as it passes. Please allow extra time "
                 "if you are travelling in the city centre. #NorthshireMarch",
            channels=[public], hashtags=["NorthshireMarch"])
        workflow.message_submit(actor=officer, message=msg)
        workflow.message_approve(actor=supervisor, message=msg)
        publishing.message_schedule(actor=officer, message=msg, scheduled_at=None)
        from campaigns.publishing import deliveries_claim_due, delivery_send

        for delivery_id, token, _urgent in deliveries_claim_due():
            delivery_send(delivery_id=delivery_id, token=token)
        # Waiting for approval.
        review = message_services.message_create(
            actor=officer, campaign=derby, title="Derby travel advice",
            body="Going to the derby on Saturday? Roads around Station Road will be busy from noon. "
                 "Please use the train or bus where you can and allow extra time. #DerbyDay",
            channels=[public, channels["ops:mastodon"], channels["ops:telegram"]],
            segments=[segments["Visiting away supporters"]], hashtags=["DerbyDay"])
        workflow.message_submit(actor=officer, message=review)
        # A draft with a checker warning to fix.
        message_services.message_create(
            actor=officer, campaign=derby, title="Prohibited items (draft)",
            body="Fans proceeding to the stadium are reminded that flares are PROHIBITED!!",
            channels=[channels["ops:mastodon"]], hashtags=["DerbyDay"])
