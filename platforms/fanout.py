"""Sending one payload as one request per recipient, without ever sending twice.

Used by the SMS and email adapters. The rules (see ``base.PartialDeliveryError``):

* a recipient refused for good is recorded as rejected and the others are still sent;
* any other error stops the run;
* nothing accepted: the error is raised as it is (a TransientError is then safe to retry);
* something accepted but not everything: :class:`PartialDeliveryError`.
"""

from __future__ import annotations

from collections.abc import Callable

from platforms.base import (
    AdapterError,
    PartialDeliveryError,
    PermanentError,
    PublishResult,
    UnconfirmedError,
)


def fan_out(
    *,
    what: str,
    recipients: tuple[str, ...],
    send_one: Callable[[str], str],
    is_recipient_error: Callable[[PermanentError], bool],
    make_result: Callable[[dict[str, str]], PublishResult],
) -> PublishResult:
    """``send_one(recipient)`` returns the platform's id for that recipient's copy."""
    accepted: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for position, recipient in enumerate(recipients):
        try:
            accepted[recipient] = send_one(recipient)
        except PermanentError as exc:
            if is_recipient_error(exc):
                rejected[recipient] = exc.detail
                continue
            _stop(what, exc, recipients, position, accepted, rejected, make_result)
        except AdapterError as exc:
            _stop(what, exc, recipients, position, accepted, rejected, make_result)
    if not accepted:
        raise PermanentError(f"{what}: every recipient was rejected: {'; '.join(rejected.values())}")
    result = make_result(accepted)
    if rejected:
        raise PartialDeliveryError(
            f"{what}: sent to {len(accepted)}, rejected {len(rejected)}: {'; '.join(rejected.values())}",
            accepted=accepted,
            rejected=rejected,
            result=result,
        )
    return result


def _stop(
    what: str,
    exc: AdapterError,
    recipients: tuple[str, ...],
    position: int,
    accepted: dict[str, str],
    rejected: dict[str, str],
    make_result: Callable[[dict[str, str]], PublishResult],
) -> None:
    if not accepted:
        raise exc
    current = recipients[position]
    later = recipients[position + 1 :]
    unconfirmed = (current,) if isinstance(exc, UnconfirmedError) else ()
    unsent = later if unconfirmed else (current, *later)
    raise PartialDeliveryError(
        f"{what}: sent to {len(accepted)} of {len(recipients)} recipients, then: {exc.detail}",
        accepted=accepted,
        unconfirmed=unconfirmed,
        unsent=unsent,
        rejected=rejected,
        result=make_result(accepted),
        http_status=exc.http_status,
    ) from None
