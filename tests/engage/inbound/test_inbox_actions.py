"""The buttons on a reply's page: one view per action (engage/inbound/views/actions.py), each at its own
URL. Each test posts as a role that may and checks what changed, and as one that may not and checks
that nothing did. Who may use which URL, for every role, is tests/test_permission_matrix.py."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from engage.inbound.answers import reply_respond
from engage.models import AnswerStatus, Reply, ReplyAnswer, ReplyStatus
from tests.engage.inbound_helpers import make_reply

pytestmark = pytest.mark.django_db

# URL name -> the path segment the reply page's forms use.
ACTIONS = {
    "assign_me": "assign-me", "assign": "assign", "status": "status", "correct": "correct", "note": "note",
    "escalate": "escalate", "hold": "hold", "unhold": "unhold", "respond": "respond", "adopt": "adopt",
    "resolve_sent": "resolve-sent", "resolve_not_sent": "resolve-not-sent", "release_held": "release-held",
    "drop_held": "drop-held",
}


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post(user, name: str, reply: Reply, data: dict | None = None):
    response = signed_in(user).post(reverse(f"inbox:{name}", kwargs={"pk": reply.pk}), data or {})
    assert response.status_code == 302, (response.status_code, response.content[:300])
    assert response["Location"] == f"/desk/inbox/{reply.pk}/"
    return response


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def fresh(reply: Reply) -> Reply:
    return Reply.objects.get(pk=reply.pk)


def answerable(world) -> Reply:
    """A processed reply on team A's Mastodon account: it can be answered."""
    return make_reply(world.a, channel=world.a.mastodon)


def answer_in(reply: Reply, status: str, world) -> ReplyAnswer:
    """A liaison officer's answer to ``reply``, put in ``status`` as the sender or the cap would."""
    answer = reply_respond(actor=world.a.liaison, reply=reply, template=None, body="Gates open at 13:00.")
    ReplyAnswer.objects.filter(pk=answer.pk).update(status=status)
    return ReplyAnswer.objects.get(pk=answer.pk)


# --- the URLs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "segment"), ACTIONS.items())
def test_each_action_keeps_its_url(name, segment):
    assert reverse(f"inbox:{name}", kwargs={"pk": 7}) == f"/desk/inbox/7/{segment}/"


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_is_post_only_signed_in_csrf_checked_and_hidden_from_others(world, name):
    reply = make_reply(world.a)
    url = reverse(f"inbox:{name}", kwargs={"pk": reply.pk})
    assert signed_in(world.a.supervisor).get(url).status_code == 405
    assert Client().post(url)["Location"].startswith("/accounts/login/")
    assert signed_in(world.a.supervisor, enforce_csrf_checks=True).post(url).status_code == 403
    assert signed_in(world.b.supervisor).post(url).status_code == 404  # another team's reply
    assert signed_in(world.a.officer).post(url).status_code == 404  # officers see no replies at all
    after = fresh(reply)
    assert (after.status, after.assignee_id, after.legal_hold) == (reply.status, None, False)
    assert not after.notes.exists() and not after.answers.exists()


def test_an_unknown_action_is_not_found(world):
    reply = make_reply(world.a)
    assert signed_in(world.a.supervisor).post(f"/desk/inbox/{reply.pk}/delete-everything/").status_code == 404


def test_the_reply_page_posts_to_each_action(world):
    reply = answerable(world)
    html = signed_in(world.a.supervisor).get(f"/desk/inbox/{reply.pk}/").content.decode()
    for name in ("assign_me", "assign", "status", "correct", "note", "escalate", "hold", "respond"):
        assert f'action="{reverse(f"inbox:{name}", kwargs={"pk": reply.pk})}"' in html, name
    post(world.a.supervisor, "hold", reply)
    html = signed_in(world.a.supervisor).get(f"/desk/inbox/{reply.pk}/").content.decode()
    assert f'action="/desk/inbox/{reply.pk}/unhold/"' in html and "/hold/" not in html


def test_the_reply_page_posts_each_answer_to_its_action(world):
    reply = answerable(world)
    answer_in(reply, AnswerStatus.PROPOSED, world)  # to adopt
    answer_in(reply, AnswerStatus.HELD, world)
    answer_in(reply, AnswerStatus.UNCONFIRMED, world)
    html = signed_in(world.a.supervisor).get(f"/desk/inbox/{reply.pk}/").content.decode()
    for name in ("adopt", "release_held", "drop_held", "resolve_sent", "resolve_not_sent"):
        assert f'action="{reverse(f"inbox:{name}", kwargs={"pk": reply.pk})}"' in html, name


# --- triage -------------------------------------------------------------------------------------------

