"""The published audit chain heads (accounts.audit_publish), for anyone to copy and check:
``/transparency/audit-head.json`` (the latest, signed), ``/transparency/audit-heads.json`` (every one
published, newest first) and ``/transparency/audit-key.pem`` (the public key that signed the latest)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.audit_publish import publication_document
from accounts.selectors import audit_head_publications
from engage.public.cache import public_page

HISTORY_LIMIT = 3660  # ten years of daily heads


def _not_yet() -> JsonResponse:
    return JsonResponse({"detail": "No audit chain head has been published yet.", "code": "not_published"},
                        status=404)


@require_safe
@public_page(params=())
def audit_head_json(request: HttpRequest) -> HttpResponse:
    latest = audit_head_publications().first()
    if latest is None:
        return _not_yet()
    response = JsonResponse({
        **publication_document(latest),
        "public_key": latest.public_key,
        "public_key_url": request.build_absolute_uri(reverse("public:audit_key")),
        "history_url": request.build_absolute_uri(reverse("public:audit_heads")),
    })
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@public_page(params=())
def audit_heads_json(request: HttpRequest) -> HttpResponse:
    heads = [publication_document(p) for p in audit_head_publications()[:HISTORY_LIMIT]]
    response = JsonResponse({"audit_heads": heads})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@public_page(params=())
def audit_key_pem(request: HttpRequest) -> HttpResponse:
    latest = audit_head_publications().first()
    if latest is None:
        return HttpResponse("No audit chain head has been published yet.\n", status=404, content_type="text/plain")
    response = HttpResponse(latest.public_key, content_type="application/x-pem-file")
    response["Access-Control-Allow-Origin"] = "*"
    return response
