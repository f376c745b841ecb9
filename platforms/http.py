"""The one HTTP client every adapter uses, and the mapping of HTTP failures to adapter errors.

Timeouts are explicit (connect 5 s, read 15 s by default; a channel's config may set
``connect_timeout`` and ``read_timeout``). Every request says whether retrying it is safe:

* could not connect, or the request was not fully written: :class:`TransientError`;
* read timeout, connection reset or dropped after the request was written: the platform
  may have acted on it, so :class:`UnconfirmedError` unless ``retry_safe`` (the platform
  honours our idempotency key, or the request creates nothing visible), then
  :class:`TransientError`.

Every client this module makes connects through :class:`~platforms.netguard.GuardedTransport`
(https only, public addresses only, checked at connection time): a destination the policy refuses
is a :class:`PermanentError`, since retrying cannot help. Error details never quote the
platform's answer (a status code and a fixed sentence only), so whatever a host answers is
never shown back to users.

Secrets are redacted from every detail this module builds, and the ``httpx`` logger gets a
filter that hides Telegram bot tokens, which travel in the URL path, and the
``input_token`` of Facebook's ``debug_token``, which travels in the query string.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import re
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
from django.conf import settings

from platforms.base import (
    AdapterError,
    AuthExpiredError,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from platforms.netguard import DestinationRefused, GuardedTransport

USER_AGENT = "Engage/0.1"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # the most of a platform's answer that is read
REDACTED = "[redacted]"

logger = logging.getLogger(__name__)

_BOT_TOKEN_IN_PATH = re.compile(r"/bot[^/\s\"']+/")
_TOKEN_IN_QUERY = re.compile(r"([?&](?:input_token|access_token)=)[^&\s\"']+")


class _HttpxUrlRedactor(logging.Filter):
    """httpx logs every request URL at INFO; Telegram puts the bot token in that URL, and
    Facebook's ``debug_token`` the token it inspects."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        if "/bot" in message or "_token=" in message:
            message = _BOT_TOKEN_IN_PATH.sub(f"/bot{REDACTED}/", message)
            record.msg = _TOKEN_IN_QUERY.sub(rf"\g<1>{REDACTED}", message)
            record.args = ()
        return True


def _install_log_filter() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _HttpxUrlRedactor) for f in httpx_logger.filters):
        httpx_logger.addFilter(_HttpxUrlRedactor())


_install_log_filter()


class Redactor:
    """Replaces every secret (and its URL-encoded form) in a string with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < 4:
                continue
            forms.update({secret, quote(secret, safe=""), quote(secret, safe=":/@"), quote_plus(secret)})
        # Longest first, so a secret containing another is replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form:
                text = text.replace(form, REDACTED)
        return text


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: loading the CA bundle costs ~40 ms each time."""
    return httpx.create_ssl_context()


def make_client(
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client with explicit timeouts and our User-Agent. Redirects are not followed, and every
    connection goes through the outbound address policy (``transport`` replaces it: tests only)."""
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=transport or GuardedTransport(
            verify=_ssl_context(), proxy=str(getattr(settings, "ENGAGE_OUTBOUND_PROXY", "") or "")),
        verify=_ssl_context(),
        trust_env=False,
    )


def client_from_config(config: Mapping[str, Any]) -> httpx.Client:
    return make_client(
        connect_timeout=float(config.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
        read_timeout=float(config.get("read_timeout", DEFAULT_READ_TIMEOUT)),
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    retry_safe: bool,
    redact: Redactor,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; turn transport failures into adapter errors.

    ``what`` names the operation in error details ("mastodon status"). ``retry_safe`` says
    whether a timeout after the request was written may be retried blindly.
    """
    try:
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        follow_redirects = kwargs.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)
        response = client.send(client.build_request(method, url, **kwargs), stream=True, auth=auth,
                               follow_redirects=follow_redirects)
        try:
            return _bounded(response, what=what, retry_safe=retry_safe)
        finally:
            response.close()
    except DestinationRefused as exc:
        raise PermanentError(redact(f"{what}: refused by the outbound address policy: {exc}")) from None
    except httpx.InvalidURL:
        raise PermanentError(f"{what}: the address is not a valid URL") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientError(redact(f"{what}: could not connect ({type(exc).__name__}: {exc})")) from None
    except (httpx.WriteError, httpx.WriteTimeout) as exc:
        # The request was not completely written, so the platform cannot have acted on it.
        raise TransientError(redact(f"{what}: sending failed ({type(exc).__name__}: {exc})")) from None
    except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
        detail = redact(f"{what}: no answer after the request was sent ({type(exc).__name__}: {exc})")
        if retry_safe:
            raise TransientError(detail + "; safe to retry") from None
        raise UnconfirmedError(detail + "; it may have been accepted") from None
    except httpx.HTTPError as exc:
        # Bad URL, unsupported protocol, proxy misconfiguration: a configuration problem.
        raise PermanentError(redact(f"{what}: {type(exc).__name__}: {exc}")) from None


