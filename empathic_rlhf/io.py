"""Small file helpers: JSON lines, and atomic writes so a crash never leaves a half-written file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import located


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target`` (file or directory).

    The temporary sits in the same folder so the final ``os.replace`` is atomic on one filesystem. On any error
    the temporary is removed and ``target`` is left as it was.
    """
    target = Path(target)
    created = _missing_parents(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    tmp_target = tmp / target.name
    done = False
    try:
        yield tmp_target
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(tmp_target, target)
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:  # a failed write leaves no folder behind either (e.g. runs/<name>/ of a prepare that failed)
            for folder in created:
                with contextlib.suppress(OSError):  # not empty: something else wrote there meanwhile
                    folder.rmdir()


def _missing_parents(target: Path) -> list[Path]:
    """The folders above ``target`` that do not exist yet, deepest first."""
    missing = []
    for folder in target.parents:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def write_jsonl(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Write ``records`` as JSON lines, atomically. Returns the number of lines written."""
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_json(path: str | os.PathLike, obj) -> None:
    """Write one JSON document (indented, for humans), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)`` for each non-blank line; bad JSON raises an error naming file and line.

    ``-`` reads standard input (named ``<stdin>`` in errors).
    """
    if str(path) == "-":
        yield from _records(_stdin_lines(), "<stdin>")
        return
    path = Path(path)
    if not path.is_file():
        raise located(path, None, "file not found")
    yield from _records(text_lines(path), path)


def text_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` of a UTF-8 file; a line that is not UTF-8 is an error naming file and line."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise located(path, number, f"not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1})"
                              ) from None


def _stdin_lines() -> Iterator[tuple[int, str]]:
    """Standard input as ``(line_number, text)``, read as UTF-8 bytes so a bad byte names its line."""
    for number, raw in enumerate(sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin, start=1):
        if isinstance(raw, str):  # a text stream without bytes underneath (e.g. a test's StringIO)
            yield number, raw
            continue
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise located("<stdin>", number, f"not UTF-8 text (byte 0x{raw[e.start]:02x})") from None


def _records(lines, name) -> Iterator[tuple[int, dict]]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise located(name, number, f"bad JSON ({json_problem(e)})") from None
        if not isinstance(record, dict):
            raise located(name, number, f"expected a JSON object, got {type(record).__name__}")
        yield number, record


def json_problem(error: json.JSONDecodeError) -> str:
    """The parser's complaint about one line of text, with its column: ``unterminated string starting at column 7``
    (the parser's own message may end in "at", as in "Unterminated string starting at"; the column counts from the
    start of the line, also where the parser went past its newline)."""
    msg = error.msg.removesuffix(" at")
    column = min(error.pos, len(error.doc.rstrip("\r\n"))) + 1
    return f"{msg[:1].lower()}{msg[1:]} at column {column}"


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
