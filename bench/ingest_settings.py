"""Bench only: the real settings, with the bench URLconf that adds the baseline view."""

from engage.settings import *  # noqa: F403

ROOT_URLCONF = "ingest_urls"
