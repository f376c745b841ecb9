"""The sandbox's data types and the state every simulated platform shares."""

from __future__ import annotations

import email.message
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from platforms.sandbox.accounts import PLATFORMS, Accounts, SandboxCredentials

MAX_BODY = 32 * 1024 * 1024


# --- public data types ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Behaviour:
    """How one platform misbehaves. Counters are consumed request by request.

    ``applies_to`` is ``"posts"`` (only requests that create a post: a status, a message, a
    tweet, a Page post, an SMS, a webhook delivery) or ``"all"`` (every API request,
    including media uploads and health checks).
    """

    delay: float = 0.0  # seconds to wait before handling each request
    after: int = 0  # let this many requests through untouched before any fault below applies
    fail: int = 0  # the next N requests answer 500; nothing is recorded
    rate_limit: int = 0  # the next N requests answer 429 (the platform's shape); nothing recorded
    retry_after: int = 1  # seconds the rate-limit answer asks to wait
    hang: int = 0  # the next N requests are processed (recorded), then left unanswered ...
    hang_seconds: float = 30.0  # ... for this long, then the connection is closed
    drop: int = 0  # the next N requests are processed (recorded), then the connection is closed
    auth_expired: bool = False  # every credential is refused as expired or revoked
    media_processing: int = 0  # mastodon: media status polls answering 206 before the file is ready
    applies_to: str = "posts"

    def __post_init__(self) -> None:
        if self.applies_to not in ("posts", "all"):
            raise ValueError("applies_to must be 'posts' or 'all'")
        for name in ("after", "fail", "rate_limit", "hang", "drop", "media_processing"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True)
class UploadedFile:
    name: str
    filename: str
    content_type: str
    content: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
        }


@dataclass
class Record:
    """Something a platform stored: a post (``is_post``), an uploaded image, a comment."""

    platform: str
    op: str
    id: str
    is_post: bool
    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, Any]
    files: list[UploadedFile]
    idempotency_key: str
    created_at: float
    data: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        document = {
            name: getattr(self, name) for name in ("platform", "op", "id", "is_post", "method", "path")
        }
        document.update(
            headers=self.headers,
            fields=self.fields,
            files=[item.to_json() for item in self.files],
            idempotency_key=self.idempotency_key,
            created_at=self.created_at,
            data=self.data,
            deleted=self.deleted,
        )
        return document


@dataclass(frozen=True)
class RequestLog:
    platform: str
    op: str
    method: str
    path: str
    status: int | None  # None: no answer (hung or dropped)
    outcome: str  # "answered", "failed", "rate_limited", "hung", "dropped", "auth_refused", "rejected"
    headers: dict[str, str]
    fields: dict[str, Any]
    files: tuple[UploadedFile, ...]
    at: float
    # The request as it came, for checking it against the platform's specification
    # (tests/contracts): the raw query string and body.
    query: str = ""
    body: bytes = field(default=b"", repr=False)

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["files"] = [item.to_json() for item in self.files]
        document["body"] = {"size": len(self.body), "sha256": hashlib.sha256(self.body).hexdigest()}
        return document


# --- requests and answers --------------------------------------------------------------------------
@dataclass
class Incoming:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: email.message.Message
    body: bytes
    raw_query: str = ""
    form: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None
    files: list[UploadedFile] = field(default_factory=list)
    body_error: str = ""

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def header(self, name: str) -> str:
        return str(self.headers.get(name) or "")

    def param(self, name: str) -> str | None:
        """One parameter from the JSON body, the form, or the query string (that order)."""
        if isinstance(self.json, dict) and name in self.json:
            value = self.json[name]
            return value if isinstance(value, str) else json.dumps(value)
        for source in (self.form, self.query):
            if source.get(name):
                return source[name][0]
        return None

    def param_list(self, name: str) -> list[str]:
        if isinstance(self.json, dict) and isinstance(self.json.get(name), list):
            return [str(value) for value in self.json[name]]
        return list(self.form.get(name) or self.query.get(name) or [])

    def file(self, name: str) -> UploadedFile | None:
        return next((item for item in self.files if item.name == name), None)

    def logged_fields(self) -> dict[str, Any]:
        if isinstance(self.json, dict):
            return dict(self.json)
        merged = {**self.query, **self.form}
        return {key: values[0] if len(values) == 1 else list(values) for key, values in merged.items()}

    def logged_headers(self) -> dict[str, str]:
        return {key.lower(): str(value) for key, value in self.headers.items()}


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes
    headers: dict[str, str] = field(default_factory=dict)


class Answer(Exception):
    """Raised by a handler to answer at once (usually with the platform's error shape)."""

    def __init__(self, reply: Reply, outcome: str = "rejected") -> None:
        super().__init__(reply.status)
        self.reply = reply
        self.outcome = outcome


@dataclass(frozen=True)
class Route:
    platform: str
    op: str
    handler: Callable[[Incoming], Reply]
    creates_post: bool = False


