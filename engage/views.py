"""The public pages: news, in the visitor's language where a variant exists."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation.trans_real import parse_accept_lang_header

from engage import selectors


def visitor_languages(request: HttpRequest) -> list[str]:
    chosen = request.GET.get("lang", "").strip().lower()
    header = [lang for lang, _q in parse_accept_lang_header(request.headers.get("Accept-Language", ""))]
    ordered = ([chosen] if chosen else []) + header
    return [lang for lang in ordered if lang and lang != "*"] or ["en"]


def news_list(request: HttpRequest) -> HttpResponse:
    languages = visitor_languages(request)
    easy = request.GET.get("format") == "easy_read"
    page = Paginator(selectors.published_messages(), 20).get_page(request.GET.get("page"))
    items = [{"message": m, "text": selectors.pick_variant(m, languages, easy_read=easy)} for m in page]
    return render(request, "engage/news_list.html", {"page": page, "items": items, "lang": languages[0],
                                                     "easy": easy})


def news_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.published_messages().filter(pk=pk).first()
    if message is None:
        raise Http404("No such news item.")
    languages = visitor_languages(request)
    text = selectors.pick_variant(message, languages, easy_read=request.GET.get("format") == "easy_read")
    return render(request, "engage/news_detail.html", {"message": message, "text": text,
                                                       "variants": message.variants.all()})
