"""How long the message checker takes on a realistic 500-character message.

Run from the repository root: ``.venv/bin/python bench/checker.py [--runs 200]``.
Needs no Django settings. Each run checks a slightly different text (a counter is
appended), so nothing is served from a per-text cache; the hyphenation dictionary
is loaded by a warm-up run first, as it would be in a long-running worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaigns.checker import check_message  # noqa: E402

CHANNELS = ("x", "mastodon", "sms", "telegram")
BUDGET_MS = 20.0
MESSAGE = (
    "Match day update: the A6 London Road is closed between the station and the stadium until 7pm. "
    "Allow extra time and use the park and ride from Junction 25, which runs every ten minutes. "
    "Officers are in attendance at the turnstiles and will help you. If you see anything suspicious, "
    "tell a steward or call 101. In an emergency always dial 999. "
    "More information: https://example.police.uk/matchday #MatchDaySafe "
    "Thank you for your patience and help, stay safe and enjoy the game at the ground tonight!"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    started = time.perf_counter()
    findings = check_message(body=MESSAGE, channels=CHANNELS, hashtags=["MatchDaySafe"])
    first_ms = (time.perf_counter() - started) * 1000

    timings = []
    for run in range(args.runs):
        body = f"{MESSAGE} {run}"
        started = time.perf_counter()
        check_message(body=body, channels=CHANNELS, hashtags=["MatchDaySafe"])
        timings.append((time.perf_counter() - started) * 1000)

    timings.sort()
    median = statistics.median(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    print(f"checker: {len(MESSAGE)} characters, channels {', '.join(CHANNELS)}, {args.runs} runs")
    print(f"  first call (cold, loads textstat and the hyphenation dictionary): {first_ms:.1f} ms")
    print(
        f"  median {median:.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms (budget: median < {BUDGET_MS:.0f} ms)"
    )
    print(f"  findings on the sample: {', '.join(f.code for f in findings) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
