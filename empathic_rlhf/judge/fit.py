"""The context-fit model: a MiniLM cross-encoder ``[CLS] context [SEP] reply [SEP] -> logit`` trained so that the
human reply of an ED train context outscores a hard negative for the same context (Bradley-Terry loss through
TRL's ``RewardTrainer``, the reward stage's machinery). It answers "was this reply written for THIS conversation,
by someone who read it?" -- the question the EPITOME mechanism classifiers never ask.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from pathlib import Path

from ..battery.phrases import TRAINING, Phrases
from ..battery.probes import TRAINING_WEIGHTS, Context, GoldPool, context_rng, training_negative
from ..errors import EmpathicError
from ..records import alternating_prompt
from .config import JudgeBuildConfig


def kind_weights(overrides: dict[str, float] | None) -> dict[str, float]:
    """TRAINING_WEIGHTS with ``overrides`` (config ``negative_weights``) in place of the kinds they name."""
    unknown = sorted(set(overrides or {}) - set(TRAINING_WEIGHTS))
    if unknown:
        raise EmpathicError(f"judge.negative_weights: unknown probe kind(s) {', '.join(unknown)} "
                            f"(kinds: {', '.join(TRAINING_WEIGHTS)})")
    weights = TRAINING_WEIGHTS | {kind: float(w) for kind, w in (overrides or {}).items()}
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise EmpathicError(f"judge.negative_weights: weights must be >= 0 and not all 0, got {overrides}")
    return weights


def training_pairs(contexts: list[Context], *, phrases: Phrases = TRAINING, negatives: int = 1,
                   seed: int = 0, weights: dict[str, float] | None = None) -> list[dict]:
    """Per context, ``negatives`` pairs ``{history, chosen: gold, rejected: hard negative, kind}`` (kinds drawn
    by ``weights``, default TRAINING_WEIGHTS); the pool of "another conversation's reply" is these contexts' own
    golds, so nothing outside them is ever seen."""
    pool = GoldPool(contexts)
    pairs = []
    for context in contexts:
        rng = context_rng(seed, context, "negative")
        for _ in range(negatives):
            probe = training_negative(context, phrases, pool, rng, weights)
            if probe is not None:
                pairs.append({"history": list(context.history), "chosen": context.gold, "rejected": probe.reply,
                              "kind": probe.kind})
    return pairs


def tokenized_rows(pairs: list[dict], tokenizer, max_length: int, counts: Counter) -> list[dict]:
    from ..reward.model import reward_input_ids

    rows = []
    for pair in pairs:
        prompt = alternating_prompt(pair["history"])
        chosen = reward_input_ids(tokenizer, prompt, pair["chosen"])
        rejected = reward_input_ids(tokenizer, prompt, pair["rejected"])
        if max(len(chosen), len(rejected)) > max_length:
            counts["pairs_too_long"] += 1
            continue
        counts[f"kind:{pair['kind']}"] += 1
        rows.append({"chosen_ids": chosen, "rejected_ids": rejected})
    return rows


def train_fit_model(pairs: list[dict], config: JudgeBuildConfig, work_dir: Path, out_dir: Path) -> dict:
    """Train on ``pairs`` (resuming from ``work_dir/checkpoints`` after a kill) and save the model to
    ``out_dir`` in the reward model's folder format; returns what to record in the build report."""
    from datasets import Dataset
    from trl import RewardTrainer

    from ..reward.config import RewardConfig
    from ..reward.model import RewardModel, load_backbone, load_warm_start
    from ..reward.train import trl_args
    from ..rundir import checkpoints_and_resume

    model, tokenizer = load_warm_start(warm_start_folder(config.warm_start)) if config.warm_start \
        else load_backbone("minilm")
    counts: Counter = Counter()
    rows = tokenized_rows(pairs, tokenizer, config.max_length, counts)
    random.Random(config.seed).shuffle(rows)
    fingerprint = hashlib.sha256(repr([(r["chosen_ids"], r["rejected_ids"]) for r in rows]).encode()).hexdigest()
    checkpoints, last = checkpoints_and_resume(work_dir / "checkpoints", {
        "lr": config.learning_rate, "batch": config.batch_size, "seed": config.seed, "data": fingerprint,
        "warm_start": config.warm_start})
    reward_config = RewardConfig(backbone="minilm", learning_rate=config.learning_rate, batch_size=config.batch_size)
    trainer = RewardTrainer(model=model, args=trl_args(reward_config, checkpoints, config.seed),
                            train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    trainer.model.eval()
    RewardModel(trainer.model, tokenizer).save(out_dir)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"pairs": len(rows), "counts": dict(counts), "steps": trainer.state.global_step,
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None}


def warm_start_folder(path: str) -> Path:
    """The fit model of a built judge folder, or the model folder itself."""
    from .scorer import FIT_FOLDER

    folder = Path(path).expanduser()
    return folder / FIT_FOLDER if (folder / FIT_FOLDER).is_dir() else folder
