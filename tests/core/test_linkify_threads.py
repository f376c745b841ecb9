"""linkify() from many threads at once, as gunicorn's gthread workers render public pages.

bleach's Linker keeps its html5lib parser's state on the instance; one Linker shared by every
thread mixed two renders' parse trees and raised IndexError (a 500 on the live page's JSON, found
by bench/event_day.py when a publish made several threads rebuild the page at the same moment).
"""

from __future__ import annotations

import sys
import threading

from core.sanitize import linkify

TEXT = ("Update: the A6 is closed at https://example.police.uk/roads?id={n} until 7pm; use the park "
        "and ride. Officers are at Gate {n}. More at https://example.org/{n} #DerbyDay ") * 3


def test_linkify_gives_each_thread_its_own_parse():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so that a shared parser is caught
    failures: list[str] = []
    start = threading.Barrier(8)

    def render(worker: int) -> None:
        start.wait(10)
        for n in range(worker * 1000, worker * 1000 + 60):
            try:
                html = str(linkify(TEXT.format(n=n)))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                failures.append(repr(exc))
                continue
            if html.count(f'href="https://example.org/{n}"') != 3 or f"Gate {n}." not in html:
                failures.append(f"wrong text for {n}")

    try:
        threads = [threading.Thread(target=render, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(previous)
    assert failures == []
