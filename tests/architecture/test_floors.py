"""The floor plan (docs/architecture.md) as a test: every module's imports, read from its source.

Floors, bottom to top: ``core`` < ``platforms`` and ``accounts`` (side by side: neither imports the
other) < ``campaigns`` < ``engage``. A module imports only from its own floor's package and the
floors below it. Inside ``engage``, the rooms ``inbound``, ``public`` and ``metrics`` do not import
one another's views or urls (engage/urls.py, the wiring, mounts them). No module but a tasks
module imports a tasks module: services enqueue tasks by name (``core.queue``). Nothing in
``platforms`` touches the database. Function-level imports count as much as top-level ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOOR = {"core": 0, "platforms": 1, "accounts": 1, "campaigns": 2, "engage": 3}
ROOMS = ("inbound", "public", "metrics", "awareness")


def modules() -> list[tuple[str, Path]]:
    found = []
    for top in FLOOR:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found.append((".".join(path.relative_to(ROOT).with_suffix("").parts), path))
    return found


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every absolute module name ``path`` imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return names


def floor_breaches(module: str, names: list[tuple[int, str]]) -> list[str]:
    top = module.split(".")[0]
    out = []
    for line, name in names:
        target = name.split(".")[0]
        if target in FLOOR and target != top and FLOOR[target] >= FLOOR[top]:
            out.append(f"{module}:{line} imports {name} ({target} is not below {top})")
    return out


def room_breaches(module: str, names: list[tuple[int, str]]) -> list[str]:
    parts = module.split(".")
    if parts[0] != "engage" or len(parts) < 3 or parts[1] not in ROOMS:
        return []
    out = []
    for line, name in names:
        target = name.split(".")
        if (len(target) >= 3 and target[0] == "engage" and target[1] in ROOMS and target[1] != parts[1]
                and target[2] in {"views", "urls", "api"}):
            out.append(f"{module}:{line} imports {name} (another room's views or urls)")
    return out


def task_breaches(module: str, names: list[tuple[int, str]]) -> list[str]:
    if module.endswith(".tasks") or module == "engage.celery":
        return []
    return [f"{module}:{line} imports {name} (enqueue by name with core.queue instead)"
            for line, name in names if name.endswith(".tasks") or ".tasks." in name]


def database_breaches(module: str, names: list[tuple[int, str]]) -> list[str]:
    if not module.startswith("platforms."):
        return []
    return [f"{module}:{line} imports {name} (platforms touch no database)" for line, name in names
            if name.startswith("django.db") or name.split(".")[0] in {"accounts", "campaigns", "engage"}
            or ".models" in name]


RULES = [floor_breaches, room_breaches, task_breaches, database_breaches]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_no_module_breaks_the_floor_plan(rule):
    breaches = [b for module, path in modules() for b in rule(module, imports_of(path))]
    assert breaches == []


@pytest.mark.parametrize(("module", "source", "rule"), [
    ("core.web", "from accounts.models import User", floor_breaches),
    ("accounts.audit", "from platforms.base import Payload", floor_breaches),
    ("platforms.x.adapter", "def f():\n    from campaigns.models import Delivery", floor_breaches),
    ("campaigns.services.messages", "import engage.public.cap", floor_breaches),
    ("engage.public.views", "from engage.inbound import views", room_breaches),
    ("engage.metrics.charts", "from engage.inbound.urls import public_urlpatterns", room_breaches),
    ("campaigns.publishing.send", "from campaigns.publishing.tasks import deliver", task_breaches),
    ("engage.inbound.ingest", "def f():\n    from engage.inbound import tasks", task_breaches),
    ("platforms.sms.adapter", "from django.db import transaction", database_breaches),
])
def test_each_rule_catches_what_it_forbids(tmp_path, module, source, rule):
    path = tmp_path / "m.py"
    path.write_text(source + "\n")
    assert rule(module, imports_of(path)), f"{rule.__name__} let {source!r} in {module} pass"


@pytest.mark.parametrize(("module", "source"), [
    ("campaigns.services.messages", "from accounts.models import User\nfrom core.errors import NotFound"),
    ("engage.public.views", "from engage.public import selectors\nfrom campaigns.models import Message"),
    ("campaigns.publishing.tasks", "from campaigns.publishing import send"),
    ("engage.inbound.views", "from engage.inbound.urls import public_urlpatterns"),
])
def test_what_the_floor_plan_allows_passes(tmp_path, module, source):
    path = tmp_path / "m.py"
    path.write_text(source + "\n")
    assert [b for rule in RULES for b in rule(module, imports_of(path))] == []


IMPORT_ALONE = """
import importlib, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engage.settings")
import django
django.setup()
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("core", "platforms")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:  # noqa: BLE001 - reported below
        failed.append(f"{name}: {type(error).__name__}: {error}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_core_and_platforms_module_imports_on_its_own():
    """An import circle shows only when a module is imported first: import each one first."""
    import subprocess
    import sys

    names = [module for module, _ in modules() if module.split(".")[0] in ("core", "platforms")
             and not module.endswith("__main__")]
    result = subprocess.run([sys.executable, "-c", IMPORT_ALONE, *names], cwd=ROOT, capture_output=True,  # noqa: S603
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
