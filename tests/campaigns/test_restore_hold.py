"""A restored system comes up paused (issue 21, section 4): every force paused with a restore report,
whatever may have gone out after the backup unconfirmed, and the pause lifted only by a supervisor
who has read the report. The whole drill is tests/engage/test_backup_restore.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Notification, Role
from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, PublishingPause, RestoreReport
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services.channels import channel_create
from campaigns.services.restore import publishing_hold_after_restore
from core.errors import WrongState
from tests.factories import make_approved, make_other_force, member

pytestmark = pytest.mark.django_db

TAKEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def telegram_for(tw, sandbox):
    config, secrets = sandbox.config_for("telegram")
    return channel_create(actor=tw.admin, team=tw.team, kind="telegram", name=f"Telegram {tw.team.slug}",
                          config={**config, **secrets, "read_timeout": 1.0})


def scheduled(tw, sandbox, *, body: str, at=None):
    message = make_approved(tw, channels=[telegram_for(tw, sandbox)], body=body)
    return publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=at)


def test_every_force_is_paused_and_what_may_have_gone_out_is_unconfirmed(world, sandbox):
    _, other = make_other_force("C")
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    in_flight = scheduled(world.a, sandbox, body="Roads near the stadium are busy. Please use the train. #DerbyDay")
    [(claimed_id, _, _)] = deliveries_claim_due()  # claimed by a worker when the backup was taken
    due = scheduled(other, sandbox, body="The park is closed today. Please use the north gate instead. #DerbyDay")
    later = scheduled(world.b, sandbox, body="The match ends at five. Trains run late tonight. #DerbyDay",
                      at=timezone.now() + timedelta(hours=2))

    reports = publishing_hold_after_restore(backup_taken_at=TAKEN, details={"app_version": "0.1.0"})

    forces = {r.pause.team_id for r in reports}
    assert forces == {world.force.pk, other.team.parent_id}
    assert PublishingPause.objects.filter(resumed_at__isnull=True, paused_by__isnull=True).count() == 2
    assert Delivery.objects.get(pk=claimed_id).status == DeliveryStatus.UNCONFIRMED
    assert Delivery.objects.get(message=due).status == DeliveryStatus.UNCONFIRMED
    assert "2026-12-01 09:30 UTC" in Delivery.objects.get(message=due).last_error
    waiting = Delivery.objects.get(message=later)
    assert waiting.status == DeliveryStatus.PENDING
    mine = RestoreReport.objects.get(pause__team=world.force)
    assert mine.details["deliveries_unconfirmed"] == [claimed_id]
    assert mine.details["deliveries_waiting"] == [waiting.pk]
    assert mine.details["app_version"] == "0.1.0"
    assert RestoreReport.objects.get(pause__team=other.team.parent).details["deliveries_unconfirmed"] == [
        Delivery.objects.get(message=due).pk]
    assert AuditEvent.objects.filter(verb="publishing.paused_after_restore").count() == 2
    assert Notification.objects.filter(user=chief, kind="restore_report").exists()
    # Nothing leaves: the pause holds the later one even when it falls due, and the unconfirmed
    # ones are never claimed again.
    Delivery.objects.filter(pk=waiting.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert deliveries_claim_due() == []
    assert sandbox.posts("telegram") == []
    del in_flight


def test_the_restore_pause_lifts_only_once_the_report_is_read(world, sandbox, api):
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    message = scheduled(world.a, sandbox, body="The match ends at five. Trains run late tonight. #DerbyDay",
                        at=timezone.now() + timedelta(minutes=30))
    [report] = publishing_hold_after_restore(backup_taken_at=TAKEN, details={})
    with pytest.raises(WrongState) as refused:
        publishing.publishing_resume(actor=chief, reason="Checked", team=world.force.pk)
    assert refused.value.message == (
        "This force was restored from a backup and comes up paused. Read the restore report on "
        "the Publishing page, then resume there, ticking that you have read it.")
    response = api(chief).post("/api/v1/publishing/resume/", {"reason": "Checked", "team": world.force.pk},
                               format="json")
    assert response.status_code == 409, response.content
    assert "restore report" in response.content.decode()

    client = Client()
    client.force_login(chief)
    page = client.get("/desk/publishing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="restore-report-{report.pk}"' in html and "I have read the restore report" in html
    assert "the system, after a restore" in html
    refused = client.post("/desk/publishing/", {"reason": "Checked", "team": world.force.pk, "do": "resume"},
                          follow=True)
    assert "restore report" in refused.content.decode()
    assert PublishingPause.objects.filter(resumed_at__isnull=True).exists()
    client.post("/desk/publishing/", {"reason": "Checked the report", "team": world.force.pk, "do": "resume",
                                      "restore_report_seen": "on"})
    assert not PublishingPause.objects.filter(resumed_at__isnull=True).exists()
    resumed = AuditEvent.objects.get(verb="publishing.resumed")
    assert resumed.summary["restore_reports"] == [report.pk]
    Delivery.objects.filter(message=message).update(due_at=timezone.now() - timedelta(seconds=1))
    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["sent"]
    assert len(sandbox.posts("telegram")) == 1
