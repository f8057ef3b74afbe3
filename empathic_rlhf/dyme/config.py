"""Config of DYME: a learned dynamic metric that predicts the next utterance's metric vector from the history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class DymeConfig:
    """Everything ``empathic dyme train`` / ``dyme score`` read; set in YAML under ``dyme:`` or ``--dyme.key=v``."""

    data_dir: str | None = field(default=None, metadata={
        "help": "EmpatheticDialogues folder, found as every stage finds it (conversation JSONL such as "
                "shared/data/empatheticdialogues/reconstructed, or the release CSVs). Default: --data-dir, "
                "else $EMPATHIC_DATA_DIR."})
    max_conversations: int | None = field(default=None, metadata={
        "help": "Use only the first N conversations of each split (smoke tests); None = all."})
    max_history: int = field(default=8, metadata={
        "help": "Previous utterances whose metric vectors are fed to the MLP (most recent first, zero-padded); "
                "also the number of position slots (later positions share the last slot)."})
    scale_quantile: float = field(default=0.995, metadata={
        "help": "Min-max scaling bounds are the (1-q, q) quantiles of each metric on train, values clipped to "
                "[0, 1]; 1.0 = plain min-max. Keeps one 200-word utterance from squashing the length scale."})
    feature_set: Literal["text+metrics", "metrics", "text"] = field(default="text+metrics", metadata={
        "help": "Inputs of the MLP: both blocks (DYME), or an ablation with only the metric history + position "
                "('metrics') or only the history embedding + position ('text')."})
    hidden_size: int = field(default=256, metadata={"help": "Width of the two hidden layers of the MLP."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout after each hidden layer."})
    learning_rate: float = field(default=1e-3, metadata={"help": "AdamW learning rate."})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay."})
    batch_size: int = field(default=256, metadata={"help": "Training batch size (positions per step)."})
    max_epochs: int = field(default=40, metadata={"help": "Upper bound on epochs; early stopping usually ends sooner."})
    patience: int = field(default=4, metadata={
        "help": "Stop after this many epochs without a lower validation MSE; the best epoch is kept."})
    seed: int = field(default=0, metadata={"help": "Seed for initialisation and batch order."})
    num_threads: int = field(default=1, metadata={
        "help": "torch CPU threads (the machine is shared; 1 keeps the encoder from starving others)."})
    embed_batch_size: int = field(default=64, metadata={"help": "Texts per sentence-encoder batch."})
    empathy_metrics: bool = field(default=False, metadata={
        "help": "Append the empathy yardsticks (EPITOME ER / IP / EX expected level and emotion fit, see "
                "docs/empathy.md) to every utterance's metric vector, so DYME predicts and rewards them too."})
    empathy_model: str | None = field(default=None, metadata={
        "help": "Empathy model folder for empathy_metrics. Default: $EMPATHIC_EMPATHY_MODEL, else the cache "
                "(built on first use by `empathic empathy build`)."})
    reward_weights: dict[str, float] = field(default_factory=dict, metadata={
        "help": "Weight of each metric in the DYME reward -Σ w_k (pred_k - actual_k)^2 / Σ w_k, on scaled "
                "metrics; metrics not named weigh 1.0. Example: {similarity: 0, length: 0.5}."})
