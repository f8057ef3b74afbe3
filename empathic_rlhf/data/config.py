"""Where EmpatheticDialogues is read from (shared by ``prepare``, ``data stats`` and ``dyme``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DataConfig:
    """Where EmpatheticDialogues is read from."""

    data_dir: str | None = field(default=None, metadata={
        "help": "Folder with train/valid/test .jsonl (conversation JSONL) or .csv (official release), or the "
                "empatheticdialogues.tar.gz archive. Unset: $EMPATHIC_DATA_DIR, else download the official "
                "release into the cache."})
