"""The platforms' own OpenAPI files (trimmed to what our adapters call), and a check that a
request we made is one the platform's specification allows.

Every request the sandbox receives is logged raw (method, path, query string, headers and
body: :class:`platforms.sandbox.RequestLog`). :func:`assert_requests_conform` validates each
one for a platform that has a contract here, with ``openapi-core`` (parameters, content type,
JSON and form bodies against their schemas), plus three rules ``openapi-core`` does not enforce:

* ``strict_query``: a query parameter the operation does not declare is refused (X answers an
  unknown query parameter with a 400);
* a form or multipart body whose schema says ``additionalProperties: false`` may carry no
  other field (``openapi-core`` reads only the declared ones and drops the rest);
* an operation that requires authentication gets an ``Authorization`` header of a scheme the
  operation accepts (``openapi-core`` skips OAuth 2.0 requirements).

To add a platform: trim its specification with ``python -m tests.contracts.trim``, record the
source in ``README.md`` beside this file, and add a :class:`Contract` to ``CONTRACTS`` under the
sandbox's platform name. The autouse fixture ``_platform_contracts`` (``tests/conftest.py``)
then validates every request to that platform after each test that uses a ``sandbox``.
"""

from __future__ import annotations

import email.message
import functools
import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Contract:
    platform: str  # the sandbox's platform name (a channel kind)
    file: str  # beside this module
    strict_query: bool  # the platform refuses query parameters its specification does not declare
    # Paths the adapters call that the specification does not describe (documented elsewhere).
    outside: tuple[str, ...] = ()


CONTRACTS: dict[str, Contract] = {
    # OAuth 2.0 token refresh (RFC 6749 section 6) is not in X's OpenAPI file.
    "x": Contract("x", "x_openapi.json", strict_query=True, outside=("/2/oauth2/token",)),
    "sms": Contract("sms", "twilio_messages.json", strict_query=False),
}


@dataclass(frozen=True)
class RawRequest:
    """What went over the wire, as the sandbox received it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


@functools.cache
def _document(file: str) -> dict[str, Any]:
    return json.loads((HERE / file).read_text(encoding="utf-8"))


@functools.cache
def _openapi(file: str) -> Any:
    from openapi_core import OpenAPI  # noqa: PLC0415 - a dev dependency, loaded when first used

    return OpenAPI.from_dict(_document(file))


class _CoreRequest:
    """The request protocol ``openapi-core`` validates (``openapi_core.protocols.Request``)."""

    def __init__(self, raw: RawRequest, host_url: str) -> None:
        from openapi_core.datatypes import RequestParameters  # noqa: PLC0415
        from werkzeug.datastructures import Headers, ImmutableMultiDict  # noqa: PLC0415

        self.method = raw.method.lower()
        self.host_url = host_url
        self.path = raw.path
        self.full_url_pattern = host_url + raw.path
        self.body = raw.body or None
        self.content_type = raw.content_type.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(raw.query, keep_blank_values=True)),
            header=Headers(list(raw.headers.items())),
            cookie=ImmutableMultiDict(),
        )


def _operation(document: dict[str, Any], method: str, path: str) -> tuple[dict[str, Any], list[Any]] | None:
    """The operation ``method path`` matches, and its path item's parameters."""
    for pattern, item in document["paths"].items():
        pieces, parts = pattern.strip("/").split("/"), path.strip("/").split("/")
        if len(pieces) != len(parts):
            continue
        if all(p == q or (p.startswith("{") and "}" in p and q.endswith(p[p.index("}") + 1 :]))
               for p, q in zip(pieces, parts, strict=True)):
            operation = item.get(method.lower())
            if operation is not None:
                return operation, item.get("parameters", [])
    return None


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        _, _, section, name = node["$ref"].split("/", 3)
        node = document["components"][section][name]
    return node