def _bounded(response: httpx.Response, *, what: str, retry_safe: bool) -> httpx.Response:
    """The response, read whole, unless its (decoded) body passes ``MAX_ANSWER_BYTES``: platform
    answers are small JSON documents, and a host that streams without end (or a compression
    bomb) must not fill a worker's memory."""
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > MAX_ANSWER_BYTES:
            detail = f"{what}: HTTP {response.status_code}: the answer is larger than {MAX_ANSWER_BYTES} bytes"
            if retry_safe:
                raise PermanentError(detail, http_status=response.status_code)
            raise UnconfirmedError(detail + "; it may have been accepted", http_status=response.status_code)
        chunks.append(chunk)
    skip = {"content-encoding", "content-length", "transfer-encoding"}  # the content below is decoded
    return httpx.Response(
        response.status_code,
        headers=[(name, value) for name, value in response.headers.multi_items() if name.lower() not in skip],
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )


_STATUS_TEXT = {
    400: "the platform refused the request",
    401: "the platform refused our credentials",
    402: "the platform account needs payment",
    403: "the platform refused access",
    404: "not found at this address",
    405: "the address does not take this request",
    408: "the platform timed out",
    409: "the platform reported a conflict",
    410: "gone from the platform",
    413: "too large for the platform",
    415: "the platform refused the format",
    422: "the platform refused the content",
    429: "rate limited by the platform",
}
_PLATFORM_CODE = re.compile(r"^[0-9]{1,10}(/[0-9]{1,10})?$")


def status_text(status: int) -> str:
    """A fixed sentence for an HTTP status: what error details say instead of quoting the answer."""
    if status in _STATUS_TEXT:
        return _STATUS_TEXT[status]
    if status >= 500:
        return "the platform had an error"
    if 300 <= status < 400:
        return "the platform answered with a redirect, which is not followed"
    if status >= 400:
        return "the platform refused the request"
    return "unexpected answer"


def code_text(code: object) -> str:
    """`` (code 190/463)`` for a platform's numeric error code; nothing for anything else."""
    text = str(code) if code is not None and not isinstance(code, bool) else ""
    return f" (code {text})" if _PLATFORM_CODE.match(text) else ""


def answer_detail(what: str, response: httpx.Response, *, platform_code: object = None, explain: str = "") -> str:
    """``"<what>: HTTP <status>: <fixed sentence>"``: never any of the answer's body. ``explain`` is
    the adapter's own fixed sentence for an error it recognised (never the platform's text)."""
    status = response.status_code
    return f"{what}: HTTP {status}: {explain or status_text(status)}{code_text(platform_code)}"


def error_for_status(
    response: httpx.Response,
    *,
    what: str,
    detail: str,
    redact: Redactor,
    retry_safe: bool,
    retry_after: float | None = None,
    platform_code: object = None,
    explain: str = "",
) -> AdapterError:
    """The error for a non-2xx answer, by status code alone.

    Platform adapters parse their error body first (for the retry delay and the platform codes
    that override the status) and fall back to this. ``detail`` is the platform's own error
    text: it is kept on the error as ``platform_message`` (for the adapter's own decisions and
    the worker's log), never in ``detail``, which is stored and shown to users: that says the
    status, a fixed sentence and a numeric platform code only. 504 means a gateway gave up
    waiting for the platform, which may still have acted: unconfirmed unless the request is
    retry safe.
    """
    status = response.status_code
    message = redact(answer_detail(what, response, platform_code=platform_code, explain=explain))
    error: AdapterError
    if status == 429:
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = TransientError(message, http_status=status, retry_after=retry_after)
    elif status == 401:
        error = AuthExpiredError(message, http_status=status)
    elif status == 504 and not retry_safe:
        error = UnconfirmedError(message + "; it may have been accepted", http_status=status)
    elif status >= 500 or status == 408:
        error = TransientError(message, http_status=status, retry_after=retry_after)
    else:
        error = PermanentError(message, http_status=status)
    error.platform_message = redact(detail)
    return error


def json_or_empty(response: httpx.Response) -> Any:
    """The JSON body, or ``{}`` when the body is empty or not JSON (a proxy's HTML page)."""
    try:
        return response.json()
    except ValueError:
        return {}


def short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
