"""The house's rules, checked on the source: the doors reach the domain only through the use
cases, and no decision names a role the permissions pack does not hand out."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from rules.service import RulesService

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_DOORS = (
    "clinic.models",
    "clinic.booking",
    "clinic.changes",
    "clinic.placement",
    "clinic.slack_models",
    "sqlalchemy",
)


def _modules(package: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every module an import statement names, `from clinic import models` as clinic.models."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _forbidden(name: str) -> str | None:
    """The forbidden module `name` is or lies in, if any."""
    return next((f for f in FORBIDDEN_IN_DOORS if name == f or name.startswith(f + ".")), None)


def test_no_door_imports_the_orm_or_the_booking_service() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path, tree in _modules("integrations")
        for line, name in _imports(tree)
        if _forbidden(name)
    ]
    assert found == [], "doors must call assistant use cases instead:\n" + "\n".join(found)


def _transactions(tree: ast.Module) -> Iterator[int]:
    """Lines that open a database transaction: `db.session()`, `self.db.read()`, …"""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"session", "read"}
            and ast.unparse(node.func.value).split(".")[-1] in {"db", "database"}
        ):
            yield node.lineno


def test_no_door_opens_a_transaction() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _modules("integrations")
        for line in _transactions(tree)
    ]
    assert found == [], "the use case owns the transaction:\n" + "\n".join(found)
    assert list(_transactions(ast.parse("with self.db.session() as s: pass"))) == [1]


def test_the_import_check_sees_every_spelling(tmp_path: Path) -> None:
    source = (
        "import clinic.models\nfrom clinic import booking\nfrom clinic.slack_models import X\n"
        "from clinic.changes import BookingRequest\nimport clinic.placement\n"
        "def f():\n    from sqlalchemy import select\n"
    )
    hits = {_forbidden(name) for _, name in _imports(ast.parse(source))} - {None}
    assert hits == set(FORBIDDEN_IN_DOORS)


def _role_literals(tree: ast.Module, roles: set[str]) -> Iterator[tuple[int, str]]:
    """String constants naming a role, compared against something (==, !=, in, not in)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for operand in [node.left, *node.comparators]:
            items = (
                operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            )
            for item in items:
                if isinstance(item, ast.Constant) and item.value in roles:
                    yield node.lineno, item.value


def test_no_role_name_decides_anything_outside_the_permissions_pack() -> None:
    roles = set(RulesService(use_env=False).packs.tables["roles"])
    found = [
        f"{path.relative_to(ROOT)}:{line}: {role!r}"
        for package in ("assistant", "integrations")
        for path, tree in _modules(package)
        for line, role in _role_literals(tree, roles)
    ]
    assert found == [], "read roles from the permissions pack instead:\n" + "\n".join(found)


def test_the_role_check_sees_a_hard_coded_role() -> None:
    tree = ast.parse('if staff.role == "clinical_director" or role in ("nurse", "x"): pass')
    assert [r for _, r in _role_literals(tree, {"clinical_director", "nurse"})] == [
        "clinical_director",
        "nurse",
    ]


def _map() -> dict[str, set[str]]:
    """The README's one-page map: each top-level package and the names listed under it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## How it fits together", 1)[1].split("```")[1]
    named: dict[str, set[str]] = {}
    package = ""
    for line in block.splitlines():
        if line[:1].isalpha():
            package = line.split("/", 1)[0]
            named[package] = set()
        elif line.startswith("  ") and package:
            names = line[:37].strip()
            named[package] |= {n.strip().rstrip("/") for n in names.split(",")}
    return named


def test_the_readme_map_names_every_module_and_only_real_ones() -> None:
    named = _map()
    for package in ("clinic", "rules", "solver", "assistant", "integrations"):
        here = {
            p.stem if p.suffix == ".py" else p.name
            for p in (ROOT / package).iterdir()
            if not p.name.startswith(("_", ".")) and (p.suffix == ".py" or p.is_dir())
        }
        assert named[package] == here, (package, named[package] ^ here)
    for package in ("prompts", "tests", "slack"):
        assert (ROOT / package).is_dir()