def test_assign_me(world):
    reply = make_reply(world.a)
    post(world.a.admin, "assign_me", reply)  # administrators see replies but do not triage
    assert fresh(reply).assignee is None
    assert flashes(post(world.a.liaison, "assign_me", reply)) == ["Assigned to you."]
    assert fresh(reply).assignee == world.a.liaison and fresh(reply).status == ReplyStatus.ASSIGNED


def test_assign(world):
    reply = make_reply(world.a)
    response = post(world.a.liaison, "assign", reply, {"assignee": world.b.liaison.pk})  # not of this team
    assert flashes(response) == ["Choose a liaison officer or supervisor of this team."]
    assert fresh(reply).assignee is None
    post(world.a.liaison, "assign", reply, {"assignee": world.a.supervisor.pk})
    assert fresh(reply).assignee == world.a.supervisor


def test_status(world):
    reply = make_reply(world.a)
    post(world.a.admin, "status", reply, {"status": "triaged"})
    assert fresh(reply).status == ReplyStatus.NEW
    assert flashes(post(world.a.liaison, "status", reply, {"status": "triaged"})) == ["Status changed."]
    assert fresh(reply).status == ReplyStatus.TRIAGED


def test_correct(world):
    reply = make_reply(world.a)
    post(world.a.admin, "correct", reply, {"category": "rumour", "sentiment": "neutral"})
    assert fresh(reply).category != "rumour"
    post(world.a.liaison, "correct", reply, {"category": "rumour", "sentiment": "neutral"})
    assert fresh(reply).category == "rumour"


def test_note(world):
    reply = make_reply(world.a)
    assert flashes(post(world.a.liaison, "note", reply)) == ["Write the note."]
    post(world.a.admin, "note", reply, {"body": "Called the venue"})
    assert not reply.notes.exists()
    post(world.a.liaison, "note", reply, {"body": "Called the venue"})
    assert [n.body for n in reply.notes.all()] == ["Called the venue"]


def test_escalate(world):
    reply = make_reply(world.a)
    post(world.a.admin, "escalate", reply, {"reason": "Press enquiry"})
    assert fresh(reply).status == ReplyStatus.NEW
    response = post(world.a.liaison, "escalate", reply, {"reason": "Press enquiry"})
    assert flashes(response) == ["Escalated to the supervisors."]
    assert fresh(reply).status == ReplyStatus.ESCALATED


def test_hold_and_unhold(world):
    reply = make_reply(world.a)
    post(world.a.liaison, "hold", reply)  # a legal hold is for supervisors and administrators
    assert not fresh(reply).legal_hold
    assert flashes(post(world.a.admin, "hold", reply)) == ["Legal hold placed."]
    assert fresh(reply).legal_hold
    post(world.a.liaison, "unhold", reply)
    assert fresh(reply).legal_hold
    assert flashes(post(world.a.supervisor, "unhold", reply)) == ["Legal hold lifted."]
    assert not fresh(reply).legal_hold


# --- answers ------------------------------------------------------------------------------------------

def test_respond(world):
    reply = answerable(world)
    post(world.a.admin, "respond", reply, {"body": "Gates open at 13:00."})
    assert not reply.answers.exists()
    response = post(world.a.liaison, "respond", reply, {"body": "Gates open at 13:00."})
    assert flashes(response) == ["Your answer is now a message waiting for a supervisor's approval; it is sent as a "
                                 "reply as soon as it is approved."]
    assert [(a.status, a.body) for a in reply.answers.all()] == [(AnswerStatus.AWAITING_APPROVAL,
                                                                  "Gates open at 13:00.")]


def test_adopt(world):
    reply = answerable(world)
    answer = answer_in(reply, AnswerStatus.PROPOSED, world)  # proposed before liaisons drafted their own
    post(world.a.liaison, "adopt", reply, {"answer": answer.pk})  # a liaison officer does not draft messages
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.PROPOSED
    assert signed_in(world.a.supervisor).post(reverse("inbox:adopt", kwargs={"pk": reply.pk}),
                                              {"answer": "not-an-id"}).status_code == 404
    assert flashes(post(world.a.supervisor, "adopt", reply, {"answer": answer.pk})) == [
        "Sent for approval as a message."]
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.AWAITING_APPROVAL


def test_an_answer_of_another_reply_is_not_found(world):
    reply, other = answerable(world), answerable(world)
    answer = answer_in(other, AnswerStatus.HELD, world)
    for name in ("adopt", "resolve_sent", "resolve_not_sent", "release_held", "drop_held"):
        response = signed_in(world.a.supervisor).post(reverse(f"inbox:{name}", kwargs={"pk": reply.pk}),
                                                      {"answer": answer.pk})
        assert response.status_code == 404, name
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.HELD


