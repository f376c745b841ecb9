"""Answer templates go out only in words a second supervisor approved (issue 12, section 2)."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, Membership, Role
from core.errors import NotAllowed, NotFound, WrongState
from engage.inbound import answers, policies
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.models import AnswerTemplate, ReplyAnswer, TemplateApprovalKind
from tests.engage.inbound_helpers import CHAT_ID, TG_SECRET
from tests.factories import TeamFactory, approve_template, member

pytestmark = pytest.mark.django_db

URGENT_EN = "Someone is bleeding badly at the gate, please help"


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def telegram(world, sandbox):
    from campaigns.services.channels import channel_create

    config, secrets = sandbox.config_for("telegram")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="telegram", name="tg",
                          config={**config, **secrets, "read_timeout": 1.0, "secret_token": TG_SECRET})


def urgent_reply(world, channel, message_id: int):
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                         provider_id=f"{CHAT_ID}:{message_id}", text=URGENT_EN, author_handle="@jo")
    reply_process(reply_id=stored.reply_id)
    return ReplyAnswer.objects.filter(reply_id=stored.reply_id, kind="auto").first()


def write(world, body: str, *, actor=None, template=None, purpose: str = "urgent") -> AnswerTemplate:
    return policies.answer_template_save(actor=actor or world.a.supervisor, team=world.a.team, title="Danger",
                                         body=body, language="en", purpose=purpose, template=template)


def test_a_template_is_used_only_once_a_supervisor_who_did_not_write_it_approves(world):
    template = write(world, "Call 999 now. Officers are on their way to the stadium.", purpose="general")
    assert not policies.templates_for_team(world.a.team.pk).filter(pk=template.pk).exists()
    version = template.versions.get()
    with pytest.raises(NotAllowed) as refused:
        policies.answer_template_approve(actor=world.a.supervisor, version=version)
    assert refused.value.code == "own_template"
    for user in (world.a.officer, world.a.liaison, world.a.admin):
        with pytest.raises(NotAllowed):
            policies.answer_template_approve(actor=user, version=version)
    template = policies.answer_template_approve(actor=world.a.supervisor2, version=version,
                                                expected_hash=version.content_hash)
    assert policies.templates_for_team(world.a.team.pk).filter(pk=template.pk).exists()
    assert template.approved_by == world.a.supervisor2 and policies.is_approved(template)
    audit = AuditEvent.objects.get(verb="answer_template.approved", target_id=str(template.pk))
    assert audit.summary["author"] == world.a.supervisor.pk and audit.summary["kind"] == "standard"


def test_an_edit_voids_nothing_that_goes_out_until_approved_and_auto_replies_use_approved_words(world, sandbox):
    channel = telegram(world, sandbox)
    Membership.objects.filter(user=world.a.liaison, team=world.a.team).update(on_duty=True)
    template = write(world, "Call 999 now. Help is on the way.")
    approve_template(template, world.a.supervisor2)
    assert urgent_reply(world, channel, 1).body == "Call 999 now. Help is on the way."
    write(world, "Do not call anyone, just wait.", template=template)  # an edit: a new pending version
    template.refresh_from_db()
    assert template.body == "Call 999 now. Help is on the way."  # the row keeps the approved words
    assert template.versions.filter(approved_at__isnull=True).count() == 1
    assert urgent_reply(world, channel, 2).body == "Call 999 now. Help is on the way."
    approve_template(template, world.a.supervisor2)
    assert urgent_reply(world, channel, 3).body == "Do not call anyone, just wait."
    assert template.versions.count() == 2  # every version kept


def test_words_that_do_not_match_the_approved_hash_are_never_sent(world, sandbox):
    channel = telegram(world, sandbox)
    template = write(world, "Call 999 now. Help is on the way.")
    approve_template(template, world.a.supervisor2)
    AnswerTemplate.objects.filter(pk=template.pk).update(body="Tampered words.")  # not through a service
    answer = urgent_reply(world, channel, 4)
    assert answer is not None and "Tampered" not in answer.body and "999" in answer.body  # the shipped one
    template.refresh_from_db()
    reply = answer.reply
    with pytest.raises(NotFound):
        answers.answer_from_template(actor=world.a.liaison, reply=reply, template=template)


def test_emergency_self_approval_is_used_at_once_and_queued_for_review(world):
    template = write(world, "Leave by the north gate now.", purpose="general")
    version = template.versions.get()
    template = policies.answer_template_approve(actor=world.a.supervisor, version=version, emergency=True)
    version.refresh_from_db()
    assert policies.templates_for_team(world.a.team.pk).filter(pk=template.pk).exists()
    assert version.approval_kind == TemplateApprovalKind.EMERGENCY_SELF and version.review_due
    assert version in policies.pending_template_versions([world.a.team.pk])
    with pytest.raises(NotAllowed):
        policies.answer_template_review(actor=world.a.supervisor, version=version)
    policies.answer_template_review(actor=world.a.supervisor2, version=version, comment="Right call.")
    assert version not in policies.pending_template_versions([world.a.team.pk])
    with pytest.raises(WrongState):
        policies.answer_template_review(actor=world.a.supervisor2, version=version)


def test_an_officer_or_liaison_cannot_use_the_emergency_path_or_write_templates(world):
    for user in (world.a.officer, world.a.liaison):
        with pytest.raises(NotAllowed):
            write(world, "Anything.", actor=user)


def test_another_forces_supervisor_cannot_approve(world):
    template = write(world, "Call 999 now.", purpose="general")
    version = template.versions.get()
    stranger = member(TeamFactory(name="Other force", slug="other-force"), Role.SUPERVISOR)
    for user in (stranger, world.b.supervisor):
        with pytest.raises(NotFound):
            policies.answer_template_approve(actor=user, version=version, emergency=True)
    template.refresh_from_db()
    assert template.approved_version is None


def test_a_stale_hash_or_superseded_version_is_refused(world):
    template = write(world, "First words.", purpose="general")
    first = template.versions.get()
    write(world, "Second words.", template=template, purpose="general")
    with pytest.raises(WrongState):
        policies.answer_template_approve(actor=world.a.supervisor2, version=first)
    second = template.versions.get(number=2)
    with pytest.raises(WrongState):
        policies.answer_template_approve(actor=world.a.supervisor2, version=second, expected_hash=first.content_hash)


def test_shipped_templates_are_approved_by_the_shipped_marker(world):
    shipped = AnswerTemplate.objects.filter(team=None)
    assert shipped.exists()
    for template in shipped:
        assert policies.is_approved(template)
        assert template.approved_version.approval_kind == TemplateApprovalKind.SHIPPED
        assert template.approved_version.author is None and template.approved_version.author_label
