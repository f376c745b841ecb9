"""Mutation testing of the modules that keep the non-negotiables, one module at a time.

    python bench/mutation.py                    # every module in MODULES
    python bench/mutation.py content permissions --max-children 2

For each module, a scratch copy of the project is made under ``var/mutation/<name>/`` (so runs
of different modules never share mutmut's state or configuration), its ``[tool.mutmut]`` is
narrowed to that one module and the tests listed for it below, ``mutmut run`` is started there,
and the outcome of every mutant is counted. The score is killed / (all mutants that ran):
timeouts count as killed (the mutant made the tests hang, so the tests noticed), and mutants
no test executes count as survivors. It prints one line per module and writes each module's
survivors to ``var/mutation/<name>/survivors.txt`` (``mutmut show <name>`` in that directory
shows one).

The tests per module are the ones that state its promises (``tests/invariants``) and its own
test files; the browser and slow fault-injection tests are left out (``-m``). Keep MODULES in
step with ``[tool.mutmut] only_mutate`` in pyproject.toml; docs/testing.md records the scores.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "var" / "mutation"
# Survivors judged equivalent (or killed only on PostgreSQL), each with the line mutmut changed and why;
# docs/testing.md gives the longer reasons. A listed name whose change no longer matches is not excused.
EQUIVALENTS = Path(__file__).resolve().parent / "mutation_equivalents.toml"

# The tests of the old campaigns/services/publishing.py, for each module of campaigns/publishing/ it became.
PUBLISHING_TESTS = [
    "tests/invariants/test_never_twice.py",
    "tests/invariants/test_pause_scope.py",
    "tests/invariants/test_workflow_scope.py",
    "tests/invariants/test_sending_outcomes.py",
    "tests/invariants/test_publishing_decisions.py",
    "tests/invariants/test_publishing_filters.py",
    "tests/campaigns/test_publishing.py",
    "tests/campaigns/test_telegram_withdraw.py",
]

MODULES: dict[str, list[str]] = {
    # The hash, and what the worker builds from the approved snapshot (test_content_rules.py).
    "campaigns/services/content.py": [
        "tests/invariants/test_hash_fields.py",
        "tests/campaigns/test_approval.py",
        "tests/campaigns/test_content_rules.py",
    ],
    "accounts/permissions.py": [
        "tests/invariants/test_permissions_table.py",
        "tests/invariants/test_roles_inactive.py",
    ],
    # The per-model permission policies (who sees which rows): both answers, for every role.
    "accounts/policies/base.py": [
        "tests/accounts/test_policy_base.py",
        "tests/accounts/test_policies.py",
        "tests/test_tenant_filters.py",
    ],
    "campaigns/services/workflow.py": [
        "tests/invariants/test_workflow_refusals.py",
        "tests/invariants/test_workflow_scope.py",
        "tests/campaigns/test_approval.py",
    ],
    # campaigns/publishing/ (was services/publishing.py and sending.py): each module with the tests of the
    # old module it came from. Not test_lifecycle_model.py: 200 s a run, for any mutant of the claim, the
    # plan or the pause (the pause's scope is test_pause_scope.py's; the rest is in these files).
    "campaigns/publishing/schedule.py": [*PUBLISHING_TESTS, "tests/campaigns/test_schedule_rules.py",
                                         "tests/campaigns/test_early_tick.py"],
    # The pause: also the per-team pause's own tests (a force's pause never stops another force).
    # And the pause a restore places (tests/campaigns/test_restore_hold.py: lifted only by one who read its report).
    "campaigns/publishing/pause.py": [*PUBLISHING_TESTS, "tests/campaigns/test_tenant_pause.py",
                                      "tests/campaigns/test_restore_hold.py"],
    # The worker's hash check (``_content_matches_approval``) is here: test_hash_fields.py states it.
    # test_write_committed_answer_lost.py: PostgreSQL only (deselected on SQLite, run with DATABASE_URL).
    "campaigns/publishing/lifecycle.py": [*PUBLISHING_TESTS, "tests/invariants/test_hash_fields.py",
                                          "tests/campaigns/test_write_committed_answer_lost.py"],
    "campaigns/publishing/send.py": [
        "tests/invariants/test_sending_outcomes.py",
        "tests/invariants/test_publishing_decisions.py",
        "tests/invariants/test_payload_media.py",
        "tests/invariants/test_sending_payload.py",
        "tests/invariants/test_never_twice.py",
        "tests/campaigns/test_publishing.py",
        "tests/campaigns/test_approved_snapshot.py",
    ],
    "campaigns/publishing/withdraw.py": [*PUBLISHING_TESTS, "tests/campaigns/test_withdraw_rules.py"],
    "campaigns/publishing/outbound.py": [
        "tests/invariants/test_never_twice.py",
        "tests/invariants/test_answers_once.py",
        "tests/invariants/test_sending_outcomes.py",
        "tests/invariants/test_publishing_decisions.py",
        "tests/campaigns/test_publishing.py",
    ],
    # Reconciliation (issue 21): asking the platform what became of an unconfirmed post or answer.
    "campaigns/publishing/reconcile.py": [
        "tests/campaigns/test_reconcile.py",
        "tests/campaigns/test_reconcile_rules.py",
        "tests/engage/inbound/test_answer_reconcile.py",
        "tests/invariants/test_publishing_filters.py",
        "tests/invariants/test_never_twice.py",
    ],
    "engage/inbound/answer_reconcile.py": [
        "tests/engage/inbound/test_answer_reconcile.py",
        "tests/invariants/test_answers_once.py",
    ],
    # The sending half, with the "did this answer help?" line it appends (test_feedback.py).
    "engage/inbound/answer_sending.py": [
        "tests/invariants/test_answers_once.py",
        "tests/engage/inbound/test_answers.py",
        "tests/engage/inbound/test_answer_safety.py",
        "tests/engage/inbound/test_feedback.py",
    ],
    "engage/inbound/answers.py": [
        "tests/engage/inbound/test_answer_rules.py",
        "tests/engage/inbound/test_inbox_actions.py",
        "tests/invariants/test_answers_once.py",
        "tests/engage/inbound/test_answers.py",
        "tests/engage/inbound/test_answer_safety.py",
    ],
    "engage/inbound/retention.py": [
        "tests/invariants/test_retention_records.py",
        "tests/engage/inbound/test_retention.py",
        "tests/engage/inbound/test_retention_copies.py",
    ],
}

# locale: the translations (LOCALE_PATHS is under the copy), which the feedback and public-page tests read.
COPY = ["accounts", "campaigns", "engage", "locale", "templates", "tests", "manage.py", "pyproject.toml"]
CAUGHT = {"killed", "timeout"}
NOT_RUN = {"skipped", "not checked", "check was interrupted by user", "caught by type check"}


def short_name(module: str) -> str:
    return Path(module).stem


def resolve(names: list[str]) -> list[str]:
    if not names:
        return list(MODULES)
    chosen = []
    for name in names:
        matches = [m for m in MODULES if name in (m, short_name(m), m.removesuffix(".py").replace("/", "."))]
        if not matches:
            raise SystemExit(f"unknown module {name!r}; choose from: {', '.join(short_name(m) for m in MODULES)}")
        chosen.extend(matches)
    return chosen


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML here")


def narrowed_pyproject(text: str, module: str, *, reuse_db: bool = False) -> str:
    """The project's pyproject.toml with ``[tool.mutmut]`` narrowed to one module and its tests
    (and, with ``reuse_db``, pytest-django told to keep the test database between mutants)."""
    config = dict(tomllib.loads(text)["tool"]["mutmut"])
    config["only_mutate"] = [module]
    config["pytest_add_cli_args_test_selection"] = MODULES[module]
    if reuse_db:
        # The PostgreSQL-only tests skip on SQLite, but a skipped transactional test still flushes
        # the database at teardown; a kept database would lose the migrations' rows (the shipped
        # answer templates) for every later mutant. Deselect them instead.
        args = list(config.get("pytest_add_cli_args", []))
        if "-m" in args:
            args[args.index("-m") + 1] = f"({args[args.index('-m') + 1]}) and not postgres"
        else:
            args += ["-m", "not postgres"]
        config["pytest_add_cli_args"] = [*args, "--reuse-db"]
    without = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text)
    section = "[tool.mutmut]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in config.items())
    return without.rstrip("\n") + "\n\n" + section


_ATOMIC = re.compile(r"(?m)^@transaction\.atomic\n(?=def (\w+)\()")


def undecorate_atomic(source: str) -> tuple[str, list[str]]:
    """The module with each top-level ``@transaction.atomic def f`` rewritten as ``def f`` followed,
    at the end of the module, by ``f = transaction.atomic(f)``; and the names rewritten.

    mutmut 3 never mutates a decorated function (it cannot copy one safely in general), and most
    service functions that keep a promise are ``@transaction.atomic`` (approve, request changes,
    withdraw, pause, erase...): left decorated, they would not be measured at all. Wrapping the
    same function after its definition is the same program: every caller, inside the module or
    not, looks the name up when it calls, after the module has finished loading.
    """
    names = _ATOMIC.findall(source)
    if not names:
        return source, []
    rewritten = _ATOMIC.sub("", source).rstrip("\n") + "\n\n\n# bench/mutation.py: decorated here, so mutmut mutates them.\n"
    return rewritten + "".join(f"{name} = transaction.atomic({name})\n" for name in names), names


def prepare(module: str, *, reuse_db: bool = False) -> Path:
    where = SCRATCH / short_name(module)
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants", ".pytest_cache", ".hypothesis")
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=ignore)
        else:
            shutil.copy2(source, where / name)
    target = where / module
    source, _names = undecorate_atomic(target.read_text("utf-8"))
    target.write_text(source, "utf-8")
    narrowed = narrowed_pyproject((ROOT / "pyproject.toml").read_text("utf-8"), module, reuse_db=reuse_db)
    (where / "pyproject.toml").write_text(narrowed, "utf-8")
    return where


def _listing(mutmut: str, where: Path, env: dict[str, str]) -> dict[str, str]:
    """Every mutant of the scratch copy and its outcome so far (``mutmut results --all true``)."""
    out = subprocess.run([mutmut, "results", "--all", "true"], cwd=where, env=env,  # noqa: S603
                         capture_output=True, text=True, check=False).stdout
    pairs = (line.strip().rpartition(": ") for line in out.splitlines())
    return {name: status for name, sep, status in pairs if sep}


def _changed_lines(mutmut: str, where: Path, env: dict[str, str], name: str) -> set[str]:
    """The lines a mutant adds, as ``mutmut show`` prints them, whitespace collapsed."""
    out = subprocess.run([mutmut, "show", name], cwd=where, env=env,  # noqa: S603
                         capture_output=True, text=True, check=False).stdout
    return {" ".join(line[1:].split()) for line in out.splitlines()
            if line.startswith("+") and not line.startswith("+++")}


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, dict[str, str]]:
    """``{mutant name: {"change": ..., "why": ..., "kind": "equivalent" | "postgresql"}}``."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text("utf-8")).get("survivor", [])
    return {e["mutant"]: {"change": " ".join(e["change"].split()), "why": e["why"],
                          "kind": e.get("kind", "equivalent")} for e in entries}


