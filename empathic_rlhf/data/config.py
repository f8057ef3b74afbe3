"""Where EmpatheticDialogues is read from (shared by ``prepare``, ``data stats`` and ``dyme``)."""

from __future__ import annotations

from dataclasses import dataclass, field

SPLITS: tuple[str, ...] = ("train", "valid", "test")
# What the knowledge segment (the system message before a context) may hold: prepare.knowledge picks among them.
KNOWLEDGE_FIELDS = ("emotion", "situation", "predicted_emotion")


@dataclass
class DataConfig:
    """Where EmpatheticDialogues is read from."""

    data_dir: str | None = field(default=None, metadata={
        "help": "Folder with train/valid/test .jsonl (conversation JSONL) or .csv (official release), or the "
                "empatheticdialogues.tar.gz archive. Unset: $EMPATHIC_DATA_DIR, else download the official "
                "release into the cache."})
