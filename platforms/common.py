"""What every adapter shares: its config, its secrets, its HTTP client and text counting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

import httpx

from platforms import counting
from platforms.base import HealthResult, LookupQuery, LookupResult, PermanentError, PostStats
from platforms.http import Redactor, client_from_config


class AdapterBase:
    """Default behaviour; platform modules override what their platform does differently."""

    kind: ClassVar[str] = ""
    supports_withdraw: ClassVar[bool] = False
    honours_idempotency_key: ClassVar[bool] = False
    can_lookup: ClassVar[bool] = False
    supports_stats: ClassVar[bool] = False
    stats_batch_size: ClassVar[int] = 1  # ids per platform request in ``stats_many``
    stats_figures: ClassVar[frozenset[str]] = frozenset()  # which PostStats figures the platform gives
    required_config: ClassVar[tuple[str, ...]] = ()
    required_secrets: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        config: Mapping[str, Any],
        secrets: Mapping[str, str],
        http: httpx.Client | None = None,
    ) -> None:
        missing = [key for key in self.required_config if not config.get(key)]
        missing += [key for key in self.required_secrets if not secrets.get(key)]
        if missing:
            raise PermanentError(f"{self.kind}: channel is missing {', '.join(sorted(missing))}")
        self.config = config
        self.secrets = secrets
        self.redact = Redactor(str(value) for value in secrets.values())
        self._http = http
        self._owns_http = http is None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = client_from_config(self.config)
        return self._http

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> AdapterBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- text counting -----------------------------------------------------------------
    @property
    def limit(self) -> int:
        """The most ``count`` may be (in the platform's unit); config ``max_characters`` overrides."""
        override = self.config.get("max_characters")
        if override:
            return int(override)
        return counting.count(self.kind, "")[1]

    def count(self, text: str) -> int:
        return counting.count(self.kind, text)[0]

    # --- optional operations -------------------------------------------------------------
    @classmethod
    def lookup_offered(cls, config: Mapping[str, Any]) -> bool:
        """Whether a channel with this config can be asked whether a post went out (``lookup``).
        Most platforms can or cannot whatever the config (``can_lookup``); the partner webhook can
        when the partner offers the status look-up (config ``status_lookup``)."""
        return cls.can_lookup

    def withdraw(self, external_id: str) -> None:
        raise NotImplementedError(f"{self.kind} posts cannot be withdrawn through the platform")

    def lookup(self, query: LookupQuery) -> LookupResult:
        """The default: this platform cannot be asked whether a post went out; a person checks."""
        return LookupResult("unknown", f"{self.kind} cannot be asked whether a post went out.")

    def check(self) -> HealthResult:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError

    def stats(self, external_id: str) -> PostStats | None:
        """The post's figures, or None: the platform gives none (the default) or the post is gone."""
        return None

    def stats_many(self, external_ids: Iterable[str]) -> dict[str, PostStats]:
        """Figures for several posts; posts that are gone are left out. Platforms that answer
        for many ids in one request (X) override this; errors propagate as adapter errors, so
        a 429 stops the caller at once."""
        found: dict[str, PostStats] = {}
        for external_id in external_ids:
            figures = self.stats(external_id)
            if figures is not None:
                found[external_id] = figures
        return found

    def stats_problems(self, external_id: str) -> list[str]:
        """Why figures would come back incomplete, learned by asking about one sent post (a
        metric the platform refuses, a missing permission): sentences for the channel's health,
        never the platform's words. None known: ``[]`` (the default)."""
        return []


def figure(value: Any) -> int | None:
    """A count from a platform's JSON: a non-negative whole number, or None if it is absent or odd."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def parse_expiry(value: Any) -> datetime | None:
    """An expiry from a channel's config: unix seconds, an ISO 8601 time or date (a date means
    the start of that day, UTC). Empty, zero or unreadable: None."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(int(float(value)), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None
