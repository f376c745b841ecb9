"""Template helpers for the public pages (engage/public_base.html and its children)."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

from core.sanitize import linkify
from engage.public.i18n import chrome_context, visitor_language

_HASHTAG = re.compile(r"(^|\s)(#[^\s#<>&]+)")

register = template.Library()


@register.simple_tag(takes_context=True)
def public_chrome(context: template.Context) -> dict[str, Any]:
    """The page's words, languages and switcher. Views of the public pages put these in the
    context; any other page that extends public_base.html gets them from the request."""
    if "ui" in context and "lang" in context and "lang_links" in context:
        return {key: context[key] for key in ("ui", "lang", "lang_links", "current_language", "lang_query")}
    request = context.get("request")
    if request is None:
        from django.test import RequestFactory

        request = RequestFactory().get("/")
    return chrome_context(request, visitor_language(request))


@register.filter
def language_name(code: str) -> str:
    """A language's name in that language: from the site's list, then Django's, else the code."""
    code = (code or "").lower()
    names = dict(settings.LANGUAGES)
    if code in names:
        return names[code]
    info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
    return info.get("name_local") or code.upper()


@register.filter
def public_body(text: str) -> SafeString:
    """A message's text as paragraphs: escaped, web links made links, and each hashtag isolated in
    ``<bdi>`` so that "#DerbyDay" keeps its # in front inside right-to-left text."""
    html = _HASHTAG.sub(r"\1<bdi>\2</bdi>", str(linkify(text or "")))
    return mark_safe(linebreaks(html, autoescape=False))  # noqa: S308 - escaped by linkify above
