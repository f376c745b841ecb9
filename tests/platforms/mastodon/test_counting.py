"""Mastodon's length (platforms.mastodon.counting) and graphemes (platforms.textcount)."""

from __future__ import annotations

from platforms.counting import count_for
from platforms.mastodon.counting import mastodon_length
from platforms.textcount import grapheme_count


def test_mastodon_urls_count_23() -> None:
    url = "https://example.police.uk/" + "x" * 200
    assert mastodon_length(f"Read {url}") == 5 + 23


def test_mastodon_bare_domain_is_counted_in_full() -> None:
    # Mastodon only shortens links with a scheme.
    assert mastodon_length("police.uk") == 9


def test_mastodon_remote_mention_counts_only_the_username() -> None:
    assert mastodon_length("@alice@example.social hi") == len("@alice hi")
    assert mastodon_length("@alice hi") == len("@alice hi")


def test_mastodon_counts_graphemes() -> None:
    assert mastodon_length("👨‍👩‍👧") == 1
    assert mastodon_length("🇬🇧🇫🇷") == 2
    assert mastodon_length("cafe\u0301") == 4
    assert count_for("mastodon", "a" * 500).over is False
    assert count_for("mastodon", "a" * 501).over is True


def test_grapheme_count_crlf_is_one() -> None:
    assert grapheme_count("a\r\nb") == 3
    assert grapheme_count("é\r\nb") == 3
