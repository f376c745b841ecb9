"""Who the sandbox lets in: access tokens, bots and their chats, Pages, SMS accounts, hook secrets.

The defaults come from :class:`~platforms.sandbox.core.SandboxCredentials`. More accounts can
be added when the sandbox starts (``Sandbox.start(accounts=[...])``, or
``python -m platforms.sandbox --accounts accounts.json``) or while it runs
(``Sandbox.add_account(...)``, ``POST /_sandbox/accounts``). Each account is a JSON object
with a ``platform`` and that platform's fields:

* ``{"platform": "mastodon", "token": "...", "username": "northshire"}``
* ``{"platform": "telegram", "token": "123:abc", "username": "my_bot"}`` (a bot) and/or
  ``"chat": "@channel"`` (or ``"chats": [...]``): a channel the bots may post to
* ``{"platform": "x", "token": "...", "refresh_token": "..."}``, and ``"app_only": true`` for
  an app-only bearer token (it may only read posts, as on X)
* ``{"platform": "facebook", "token": "...", "page_id": "123", "name": "Our Page"}``, and
  ``"expires_at": <unix seconds>`` for a token that expires (the default: never, like a
  Page token made from a long-lived user token); past it the token is refused as expired
* ``{"platform": "sms", "account_sid": "AC...", "auth_token": "...", "numbers": ["+44..."]}``
* ``{"platform": "webhook", "name": "partner", "secret": "..."}``

Every other token is refused the way the real platform refuses it.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PLATFORMS = ("mastodon", "telegram", "x", "facebook", "sms", "webhook")


@dataclass(frozen=True)
class SandboxCredentials:
    """The fake credentials the sandbox accepts. They are public: never reuse them."""

    mastodon_token: str = "sandbox-mastodon-token"  # noqa: S105 - fake, public sandbox credential
    mastodon_username: str = "engage"
    telegram_token: str = "123456789:sandbox-telegram-bot-token"  # noqa: S105 - fake, public sandbox credential
    telegram_chat: str = "@engage_sandbox"
    telegram_chat_id: int = -1001234567890
    x_token: str = "sandbox-x-access-token"  # noqa: S105 - fake, public sandbox credential
    x_refresh_token: str = "sandbox-x-refresh-token"  # noqa: S105 - fake, public sandbox credential
    x_client_id: str = "sandbox-x-client-id"
    facebook_page_id: str = "100000000000001"
    facebook_token: str = "sandbox-facebook-page-token"  # noqa: S105 - fake, public sandbox credential
    twilio_account_sid: str = "AC5a1dbeef5a1dbeef5a1dbeef5a1dbeef"
    twilio_auth_token: str = "sandbox-twilio-auth-token"  # noqa: S105 - fake, public sandbox credential
    twilio_numbers: tuple[str, ...] = ("+15005550006",)
    webhook_secret: str = "sandbox-webhook-signing-secret"  # noqa: S105 - fake, public sandbox credential


def telegram_chat(chat: str) -> dict[str, Any]:
    """A channel object for ``@name`` or a numeric chat id, with a stable id for a name."""
    if chat.startswith("@"):
        name = chat[1:]
        number = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:9], 16)
        return {"id": -1_000_000_000_000 - number, "title": name, "username": name, "type": "channel"}
    return {"id": int(chat), "title": f"Chat {chat}", "type": "channel"}


@dataclass
class Accounts:
    mastodon: dict[str, str] = field(default_factory=dict)  # access token -> username
    telegram_bots: dict[str, str] = field(default_factory=dict)  # bot token -> bot username
    telegram_chats: dict[str, dict[str, Any]] = field(default_factory=dict)  # "@name" / "-100.." -> chat
    x_tokens: set[str] = field(default_factory=set)
    x_refresh_tokens: set[str] = field(default_factory=set)
    x_app_tokens: set[str] = field(default_factory=set)  # app-only bearer tokens: read only
    facebook_pages: dict[str, dict[str, str]] = field(default_factory=dict)  # page token -> {id, name}
    twilio: dict[str, str] = field(default_factory=dict)  # account SID -> auth token
    twilio_numbers: set[str] = field(default_factory=set)
    hook_secrets: dict[str, str] = field(default_factory=dict)  # hook name -> secret
    default_hook_secret: str = ""

    @classmethod
    def from_credentials(cls, credentials: SandboxCredentials) -> Accounts:
        accounts = cls(default_hook_secret=credentials.webhook_secret)
        accounts.add(
            {
                "platform": "mastodon",
                "token": credentials.mastodon_token,
                "username": credentials.mastodon_username,
            }
        )
        accounts.add(
            {"platform": "telegram", "token": credentials.telegram_token, "username": "engage_sandbox_bot"}
        )
        chat = {
            **telegram_chat(credentials.telegram_chat),
            "id": credentials.telegram_chat_id,
            "title": "Engage Sandbox",
        }
        accounts.telegram_chats[credentials.telegram_chat] = chat
        accounts.telegram_chats[str(credentials.telegram_chat_id)] = chat
        accounts.add(
            {"platform": "x", "token": credentials.x_token, "refresh_token": credentials.x_refresh_token}
        )
        accounts.add(
            {
                "platform": "facebook",
                "token": credentials.facebook_token,
                "page_id": credentials.facebook_page_id,
                "name": "Engage Sandbox Page",
            }
        )
        accounts.add(
            {
                "platform": "sms",
                "account_sid": credentials.twilio_account_sid,
                "auth_token": credentials.twilio_auth_token,
                "numbers": list(credentials.twilio_numbers),
            }
        )
        return accounts

    def copy(self) -> Accounts:
        return copy.deepcopy(self)

    def add(self, account: Mapping[str, Any]) -> None:
        """Register one account (see the module docstring); ``ValueError`` if it is malformed."""
        platform = str(account.get("platform", ""))
        if platform not in PLATFORMS:
            raise ValueError(f"account platform must be one of {', '.join(PLATFORMS)}")

        def text(name: str, *, required: bool = True) -> str:
            value = account.get(name)
            if value is None or value == "":
                if required:
                    raise ValueError(f"a {platform} account needs {name!r}")
                return ""
            return str(value)

        if platform == "mastodon":
            self.mastodon[text("token")] = text("username", required=False) or "engage"
        elif platform == "telegram":
            token, chats = text("token", required=False), list(account.get("chats") or [])
            if account.get("chat"):
                chats.append(str(account["chat"]))
            if not token and not chats:
                raise ValueError("a telegram account needs 'token' and/or 'chat'")
            if token:
                if ":" not in token or not token.split(":", 1)[0].isdigit():
                    raise ValueError("a telegram bot token looks like '123456:ABC...'")
                self.telegram_bots[token] = text("username", required=False) or f"bot{token.split(':')[0]}"
            for chat in chats:
                obj = telegram_chat(str(chat))
                self.telegram_chats[str(chat)] = obj
                self.telegram_chats[str(obj["id"])] = obj
        elif platform == "x":
            if not account.get("token") and not account.get("refresh_token"):
                raise ValueError("an x account needs 'token' and/or 'refresh_token'")
            if account.get("token") and account.get("app_only") is True:
                self.x_app_tokens.add(text("token"))
            elif account.get("token"):
                self.x_tokens.add(text("token"))
            if account.get("refresh_token"):
                self.x_refresh_tokens.add(text("refresh_token"))
        elif platform == "facebook":
            expires = account.get("expires_at") or 0
            if isinstance(expires, bool) or not isinstance(expires, int | float | str) or not str(expires).isdigit():
                raise ValueError("a facebook account's 'expires_at' is unix seconds")
            self.facebook_pages[text("token")] = {
                "id": text("page_id"),
                "name": text("name", required=False) or "Sandbox Page",
                "expires_at": str(int(expires)),
            }
        elif platform == "sms":
            if account.get("account_sid") or account.get("auth_token"):
                self.twilio[text("account_sid")] = text("auth_token")
            self.twilio_numbers.update(str(number) for number in account.get("numbers") or [])
        elif platform == "webhook":
            self.hook_secrets[text("name")] = text("secret")