def test_resolve_sent(world):
    reply = answerable(world)
    answer = answer_in(reply, AnswerStatus.UNCONFIRMED, world)
    post(world.a.admin, "resolve_sent", reply, {"answer": answer.pk})
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.UNCONFIRMED
    assert flashes(post(world.a.liaison, "resolve_sent", reply, {"answer": answer.pk})) == ["Recorded."]
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.SENT
    post(world.a.liaison, "resolve_sent", reply, {"answer": answer.pk})  # the wrong state now: said on the page
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.SENT


def test_resolve_not_sent(world):
    reply = answerable(world)
    answer = answer_in(reply, AnswerStatus.UNCONFIRMED, world)
    post(world.a.liaison, "resolve_not_sent", reply, {"answer": answer.pk})
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.PENDING


def test_release_held(world):
    reply = answerable(world)
    answer = answer_in(reply, AnswerStatus.HELD, world)
    post(world.a.admin, "release_held", reply, {"answer": answer.pk})
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.HELD
    response = post(world.a.liaison, "release_held", reply, {"answer": answer.pk})
    assert flashes(response) == ["The answer will be sent now."]
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.PENDING


def test_drop_held(world):
    reply = answerable(world)
    answer = answer_in(reply, AnswerStatus.HELD, world)
    assert flashes(post(world.a.liaison, "drop_held", reply, {"answer": answer.pk})) == ["Not sent."]
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.CANCELLED
    post(world.a.liaison, "drop_held", reply, {"answer": answer.pk})  # not held any more: refused
    assert ReplyAnswer.objects.get(pk=answer.pk).status == AnswerStatus.CANCELLED


# --- the settings page --------------------------------------------------------------------------------

def test_a_liaison_reads_the_templates_and_rules_page_and_changes_nothing(world):
    from engage.models import AnswerTemplate, SlaPolicy

    page = signed_in(world.a.liaison).get(reverse("inbox:settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You can read these settings" in html and "Response times" in html
    assert html.count('method="post"') == 1 and 'action="/accounts/logout/"' in html  # signing out, no edit controls
    assert "Save for approval" not in html
    templates, slas = AnswerTemplate.objects.count(), SlaPolicy.objects.count()
    refused = signed_in(world.a.liaison).post(reverse("inbox:settings"), {
        "kind": "sla", "team": world.a.team.pk, "category": "question", "minutes": 90})
    assert refused.status_code == 403
    refused = signed_in(world.a.liaison).post(reverse("inbox:settings"), {
        "kind": "template", "team": world.a.team.pk, "title": "Gates", "language": "en", "purpose": "general",
        "body": "Gates open two hours before kick-off."})
    assert refused.status_code == 403
    assert (AnswerTemplate.objects.count(), SlaPolicy.objects.count()) == (templates, slas)
    assert signed_in(world.a.officer).get(reverse("inbox:settings")).status_code == 403
    supervisor = signed_in(world.a.supervisor).get(reverse("inbox:settings")).content.decode()
    assert "Save for approval" in supervisor and "You can read these settings" not in supervisor


# --- titles and counts --------------------------------------------------------------------------------

def test_a_reply_is_titled_by_who_wrote_it_and_when(world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    reply = make_reply(world.a, channel=world.a.mastodon, author="@jane",
                       received_at=datetime(2026, 12, 4, 15, 0, tzinfo=ZoneInfo("UTC")))
    masked = signed_in(world.a.liaison).get(reverse("inbox:detail", kwargs={"pk": reply.pk})).content.decode()
    assert "<title>Reply from @j••••, 4 Dec" in masked and "@jane" not in masked  # as the page shows them
    shown = signed_in(world.a.supervisor).get(reverse("inbox:detail", kwargs={"pk": reply.pk}) + "?reveal=1")
    assert "<h1>Reply from <bdi>@jane</bdi>, 4 Dec" in shown.content.decode()
    anonymous = make_reply(world.a, author="")
    html = signed_in(world.a.liaison).get(reverse("inbox:detail", kwargs={"pk": anonymous.pk})).content.decode()
    assert "<h1>Reply from <bdi>Unknown person</bdi>," in html


def test_the_inbox_counts_one_reply_as_one_reply(world):
    make_reply(world.a)
    html = signed_in(world.a.liaison).get(reverse("inbox:list")).content.decode()
    assert "(1 reply)" in html and "1 replies" not in html
    make_reply(world.a)
    assert "(2 replies)" in signed_in(world.a.liaison).get(reverse("inbox:list")).content.decode()