# --- shared state -----------------------------------------------------------------------------------
class SandboxState:
    """Everything the platforms remember, behind one lock."""

    def __init__(self, credentials: SandboxCredentials, accounts: Accounts | None = None) -> None:
        self.credentials = credentials
        # What reset() returns to: the default credentials plus the accounts given at start.
        self.initial_accounts = accounts or Accounts.from_credentials(credentials)
        self.lock = threading.RLock()
        self.release = threading.Event()  # set on stop: hanging requests give up at once
        self._ids = itertools.count(1)
        self.base_url = ""
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.records: list[Record] = []
            self.request_log: list[RequestLog] = []
            self.behaviours: dict[str, Behaviour] = {name: Behaviour() for name in PLATFORMS}
            self.idempotency: dict[tuple[str, str, str], str] = {}  # (platform, scope, key) -> record id
            self.accounts = self.initial_accounts.copy()
            self.media_polls: dict[str, int] = {}
            self.stats: dict[tuple[str, str], dict[str, int]] = {}  # (platform, post id) -> figures set
            self.telegram_counters: dict[int, itertools.count[int]] = {}  # message ids are per chat
            # Mastodon: {"notification": the entity, "filtered": by the account's notification policy}
            self.mastodon_notifications: list[dict[str, Any]] = []
            self.telegram_updates: list[dict[str, Any]] = []  # queued for getUpdates (telegram_updates.py)

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def behaviour(self, platform: str) -> Behaviour:
        with self.lock:
            return self.behaviours[platform]

    def set_behaviour(self, platform: str, behaviour: Behaviour) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}")
        with self.lock:
            self.behaviours[platform] = behaviour

    def take(self, platform: str, counter: str) -> bool:
        """Consume one from a behaviour counter; True if there was one."""
        with self.lock:
            behaviour = self.behaviours[platform]
            if getattr(behaviour, counter) <= 0:
                return False
            self.behaviours[platform] = replace(behaviour, **{counter: getattr(behaviour, counter) - 1})
            return True

    def add(self, record: Record) -> Record:
        with self.lock:
            self.records.append(record)
            return record

    def find(self, platform: str, record_id: str, *, op: str | None = None) -> Record | None:
        with self.lock:
            for record in reversed(self.records):
                if record.platform == platform and record.id == record_id and (op is None or record.op == op):
                    return record
        return None

    def log(self, entry: RequestLog) -> None:
        with self.lock:
            self.request_log.append(entry)

    def figures(self, platform: str, record: Record) -> dict[str, int]:
        """One post's figures: ``views``, ``reposts``, ``quotes``, ``replies``, ``likes``.

        Set ones (:meth:`set_figures`) win. Otherwise they are made up, steadily, from the post
        id (a few hundred to a few thousand views, likes a few per cent of them, shares and
        replies fewer), and the replies the sandbox holds to the post are added to the replies.
        """
        seed = int(hashlib.sha256(f"{platform}:{record.id}".encode()).hexdigest()[:12], 16)
        views = 300 + seed % 4700
        made = {
            "views": views,
            "reposts": views * (5 + seed % 11) // 1000,
            "quotes": views * (seed % 3) // 1000,
            "replies": views * (2 + seed % 7) // 1000,
            "likes": views * (15 + seed % 36) // 1000,
        }
        with self.lock:
            replies = sum(
                1
                for r in self.records
                if r.platform == platform
                and not r.deleted
                and record.id in (r.data.get("in_reply_to_id"), r.data.get("parent"), _x_reply_to(r))
            )
            chosen = self.stats.get((platform, record.id))
        if chosen is not None:
            return {**made, **chosen}
        made["replies"] += replies
        return made

    def set_figures(self, platform: str, post_id: str, **figures: int) -> None:
        unknown = set(figures) - {"views", "reposts", "quotes", "replies", "likes"}
        if unknown:
            raise ValueError(f"unknown figures: {', '.join(sorted(unknown))}")
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in figures.values()):
            raise ValueError("figures must be whole numbers, not negative")
        with self.lock:
            self.stats[(platform, str(post_id))] = {**self.stats.get((platform, str(post_id)), {}), **figures}

    def age(self, platform: str, post_id: str, seconds: float) -> Record:
        """Make a post ``seconds`` older (its creation time, and a Telegram message's ``date``),
        to try what a platform does with old posts (Telegram: no deleting after 48 hours)."""
        with self.lock:
            for record in self.records:
                ids = [str(i) for i in record.data.get("message_ids", [])]
                if record.platform == platform and record.is_post and (record.id == str(post_id) or str(post_id) in ids):
                    record.created_at -= seconds
                    for message in record.data.get("messages", []):
                        message["date"] = int(message["date"] - seconds)
                    return record
        raise ValueError(f"no {platform} post {post_id!r}")

    def posts(self, platform: str, *, include_deleted: bool = False) -> list[Record]:
        with self.lock:
            return [
                r
                for r in self.records
                if r.platform == platform and r.is_post and (include_deleted or not r.deleted)
            ]


def _x_reply_to(record: Record) -> str | None:
    reply = record.fields.get("reply") if record.platform == "x" else None
    return str(reply.get("in_reply_to_tweet_id")) if isinstance(reply, dict) else None


def new_record(
    state: SandboxState,
    platform: str,
    op: str,
    request: Incoming,
    record_id: str,
    *,
    is_post: bool,
    data: dict[str, Any] | None = None,
) -> Record:
    return state.add(
        Record(
            platform=platform,
            op=op,
            id=record_id,
            is_post=is_post,
            method=request.method,
            path=request.path,
            headers=request.logged_headers(),
            fields=request.logged_fields(),
            files=list(request.files),
            idempotency_key=request.header("Idempotency-Key"),
            created_at=time.time(),
            data=data or {},
        )
    )


def bearer(request: Incoming) -> str:
    scheme, _, token = request.header("Authorization").partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else ""


def iso_time(when: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
