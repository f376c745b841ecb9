"""The outbound message checker: tone, plain language, length per channel, alt text, personal data.

Pure Python (no ORM), so it runs in forms, the API and publishing workers alike.
"""

from campaigns.checker.core import check_message
from campaigns.checker.findings import CheckerConfig, Finding, ImageInfo, Severity, has_errors

__all__ = ["CheckerConfig", "Finding", "ImageInfo", "Severity", "check_message", "has_errors"]
