"""Reading and writing the facility file's text: JSON or YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from clinic.errors import InvalidInput


def read_file(path: Path) -> dict[str, Any]:
    """JSON or YAML (by content, so a .txt or no extension works too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    data = parse_text(text, str(path), as_json=path.suffix.lower() == ".json")
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: a facility file is one object (mapping) at the top level")
    return data


def parse_text(text: str, name: str, *, as_json: bool = False) -> Any:
    """JSON (`as_json`) or YAML (which reads JSON too) from text; `name` says where it came from
    in the error (a file name, or "stdin")."""
    try:
        return json.loads(text) if as_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InvalidInput(
            f"{name}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from exc


def dump(data: dict[str, Any], path: Path | None) -> str:
    """JSON for .json paths and stdout; YAML for .yaml/.yml."""
    if path is not None and path.suffix.lower() in {".yaml", ".yml"}:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
