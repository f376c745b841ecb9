"""What every adapter shares: its config, its secrets, its HTTP client and text counting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from campaigns.adapters import textcount
from campaigns.adapters.base import HealthResult, PermanentError, PublishResult
from campaigns.adapters.http import Redactor, client_from_config


class AdapterBase:
    """Default behaviour; platform modules override what their platform does differently."""

    kind: ClassVar[str] = ""
    supports_withdraw: ClassVar[bool] = False
    honours_idempotency_key: ClassVar[bool] = False
    can_lookup: ClassVar[bool] = False
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
        return textcount.count(self.kind, "")[1]

    def count(self, text: str) -> int:
        return textcount.count(self.kind, text)[0]

    # --- optional operations -------------------------------------------------------------
    def withdraw(self, external_id: str) -> None:
        raise NotImplementedError(f"{self.kind} posts cannot be withdrawn through the platform")

    def lookup(self, *, idempotency_key: str) -> PublishResult | None:
        """No platform we post to can find a post by our key: reconcile by hand."""
        return None

    def check(self) -> HealthResult:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError
