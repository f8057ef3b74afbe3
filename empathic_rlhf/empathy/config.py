"""Config of ``empathic empathy build``: where the data is and how the two yardsticks are trained."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EmpathyBuildConfig:
    """Everything the build reads; set in YAML under ``empathy:`` or with ``--empathy.key=value``."""

    epitome_dir: str | None = field(default=None, metadata={
        "help": "Folder with the three EPITOME CSVs. Default: $EMPATHIC_EPITOME_DIR, else shared/data/epitome "
                "beside the repository."})
    data_dir: str | None = field(default=None, metadata={
        "help": "EmpatheticDialogues folder (conversation JSONL or release CSVs) for the emotion classifier. "
                "Default: $EMPATHIC_DATA_DIR, else shared/data/empatheticdialogues/reconstructed beside the "
                "repository. Never downloaded: the yardsticks are built from local data only."})
    mechanism_c_grid: list[float] = field(default_factory=lambda: [0.1, 0.3, 1.0, 3.0], metadata={
        "help": "Inverse regularisation strengths tried per mechanism; the best valid macro-F1 is kept."})
    emotion_alpha: float = field(default=1e-5, metadata={
        "help": "L2 strength of the SGD logistic emotion classifiers. Not tuned: the design run tried 1e-5 and "
                "3e-5 once (top-1 42.4% vs 42.4%, on ED test, so no selection was made on it)."})
    max_conversations: int | None = field(default=None, metadata={
        "help": "Use only the first N ED conversations of each split (smoke tests); None = all."})
    seed: int = field(default=0, metadata={"help": "Seed of the classifiers and of the bootstrap intervals."})
