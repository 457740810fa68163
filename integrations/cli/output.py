"""Writing a command's file output (`--out`)."""

from __future__ import annotations

from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """A regular file (or a new one) is written beside and renamed over, so a reader never sees
    half a file; anything else (/dev/stdout, /dev/null, a pipe) is written in place: renaming
    over it would replace the device or pipe with a plain file."""
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8") as target:
            target.write(text)
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
