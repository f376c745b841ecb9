"""The sandbox's root page (``GET /``): what it imitates, and the posts it has received, newest
first, so a person running the demo can see what Engage sent without reading the control API."""

from __future__ import annotations

import html
import time

from platforms.sandbox.core import PLATFORMS, Record, Reply, SandboxState

IMITATES = {
    "mastodon": ("Mastodon", "a Mastodon server's REST API: statuses, media uploads, mentions"),
    "telegram": ("Telegram", "the Telegram Bot API: messages to a channel, photos, updates"),
    "x": ("X", "the X API v2: posts and media"),
    "facebook": ("Facebook", "the Facebook Graph API: Page posts, photos, token checks and insights"),
    "sms": ("SMS", "Twilio's Messaging API: text messages to each number on a list"),
    "webhook": ("Webhook", "a partner's endpoint receiving signed JSON deliveries"),
}
TEXT_FIELDS = ("status", "text", "message", "Body", "body", "content", "caption", "title")
SHOWN = 50  # posts per platform on the page


def _text(record: Record) -> str:
    for source in (record.fields, record.data):
        for key in TEXT_FIELDS:
            value = source.get(key) if isinstance(source, dict) else None
            if isinstance(value, str) and value.strip():
                return value
    return ""


def _row(record: Record) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(record.created_at))
    to = record.fields.get("To") or record.fields.get("chat_id") or ""
    status = "deleted" if record.deleted else "up"
    return (f'<tr id="{html.escape(record.platform)}-{html.escape(record.id)}"><td>{html.escape(when)}</td>'
            f"<td><code>{html.escape(record.id)}</code></td><td>{html.escape(str(to))}</td>"
            f'<td class="text">{html.escape(_text(record)) or "<em>(no text)</em>"}</td>'
            f"<td>{len(record.files)}</td><td>{status}</td></tr>")


def home_page(state: SandboxState) -> Reply:
    sections: list[str] = []
    summary: list[str] = []
    for platform in PLATFORMS:
        name, what = IMITATES.get(platform, (platform, ""))
        posts = state.posts(platform, include_deleted=True)
        summary.append(f"<li><strong>{html.escape(name)}</strong>: {html.escape(what)} "
                       f"({len(posts)} post{'s' if len(posts) != 1 else ''} received)</li>")
        rows = "".join(_row(r) for r in sorted(posts, key=lambda r: r.created_at, reverse=True)[:SHOWN])
        body = (f'<div class="wrap" tabindex="0" role="region" aria-label="{html.escape(name)} posts">'
                f"<table><caption>{html.escape(name)}: the newest {min(len(posts), SHOWN)} of {len(posts)}</caption>"
                '<thead><tr><th scope="col">Received</th><th scope="col">Id</th><th scope="col">To</th>'
                '<th scope="col">Text</th><th scope="col">Files</th><th scope="col">Now</th></tr></thead>'
                f"<tbody>{rows}</tbody></table></div>" if posts else "<p>No posts yet.</p>")
        sections.append(f'<section aria-labelledby="h-{platform}"><h2 id="h-{platform}">{html.escape(name)}</h2>'
                        f"{body}</section>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Engage platform sandbox</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1b1b1b}}
table{{border-collapse:collapse;width:100%}}th,td{{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left;
vertical-align:top}}td.text{{white-space:pre-wrap;overflow-wrap:anywhere}}caption{{text-align:left;font-weight:600}}
.wrap{{overflow-x:auto}}code{{font-size:.9em}}
</style></head><body><main>
<h1>Engage platform sandbox</h1>
<p>A local stand-in for the platforms Engage posts to. Nothing here leaves this machine: the demo's channels
post to it, and it answers as each platform's API would. It imitates:</p>
<ul>{''.join(summary)}</ul>
<p>Tests and scripts drive it through the JSON control API under <code>/_sandbox/</code>
(for example <code>/_sandbox/posts?platform=mastodon</code>).</p>
{''.join(sections)}
</main></body></html>"""
    return Reply(200, page.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8",
                                                     "Cache-Control": "no-store"})


def wants_home(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and path in ("", "/")

