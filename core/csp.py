"""django-csp's middleware with the policy built once per process, not twice per response.

``csp.middleware.CSPMiddleware`` rebuilds the Content-Security-Policy string (and the
report-only one) from the settings on every response, about 60 µs: a third of what a cached
public page costs in process (docs/benchmarks.md, "Public pages"). The policy only changes when
a view asks for its own (the ``csp_update``/``csp_replace``/``csp_exempt`` decorators set
attributes on the response) or a template uses a nonce; such a response goes through
django-csp's own code unchanged. Every other response gets the same headers, built once from
the settings (and again after a test overrides them).
"""

from __future__ import annotations

from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

# Attributes by which a response asks django-csp for a policy of its own.
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_built: dict[str, Any] = {}


@receiver(setting_changed)
def _forget(setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _built.clear()


def _policies() -> dict[str, Any]:
    if not _built:
        _built.update(
            {
                "headers": tuple(
                    (header, policy)
                    for header, policy in (
                        (HEADER, build_policy()),
                        (HEADER_REPORT_ONLY, build_policy(report_only=True)),
                    )
                    if policy
                ),
                "excluded": {
                    HEADER: tuple(
                        (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get(
                            "EXCLUDE_URL_PREFIXES", None
                        )
                        or ()
                    ),
                    HEADER_REPORT_ONLY: tuple(
                        (getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}).get(
                            "EXCLUDE_URL_PREFIXES", None
                        )
                        or ()
                    ),
                },
            }
        )
    return _built


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, a) for a in _OWN_POLICY)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        built = _policies()
        for header, policy in built["headers"]:
            if header not in response and not request.path_info.startswith(built["excluded"][header]):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
