"""Factories. Domain objects are made through the services, so they obey the same rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from accounts.models import Role, Team, User
from accounts.services import membership_set
from campaigns.models import Campaign, Channel, Event, Message, Segment
from campaigns.services import events as event_services
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create

PASSWORD = "correct-horse-battery-staple"  # noqa: S105


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    timezone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@engage.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def member(team: Team, role: str, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    membership_set(user=user, team=team, role=role)
    return user


@dataclass
class TeamWorld:
    team: Team
    officer: User
    supervisor: User
    supervisor2: User
    liaison: User
    admin: User
    event: Event
    campaign: Campaign
    public: Channel
    mastodon: Channel
    sms: Channel
    segment: Segment
    users: dict[str, User] = field(default_factory=dict)


@dataclass
class World:
    force: Team
    a: TeamWorld
    b: TeamWorld
    outsider: User


def make_team_world(force: Team, label: str) -> TeamWorld:
    team = TeamFactory(name=f"Team {label}", slug=f"team-{label.lower()}", parent=force)
    officer = member(team, Role.OFFICER, email=f"officer-{label.lower()}@engage.test")
    supervisor = member(team, Role.SUPERVISOR, email=f"supervisor-{label.lower()}@engage.test")
    supervisor2 = member(team, Role.SUPERVISOR, email=f"supervisor2-{label.lower()}@engage.test")
    liaison = member(team, Role.LIAISON, email=f"liaison-{label.lower()}@engage.test")
    admin = member(team, Role.ADMIN, email=f"admin-{label.lower()}@engage.test")
    event = event_services.event_create(
        actor=officer, team=team, name=f"Derby {label}", kind="planned",
        starts_at=timezone.now() + timedelta(days=3), ends_at=timezone.now() + timedelta(days=3, hours=4),
        location="Stadium", hashtags=["DerbyDay"])
    event = publish_event(event, supervisor)
    campaign = event_services.campaign_create(actor=officer, team=team, name=f"Derby {label}", event=event)
    public = channel_create(actor=admin, team=team, kind="public", name=f"Public {label}",
                            config={"site_url": "http://testserver"})
    mastodon = channel_create(actor=admin, team=team, kind="mastodon", name=f"Mastodon {label}",
                              config={"instance_url": "http://127.0.0.1:9", "access_token": f"tok-{label}"})
    sms = channel_create(actor=admin, team=team, kind="sms", name=f"SMS {label}",
                         config={"api_base": "http://127.0.0.1:9", "account_sid": "AC1", "from_number": "+447700900000",
                                 "auth_token": "sms-secret"})
    from campaigns.services.recipients import recipient_add

    recipient_add(actor=admin, channel=sms, address="+447700900111", language="en", consent_source="test list")
    from campaigns.services.segments import segment_create

    segment = segment_create(actor=officer, team=team, name=f"Visitors {label}", languages=["en", "ar"],
                             channels=["mastodon", "sms"], needs=[])
    return TeamWorld(team=team, officer=officer, supervisor=supervisor, supervisor2=supervisor2, liaison=liaison,
                     admin=admin, event=event, campaign=campaign, public=public, mastodon=mastodon, sms=sms,
                     segment=segment,
                     users={"officer": officer, "supervisor": supervisor, "liaison": liaison, "admin": admin})


def publish_event(event: Event, supervisor: User) -> Event:
    """Publish an event's current draft the way a second person does (the public pages show only
    published revisions)."""
    draft = event_services.event_draft(event)
    if draft is None:
        return event
    return event_services.event_publish(actor=supervisor, event=event, expected_hash=draft.content_hash)


def publish_rumour_verdict(*, writer: User, publisher: User, rumour: Any, status: str, explanation: str) -> Any:
    """One person writes a rumour's verdict, a second publishes it."""
    from campaigns.services.rumours import rumour_verdict_publish, rumour_verdict_write

    verdict = rumour_verdict_write(actor=writer, rumour=rumour, status=status, explanation=explanation)
    return rumour_verdict_publish(actor=publisher, verdict=verdict, expected_hash=verdict.content_hash)


def approve_template(template: Any, approver: User) -> Any:
    """A second supervisor approves a template's pending version."""
    from engage.inbound.policies import answer_template_approve

    version = template.versions.filter(approved_at__isnull=True, superseded_at__isnull=True).first()
    return answer_template_approve(actor=approver, version=version, expected_hash=version.content_hash)


def make_other_force(label: str = "C") -> tuple[Team, TeamWorld]:
    """A second force (another tenant) with one team and a user of every role."""
    force = TeamFactory(name=f"Force {label}", slug=f"force-{label.lower()}")
    return force, make_team_world(force, label)


def make_world() -> World:
    force = TeamFactory(name="Force", slug="force")
    return World(force=force, a=make_team_world(force, "A"), b=make_team_world(force, "B"),
                 outsider=UserFactory(email="outsider@engage.test"))


GOOD_BODY = ("Going to the derby on Saturday? Roads near the stadium will be busy. Please use the train "
             "and allow extra time. #DerbyDay")


def make_message(tw: TeamWorld, *, author: User | None = None, body: str = GOOD_BODY, urgency: str = "routine",
                 channels: list[Channel] | None = None, **kwargs: Any) -> Message:
    return message_services.message_create(
        actor=author or tw.officer, campaign=tw.campaign, body=body, urgency=urgency,
        channels=channels if channels is not None else [tw.public], hashtags=["DerbyDay"], **kwargs)


def make_submitted(tw: TeamWorld, **kwargs: Any) -> Message:
    message = make_message(tw, **kwargs)
    return workflow.message_submit(actor=kwargs.get("author") or tw.officer, message=message)


def make_approved(tw: TeamWorld, **kwargs: Any) -> Message:
    message = make_submitted(tw, **kwargs)
    return workflow.message_approve(actor=tw.supervisor, message=message)


def make_delivery(tw: TeamWorld, status: str, **fields: Any):
    """One delivery of a fresh approved message of ``tw`` on its public channel, in ``status``."""
    from django.utils import timezone

    from campaigns.models import Delivery

    message = make_approved(tw)
    fields.setdefault("channel", tw.public)
    return Delivery.objects.create(message=message, idempotency_key=f"made-{status}-{message.pk}",
                                   due_at=timezone.now(), status=status, **fields)


def ensure_shipped_answers() -> None:
    """Migration engage 0002 loads the shipped answer templates; a transactional test's flush may
    have emptied them. Its own function puts them back (it only adds what is missing), and approves
    them with the shipped marker, as migration engage 0009 does."""
    import importlib

    from django.apps import apps

    importlib.import_module("engage.migrations.0002_shipped_answer_templates").ship(apps, None)
    importlib.import_module("engage.migrations.0009_answer_template_versions").approve_existing(apps, None)
