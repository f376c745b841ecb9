"""One platform sandbox for the adapter tests, reset before each test.

After each test, every request the sandbox received for a platform with a contract
(``tests/contracts``: X, Twilio) is validated against that platform's own OpenAPI
specification (``_platform_contracts`` in ``tests/conftest.py``). A test that sends malformed
requests on purpose, to see the sandbox refuse them, is marked ``@pytest.mark.contract_exempt``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from platforms import get_adapter
from platforms.base import Adapter, MediaItem
from platforms.sandbox import Sandbox

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def image(name: str = "map.png", alt: str = "Map of the closed roads around the stadium") -> MediaItem:
    return MediaItem(content=PNG, mime="image/png", alt_text=alt, filename=name)


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox.start(port=0)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Sandbox:
    running_sandbox.reset()
    return running_sandbox


@pytest.fixture
def make_adapter(sandbox: Sandbox) -> Iterator[Callable[..., Adapter]]:
    """``make_adapter(kind, read_timeout=..., **config)``: an adapter pointed at the sandbox."""
    made: list[Any] = []

    def make(kind: str, *, secrets: dict[str, str] | None = None, **overrides: Any) -> Adapter:
        config, default_secrets = sandbox.config_for(kind)
        if kind == "sms":  # a channel's recipients are rows; an adapter used directly is given a list
            config["recipients"] = ["+447700900001", "+447700900002"]
        config = {"connect_timeout": 1.0, "read_timeout": 3.0, **config, **overrides}
        adapter = get_adapter(kind, config=config, secrets=secrets or default_secrets)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()