def excused(survivors: list[str], known: dict[str, dict[str, str]], changed) -> tuple[list[str], list[str]]:
    """Split survivors into (excused, still surviving): a survivor is excused only when it is listed
    and the line it changes is still the listed one (mutmut numbers mutants by position, so an edit
    to the function can give a listed name to another mutant)."""
    done, left = [], []
    for name in survivors:
        entry = known.get(name)
        if entry is not None and entry["change"] in changed(name):
            done.append(name)
        else:
            left.append(name)
    return done, left


def run(module: str, *, max_children: int, mutmut: str, sample: int = 0, seed: int = 20,
        quiet: bool = False) -> dict[str, object]:
    """Run one module's mutants; ``quiet``: mutmut's progress goes to ``var/mutation/<name>/run.log``
    instead of the terminal (modules run side by side with ``--jobs``)."""
    var_dir = tempfile.mkdtemp(prefix="engage-mutation-")
    env = {**os.environ, "ENGAGE_VAR_DIR": var_dir}
    # Each mutant's tests run in a new process, and the SQLite test database is named after the
    # process: every mutant would build it again (migrations: most of a mutant's time). With one
    # child at a time, one database is built once and kept (``--reuse-db``; each test still rolls
    # back). Two children at once must not share it, so they each build their own.
    reuse_db = max_children == 1 and not os.environ.get("DATABASE_URL")
    if reuse_db:
        env["ENGAGE_SQLITE_TEST_PATH"] = str(Path(var_dir) / "test-mutation.sqlite3")
    started = time.monotonic()
    where = prepare(module, reuse_db=reuse_db)
    log = (where / "run.log").open("w", encoding="utf-8") if quiet else None
    chosen: set[str] | None = None
    if sample:
        # Generate the mutants only (a filter that matches none stops mutmut before its test
        # runs), draw the sample, and run those: a seeded draw, so a run can be repeated.
        subprocess.run([mutmut, "run", "no-mutant-is-named-this"], cwd=where, env=env,  # noqa: S603
                       check=False, capture_output=True)
        names = sorted(_listing(mutmut, where, env))
        chosen = set(random.Random(seed).sample(names, min(sample, len(names))))
        (where / "sample.txt").write_text("\n".join(sorted(chosen)) + "\n", "utf-8")
    subprocess.run([mutmut, "run", "--max-children", str(max_children), *sorted(chosen or ())],  # noqa: S603
                   cwd=where, env=env, check=False, stdout=log, stderr=log)
    if log is not None:
        log.close()
    elapsed = time.monotonic() - started
    statuses: Counter[str] = Counter()
    survivors = []
    for name, status in _listing(mutmut, where, env).items():
        if chosen is not None and name not in chosen:
            continue
        statuses[status] += 1
        if status not in CAUGHT | NOT_RUN:
            survivors.append(f"{name}: {status}")
    (where / "survivors.txt").write_text("\n".join(survivors) + "\n", "utf-8")
    ran = sum(n for s, n in statuses.items() if s not in NOT_RUN)
    caught = sum(statuses[s] for s in CAUGHT)
    known = load_equivalents()
    names = [line.partition(": ")[0] for line in survivors]
    done, left = excused(names, known, lambda name: _changed_lines(mutmut, where, env, name))
    (where / "excused.txt").write_text(
        "".join(f"{n}: {known[n]['kind']}: {known[n]['why']}\n" for n in done), "utf-8")
    counted = ran - len(done)
    return {"module": module, "ran": ran, "caught": caught, "statuses": dict(statuses),
            "score": (100.0 * caught / ran) if ran else 0.0, "minutes": elapsed / 60,
            "excused": len(done), "left": left,
            "net": (100.0 * caught / counted) if counted else 100.0,
            "sampled": f"{len(chosen)} of {len(_listing(mutmut, where, env))}" if chosen is not None else "all"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help="short names (content, permissions...) or paths; default: all")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 if a module scores below this")
    parser.add_argument("--sample", type=int, default=0,
                        help="run only this many mutants per module, drawn at random (seeded); 0: all")
    parser.add_argument("--seed", type=int, default=20, help="the seed of --sample's draw")
    parser.add_argument("--jobs", type=int, default=1,
                        help="run this many modules side by side (each with its own scratch copy and test database; "
                             "mutmut's progress then goes to var/mutation/<module>/run.log)")
    args = parser.parse_args(argv)
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if not mutmut:
        raise SystemExit("mutmut is not installed: pip install -e '.[dev]'")
    modules = resolve(args.modules)
    started = time.monotonic()

    def one(module: str) -> dict[str, object]:
        result = run(module, max_children=args.max_children, mutmut=mutmut, sample=args.sample, seed=args.seed,
                     quiet=args.jobs > 1)
        if args.jobs > 1:
            print(f"done: {module} {result['score']:.1f}% ({result['caught']} of {result['ran']}) "
                  f"in {result['minutes']:.1f} min", flush=True)
        return result

    if args.jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, modules))
    else:
        results = [one(m) for m in modules]
    print(f"\n{'module':40} {'mutants':>8} {'caught':>7} {'score':>7} {'excused':>8} {'net':>7} {'minutes':>8}  "
          f"{'sampled':>10}  outcomes")
    for r in results:
        print(f"{r['module']:40} {r['ran']:>8} {r['caught']:>7} {r['score']:>6.1f}% {r['excused']:>8} "
              f"{r['net']:>6.1f}% {r['minutes']:>8.1f}  {r['sampled']:>10}  {r['statuses']}")
    print("net: caught / (mutants - excused); excused: listed in bench/mutation_equivalents.toml as equivalent "
          "or caught on PostgreSQL only, with the change still matching (var/mutation/<module>/excused.txt)")
    print(f"total: {(time.monotonic() - started) / 60:.1f} minutes")
    if args.fail_under is not None:
        below = [r for r in results if r["net"] < args.fail_under]
        for r in below:
            print(f"BELOW {args.fail_under:g}%: {r['module']} {r['net']:.1f}% net; not excused: "
                  f"{', '.join(r['left'])}")
        if below:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
