"""Find and read the EmpatheticDialogues splits, whatever form the data directory holds.

A data directory may hold, checked in this order:
  - ``train.jsonl``, ``valid.jsonl``, ``test.jsonl``  (conversation JSONL, e.g. shared/data/.../reconstructed)
  - ``train.csv``, ``valid.csv``, ``test.csv``        (the official release, already unpacked)
  - ``empatheticdialogues/`` with those CSV files      (the archive unpacked one level up)
  - ``empatheticdialogues.tar.gz``                     (the official archive; verified and unpacked into the cache)
With no data directory set at all, the official release is downloaded into the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import EmpathicError
from ..paths import DATA_DIR_ENV, cache_dir, data_dir_setting
from .config import SPLITS
from .download import ARCHIVE_NAME, extract_archive, official_release_dir
from .ed_csv import CsvReport, read_conversations_csv
from .ed_jsonl import read_conversations_jsonl
from .records import Conversation


@dataclass(frozen=True)
class DataSource:
    """A resolved data location: the folder, its format (``jsonl`` or ``csv``), and the file of each split."""

    folder: Path
    kind: str

    def file(self, split: str) -> Path:
        path = self.folder / f"{split}.{self.kind}"
        if not path.is_file():
            raise EmpathicError(f"{path}: split file not found (data directory {self.folder})")
        return path

    def read(self, split: str, report: CsvReport | None = None) -> list[Conversation]:
        """All conversations of one split."""
        if split not in SPLITS:
            raise EmpathicError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
        path = self.file(split)
        if self.kind == "jsonl":
            return list(read_conversations_jsonl(path, split))
        return list(read_conversations_csv(path, split, report))


def resolve(data_dir: str | None) -> DataSource:
    """Resolve the ``--data-dir`` option / ``$EMPATHIC_DATA_DIR`` into a :class:`DataSource`."""
    setting = data_dir_setting(data_dir)
    if setting is None:
        return DataSource(official_release_dir(), "csv")
    folder = Path(setting).expanduser()
    if folder.is_file() and folder.name.endswith(".tar.gz"):
        return DataSource(extract_archive(folder, cache_dir() / "data"), "csv")
    if not folder.is_dir():
        raise EmpathicError(f"{folder}: data directory not found (set by --data-dir or ${DATA_DIR_ENV})")
    for candidate in (folder, folder / "empatheticdialogues"):
        for kind in ("jsonl", "csv"):
            if (candidate / f"train.{kind}").is_file():
                return DataSource(candidate, kind)
    if (folder / ARCHIVE_NAME).is_file():
        return DataSource(extract_archive(folder / ARCHIVE_NAME, cache_dir() / "data"), "csv")
    raise EmpathicError(f"{folder}: no EmpatheticDialogues data here (expected train/valid/test .jsonl or .csv, "
                        f"or {ARCHIVE_NAME})")