def _form_fields(raw: RawRequest) -> list[str]:
    ctype = raw.content_type.split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        return [name for name, _ in parse_qsl(raw.body.decode("utf-8"), keep_blank_values=True)]
    if ctype == "multipart/form-data":
        message = email.message_from_bytes(
            b"Content-Type: " + raw.content_type.encode("latin-1") + b"\r\n\r\n" + raw.body
        )
        return [str(part.get_param("name", header="content-disposition"))
                for part in message.get_payload() if isinstance(part, email.message.Message)]
    return []


def _extra_rules(contract: Contract, raw: RawRequest) -> list[str]:
    document = _document(contract.file)
    found = _operation(document, raw.method, raw.path)
    if found is None:
        return []  # openapi-core reports the unknown path or method
    operation, path_parameters = found
    problems: list[str] = []
    declared = {_resolve(document, p)["name"] for p in [*path_parameters, *operation.get("parameters", [])]
                if _resolve(document, p).get("in") == "query"}
    if contract.strict_query:
        for name, _ in parse_qsl(raw.query, keep_blank_values=True):
            if name not in declared:
                problems.append(f"query parameter {name!r} is not in the specification "
                                f"(declared: {', '.join(sorted(declared)) or 'none'})")
    media = (operation.get("requestBody") or {}).get("content") or {}
    ctype = raw.content_type.split(";")[0].strip().lower()
    schema = _resolve(document, (media.get(ctype) or {}).get("schema"))
    if isinstance(schema, dict) and schema.get("additionalProperties") is False:
        allowed = set(schema.get("properties") or {})
        for name in _form_fields(raw):
            if name not in allowed:
                problems.append(f"body field {name!r} is not allowed (additionalProperties: false; "
                                f"allowed: {', '.join(sorted(allowed))})")
    security = operation.get("security", document.get("security")) or []
    if security:
        schemes = document.get("components", {}).get("securitySchemes", {})
        accepted = set()
        for requirement in security:
            for name in requirement:
                scheme = schemes.get(name, {})
                accepted.add("bearer" if scheme.get("type") == "oauth2" else str(scheme.get("scheme", "")).lower())
        given = raw.header("Authorization").partition(" ")[0].lower()
        if given not in accepted:
            problems.append(f"Authorization scheme {given or 'missing'!r} is not one the operation accepts "
                            f"({', '.join(sorted(accepted))})")
    return problems


def request_problems(platform: str, raw: RawRequest) -> list[str]:
    """Everything the platform's specification refuses in ``raw`` (empty: it conforms)."""
    from openapi_core.exceptions import OpenAPIError  # noqa: PLC0415

    contract = CONTRACTS[platform]
    document = _document(contract.file)
    host_url = document["servers"][0]["url"].rstrip("/")
    problems: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Unsupported scheme type": OAuth 2.0, checked below
            _openapi(contract.file).validate_request(_CoreRequest(raw, host_url))
    except OpenAPIError as exc:
        cause = exc.__cause__
        details = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None) or ()
        problems.append(" ".join([str(exc), *(getattr(e, "message", str(e)) for e in details)]))
    problems.extend(_extra_rules(contract, raw))
    return problems


def assert_requests_conform(platform: str, requests: Iterable[Any]) -> int:
    """Validate each logged request (``RequestLog``) to ``platform``; fail naming every problem.

    Returns how many requests were checked."""
    failures: list[str] = []
    checked = 0
    for logged in requests:
        if logged.path in CONTRACTS[platform].outside:
            continue
        raw = RawRequest(logged.method, logged.path, logged.query, logged.headers, logged.body)
        checked += 1
        for problem in request_problems(platform, raw):
            failures.append(f"{raw.method} {raw.path}{'?' + raw.query if raw.query else ''}: {problem}")
    if failures:
        source = CONTRACTS[platform].file
        raise AssertionError(f"requests to {platform} that its specification ({source}) refuses:\n  "
                             + "\n  ".join(failures))
    return checked
