"""Cut a platform's OpenAPI file down to the operations our adapters call.

Keeps those operations verbatim, the components they reference (followed transitively), and
the document's ``openapi``, ``info``, ``servers`` and ``security``. Nothing is rewritten.

    python -m tests.contracts.trim SOURCE.json OUT.json "GET /2/tweets" "POST /2/tweets" ...

Record the source repository, commit and licence in ``tests/contracts/README.md`` when you
refresh a file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

KEEP_TOP = ("openapi", "info", "servers", "security")


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def trim(document: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path in operations:
        item = document["paths"][path]
        operation = item[method.lower()]
        kept = paths.setdefault(path, {key: value for key, value in item.items() if key == "parameters"})
        kept[method.lower()] = operation
    out: dict[str, Any] = {key: document[key] for key in KEEP_TOP if key in document}
    out["paths"] = paths
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    if "securitySchemes" in document.get("components", {}):
        components["securitySchemes"] = document["components"]["securitySchemes"]
        pending |= _refs(components["securitySchemes"])
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = document["components"][section][name]
        components.setdefault(section, {})[name] = value
        pending |= _refs(value) - seen
    out["components"] = {section: dict(sorted(items.items())) for section, items in sorted(components.items())}
    return out


def main(argv: list[str]) -> None:
    source, target, *wanted = argv
    document = json.loads(Path(source).read_text(encoding="utf-8"))
    operations = [tuple(item.split(" ", 1)) for item in wanted]
    trimmed = trim(document, operations)  # type: ignore[arg-type]
    Path(target).write_text(json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
