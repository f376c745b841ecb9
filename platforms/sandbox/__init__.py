"""A local platform sandbox: one HTTP server that speaks every API the adapters use.

For demos, training, benchmarks and tests, without the real platforms. It listens on one
port (127.0.0.1 by default) and tells the APIs apart by path:

==========  =====================================  ===========================================
platform    path prefix                             speaks
==========  =====================================  ===========================================
mastodon    ``/api/v1/...``, ``/api/v2/media``      statuses (with their counts), media (v2
                                                    with 202 + polling), Idempotency-Key,
                                                    verify_credentials, notifications
                                                    (mentions, quotes, filtered ones), an
                                                    account's statuses (look-up)
telegram    ``/bot<token>/<method>``                getMe, sendMessage, sendPhoto,
                                                    sendMediaGroup, deleteMessage (under 48
                                                    hours), getUpdates (Bot API 10.1)
x           ``/2/...``                              tweets, tweet lookup (``public_metrics``),
                                                    media upload + metadata, users/me, a
                                                    user's posts (look-up), oauth2/token
facebook    ``/v<version>/...``                     /me, /debug_token, /{page}/feed,
                                                    /{page}/photos, /{page}/published_posts
                                                    (look-up), /{id}/comments, GET (with
                                                    summaries) and DELETE /{id},
                                                    /{post}/insights
sms         ``/2010-04-01/Accounts/...``            Twilio Messages (create, fetch, list,
                                                    delete), Account fetch
webhook     ``/hooks/<name>``                       a partner receiving signed webhooks, and
                                                    the signed status look-up GET
                                                    ``/hooks/<name>/<key>`` (200 or 404)
==========  =====================================  ===========================================

Each API checks credentials, content types and required fields the way the real one does
and answers with the real error shapes; X and Twilio are as strict as their own OpenAPI
specifications (unknown parameters and body fields, app-only tokens, over-length text: see
``x.py``, ``twilio.py`` and docs/platforms.md). Every request is logged raw (method, path,
query string, headers, body), so tests can check it against those specifications
(tests/contracts). Every accepted post is recorded (thread safe);
Mastodon's Idempotency-Key is honoured (same key, same status, no second post) and so is
the webhook receiver's. Posts have figures (views, reposts, quotes, replies, likes): made up
steadily from the post id, plus the replies the sandbox holds, unless set with
:meth:`Sandbox.set_stats`; the platforms' statistics endpoints serve them in their own shapes.

Behaviours are programmable per platform (:class:`Behaviour`): a delay before answering,
N answers of 500, N answers of 429 with the platform's retry hint, N requests that are
processed and then left hanging past the client's timeout, N that are processed and then
dropped without an answer, all of these only after the first M requests, and refusing every
credential as expired.

Credentials: the defaults in :class:`SandboxCredentials` are fixed, fake and public (never
point a real adapter's secrets at the sandbox). More accounts (other tokens, bots and
channels, Pages, SMS accounts and numbers, hook secrets) are let in at start or at run time;
``accounts.py`` describes their form.

In process::

    sandbox = Sandbox.start(port=0)
    config, secrets = sandbox.config_for("mastodon")
    sandbox.set_behaviour("mastodon", fail=2)
    ...
    assert len(sandbox.posts("mastodon")) == 1
    sandbox.stop()

As a process: ``python -m platforms.sandbox --port 8025 [--accounts accounts.json]``,
programmed and read through a JSON control API:

* ``GET  /_sandbox/health``
* ``GET  /_sandbox/posts?platform=mastodon[&include_deleted=1]``: accepted posts
* ``GET  /_sandbox/records?platform=mastodon``: everything stored (posts, media, ...)
* ``GET  /_sandbox/requests?platform=mastodon``: every API request and its outcome
* ``GET  /_sandbox/behaviour?platform=mastodon``
* ``POST /_sandbox/behaviour`` ``{"platform": "mastodon", "fail": 2, ...}``: replaces it
* ``POST /_sandbox/reset``: back to the start (no posts, requests or behaviours; the
  starting accounts)
* ``POST /_sandbox/accounts`` ``{"platform": "telegram", "token": "...", "chat": "@..."}``
* ``POST /_sandbox/hooks`` ``{"name": "partner", "secret": "..."}``: a receiver's secret
* ``POST /_sandbox/stats`` ``{"platform": "x", "id": "...", "views": 1200, "likes": 30}``:
  a post's figures (``views``, ``reposts``, ``quotes``, ``replies``, ``likes``)
* ``POST /_sandbox/mastodon/notifications`` ``{"type": "mention", "text": "...", "acct": "...",
  "in_reply_to_id": "...", "filtered": false}``: a citizen's mention (or ``quote`` with
  ``quoted_status_id``) of the sandbox account, served by ``GET /api/v1/notifications``
* ``GET  /_sandbox/credentials``: adapter config and secrets for the default accounts
* ``POST /_sandbox/telegram/updates`` ``{"kind": "reply_as_channel", "post": "12", "text": "..."}``:
  queue a Telegram update for ``getUpdates`` (kinds in ``telegram_updates.py``)
* ``POST /_sandbox/age`` ``{"platform": "telegram", "id": "12", "hours": 72}``: make a post older

Platforms are named by channel kind: ``mastodon``, ``telegram``, ``x``, ``facebook``,
``sms`` and ``webhook``. No Django: the sandbox runs without settings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from platforms.sandbox.accounts import PLATFORMS, Accounts, SandboxCredentials
from platforms.sandbox.control import adapter_settings
from platforms.sandbox.core import Behaviour, Record, RequestLog, SandboxState, UploadedFile

if TYPE_CHECKING:
    from platforms.sandbox.server import SandboxServer

logger = logging.getLogger("platforms.sandbox")

__all__ = [
    "PLATFORMS",
    "Behaviour",
    "Record",
    "RequestLog",
    "Sandbox",
    "SandboxCredentials",
    "UploadedFile",
]


class Sandbox:
    """A running sandbox. Make one with :meth:`start`; stop it with :meth:`stop`."""

    def __init__(self, server: SandboxServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.state = server.state

    @classmethod
    def start(
        cls,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        credentials: SandboxCredentials | None = None,
        accounts: Iterable[Mapping[str, Any]] = (),
    ) -> Sandbox:
        """Listen on ``host:port`` (0: any free port) in a background thread.

        ``accounts`` are let in besides the default credentials (see ``accounts.py``), and
        are kept by :meth:`reset`.
        """
        # Here, not at the top: the server imports every platform's imitation, and each of those
        # imports platforms.sandbox.core, so importing one imitation first must not need the server.
        from platforms.sandbox.server import SandboxServer

        credentials = credentials or SandboxCredentials()
        known = Accounts.from_credentials(credentials)
        for account in accounts:
            known.add(account)
        state = SandboxState(credentials, known)
        server = SandboxServer((host, port), state)
        bound_host, bound_port = server.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        state.base_url = f"http://{shown}:{bound_port}"
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sandbox-{bound_port}",
            daemon=True,
        )
        thread.start()
        logger.info("platform sandbox listening on %s", state.base_url)
        return cls(server, thread)

    @property
    def url(self) -> str:
        return self.state.base_url

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def credentials(self) -> SandboxCredentials:
        return self.state.credentials

    def stop(self) -> None:
        self.state.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def posts(self, platform: str, *, include_deleted: bool = False) -> list[Record]:
        """Accepted posts on ``platform``, oldest first (withdrawn ones only if asked)."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        return self.state.posts(platform, include_deleted=include_deleted)

    def records(self, platform: str) -> list[Record]:
        """Everything ``platform`` stored: posts, uploaded media, comments, withdrawals."""
        with self.state.lock:
            return [r for r in self.state.records if r.platform == platform]

    def requests(self, platform: str) -> list[RequestLog]:
        with self.state.lock:
            return [r for r in self.state.request_log if r.platform == platform]

    def set_behaviour(self, platform: str, **changes: Any) -> Behaviour:
        """Replace ``platform``'s behaviour with one built from ``changes``."""
        behaviour = Behaviour(**changes)
        self.state.set_behaviour(platform, behaviour)
        return behaviour

    def behaviour(self, platform: str) -> Behaviour:
        return self.state.behaviour(platform)

    def add_account(self, platform: str, **details: Any) -> None:
        """Let one more account in (until :meth:`reset`); see ``platforms/sandbox/accounts.py``."""
        with self.state.lock:
            self.state.accounts.add({"platform": platform, **details})

    def set_stats(self, platform: str, post_id: str, **figures: int) -> None:
        """Fix a post's figures (``views``, ``reposts``, ``quotes``, ``replies``, ``likes``) until
        :meth:`reset`; figures not given stay as made up."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        self.state.set_figures(platform, post_id, **figures)

    def add_mastodon_notification(self, **document: Any) -> dict[str, Any]:
        """A notification for the sandbox's Mastodon account (a citizen's mention or quote); see
        :meth:`platforms.mastodon.sandbox.MastodonApi.add_notification`."""
        return self._server.apis["mastodon"].add_notification(document)
    def telegram_update(self, kind: str, *, text: str, post: str = "", chat: str = "") -> dict[str, Any]:
        """Queue a Telegram update for ``getUpdates`` and return it (kinds: ``telegram_updates.KINDS``)."""
        from platforms.telegram.sandbox_updates import build_update

        return build_update(self.state, kind=kind, text=text, post=str(post), chat=chat)

    def age_post(self, platform: str, post_id: str, *, hours: float) -> None:
        """Make a post ``hours`` older (Telegram refuses to delete messages 48 hours old)."""
        self.state.age(platform, str(post_id), hours * 3600)

    def set_hook_secret(self, name: str, secret: str) -> None:
        self.add_account("webhook", name=name, secret=secret)

    def reset(self) -> None:
        """Back to how it started: no posts, requests or behaviours, the starting accounts."""
        self.state.clear()

    def config_for(self, kind: str) -> tuple[dict[str, Any], dict[str, str]]:
        return adapter_settings(self.state, kind)
