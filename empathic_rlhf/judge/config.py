"""Config of ``empathic judge build``: the data, the hard negatives and the training of the context-fit model."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class JudgeBuildConfig:
    """Everything the judge build reads; set in YAML under ``judge:`` or with ``--judge.key=value``."""

    data_dir: str | None = field(default=None, metadata={
        "help": "EmpatheticDialogues folder (conversation JSONL or release CSVs). Default: $EMPATHIC_DATA_DIR, else "
                "shared/data/empatheticdialogues/reconstructed beside the repository. Never downloaded."})
    history_turns: int = field(default=3, metadata={
        "help": "Previous utterances the judge reads before a reply (the evaluation set's 3)."})
    train_contexts: int = field(default=8000, metadata={
        "help": "ED train listener turns used (a seeded random sample), each with its gold reply and one hard "
                "negative (a random kind of battery/probes.TRAINING_WEIGHTS, TRAINING phrases)."})
    epitome_contexts: int = field(default=0, metadata={
        "help": "Also train on up to N EPITOME train pairs (Reddit seeker post -> response; the emotion as the "
                "emotion classifier reads it from the post), each with hard negatives drawn like ED's from the other "
                "EPITOME posts and the TRAINING phrases: the fit model learns that people's replies on another "
                "forum fit their posts too, so the gate stops hiding the mechanisms' agreement with EPITOME's "
                "raters. EPITOME valid and test stay unseen. Posts run long: use max_length 256. 0 = ED only."})
    negatives_per_context: int = field(default=1, metadata={
        "help": "Hard negatives per training context (each a separate pair)."})
    negative_weights: dict[str, float] | None = field(default=None, metadata={
        "help": "How often each probe kind is drawn as a negative, e.g. '{stock: 0.2, as_person: 0.1}': named kinds "
                "replace their battery/probes.TRAINING_WEIGHTS entry, the others keep theirs (draws are relative). "
                "None = TRAINING_WEIGHTS."})
    mined_phrases: int = field(default=0, metadata={
        "help": "Widen the TRAINING stock replies and questions with the N most frequent short replies (and N most "
                "frequent short questions) ED train's listeners wrote at least twice, minus any touching a BATTERY "
                "phrase (battery/mined.py); the mined lists go into the build's report.json. 0 = the published "
                "TRAINING lists only."})
    warm_start: str | None = field(default=None, metadata={
        "help": "A built judge folder (or its fit/ model) whose context-fit model training continues from, on this "
                "build's contexts and negatives (use another --judge.seed to draw other contexts); None = MiniLM's "
                "pretrained weights with a new head."})
    learning_rate: float = field(default=5e-5, metadata={"help": "Peak learning rate of the cross-encoder."})
    batch_size: int = field(default=16, metadata={"help": "Pairs per optimizer step."})
    max_length: int = field(default=160, metadata={
        "help": "Pairs whose [CLS] context [SEP] reply [SEP] is longer (in word pieces) are left out (counted)."})
    eval_contexts: int = field(default=300, metadata={
        "help": "Contexts of the battery run on ED valid (to choose the combination) and on ED test (reported)."})
    max_conversations: int | None = field(default=None, metadata={
        "help": "Use only the first N conversations of each split (smoke tests); None = all."})
    seed: int = field(default=0, metadata={"help": "Seed of the negatives, the training order and the intervals."})
