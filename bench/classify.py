"""Danger detection, language, sentiment and category per language on the evaluation set.

Run from the repository root: ``.venv/bin/python bench/classify.py [--set PATH] [--details]``.
Needs no Django settings. Prints, per language: urgent replies flagged (recall), calm replies
flagged (false alarms), language detected right, sentiment given a label (not "unknown") and
right when given, category right; then the replies missed or flagged wrongly with
``--details``. Targets (issue 15): recall >= 95 % and false alarms <= 5 % in every language.
Exit status 1 when a language misses a target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engage.inbound.classify.evaluation import evaluate, load_set  # noqa: E402
from engage.inbound.classify.urgency import lexicon_reviews  # noqa: E402

DEFAULT_SET = ROOT / "tests" / "engage" / "inbound" / "classify" / "eval_set.toml"


def pct(value: float | None) -> str:
    return "  —  " if value is None else f"{value * 100:5.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--details", action="store_true", help="list misses, false alarms, wrong languages")
    args = parser.parse_args()

    names, cases = load_set(args.set)
    scores = evaluate(names, cases)
    reviews = lexicon_reviews()
    header = (f"{'lang':5} {'name':17} {'n':>3} {'recall%':>8} {'false%':>7} {'lang%':>6} "
              f"{'sent.scored%':>12} {'sent.right%':>11} {'categ.right%':>12}  lexicon")
    print(header)
    print("-" * len(header))
    failed = []
    totals = {"urgent": 0, "flagged": 0, "calm": 0, "alarms": 0, "n": 0, "detected": 0}
    for language, score in scores.items():
        review = reviews.get(language, "NO LIST (checks every list)")
        print(f"{language:5} {score.name[:17]:17} {score.total:3} {pct(score.recall):>8} "
              f"{pct(score.false_alarm_rate):>7} {pct(score.language_accuracy):>6} "
              f"{pct(score.sentiment_coverage):>12} {pct(score.sentiment_accuracy):>11} "
              f"{pct(score.category_accuracy):>12}  {review}")
        if not score.meets_targets:
            failed.append(language)
        totals["urgent"] += score.urgent
        totals["flagged"] += score.flagged
        totals["calm"] += score.calm
        totals["alarms"] += score.false_alarms
        totals["n"] += score.total
        totals["detected"] += score.detected
    print("-" * len(header))
    print(f"all: {totals['n']} replies in {len(scores)} languages; recall "
          f"{totals['flagged']}/{totals['urgent']}, false alarms {totals['alarms']}/{totals['calm']}, "
          f"language detected {totals['detected']}/{totals['n']}")
    if args.details:
        for language, score in scores.items():
            for text in score.misses:
                print(f"MISSED      [{language}] {text}")
            for text in score.alarms:
                print(f"FALSE ALARM [{language}] {text}")
            for text, detected in score.misdetected:
                print(f"LANGUAGE    [{language}] detected {detected!r}: {text}")
    if failed:
        print(f"Targets missed in: {', '.join(failed)}")
        return 1
    print("Targets met in every language (recall >= 95%, false alarms <= 5%).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
