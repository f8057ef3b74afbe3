"""Train π with TRL's ``DPOTrainer`` on preference pairs; report held-out reward margins before and after.

DPO's implicit reward of a reply is ``beta * (log pi_theta(y|x) - log pi(y|x))``; training should make it larger
for chosen than for rejected replies: the held-out margin (chosen minus rejected) is the number to watch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from ..distributed import main_process_only
from ..io import atomic_path, write_json, write_jsonl
from ..records import Pair, as_dicts
from ..rundir import checkpoints_and_resume
from ..runtime import device_training_args, trl_arguments
from ..stats import mean_ci, proportion_ci
from .config import DpoConfig


def heldout_margins(policy, reference, tokenizer, pairs: list[Pair], beta: float) -> dict:
    """Mean implicit-reward margin (chosen - rejected) with its 95% interval, and accuracy (margin > 0) with its
    Wilson interval, on held-out pairs. Each model scores every pair's two replies in batches
    (:func:`empathic_rlhf.models.logprobs.reply_logprobs`)."""
    from ..models.logprobs import reply_logprobs

    if not pairs:
        return {"n": 0, "margin": None, "margin_ci95": None, "accuracy": None, "accuracy_ci95": None}
    prompts = [as_dicts(pair.prompt) for pair in pairs for _ in range(2)]
    replies = [reply for pair in pairs for reply in (pair.chosen[0].content, pair.rejected[0].content)]
    logp_policy, _ = reply_logprobs(policy, tokenizer, prompts, replies)
    logp_reference, _ = reply_logprobs(reference, tokenizer, prompts, replies)
    implicit = [beta * (p - r) for p, r in zip(logp_policy, logp_reference)]
    margins = [chosen - rejected for chosen, rejected in zip(implicit[::2], implicit[1::2])]
    margin, accuracy = mean_ci(margins), proportion_ci(sum(m > 0 for m in margins), len(margins))
    return {"n": len(margins), "margin": margin["mean"], "margin_ci95": [margin["lo"], margin["hi"]],
            "accuracy": accuracy["rate"], "accuracy_ci95": [accuracy["lo"], accuracy["hi"]]}


def trl_args(config: DpoConfig, output_dir: Path, seed: int):
    """TRL's DPOConfig from the ``dpo`` section (its ``trainer_args`` passed through)."""
    from trl import DPOConfig as TrlDpoConfig

    return trl_arguments(TrlDpoConfig, "dpo", dict(
        output_dir=str(output_dir), beta=config.beta, learning_rate=config.learning_rate,
        num_train_epochs=config.epochs, max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
        max_length=config.max_length, report_to=config.report_to, logging_steps=1, save_strategy="steps",
        save_steps=50, save_total_limit=1, seed=seed, **device_training_args()), config.trainer_args)


def train_dpo(config: DpoConfig, policy_dir: str, train_pairs: list[Pair], test_pairs: list[Pair], out_dir: Path,
              *, seed: int = 0) -> dict:
    from datasets import Dataset
    from trl import DPOTrainer

    from ..models.loading import load_model_and_tokenizer
    from ..rl.trainer import load_policy

    out_dir.mkdir(parents=True, exist_ok=True)
    policy, tokenizer = load_policy(policy_dir, out_dir / "start")
    start = out_dir / "start" if (out_dir / "start" / "config.json").is_file() else Path(policy_dir)
    reference, _ = load_model_and_tokenizer(str(start))
    reference.eval()
    # measured once, by the main process (every process's π is the same); 0 by construction
    before = main_process_only(heldout_margins)(policy, reference, tokenizer, test_pairs, config.beta)
    # one process clears stale checkpoints and picks the one to resume; every process resumes from it
    checkpoints, last = main_process_only(checkpoints_and_resume)(out_dir / "checkpoints", {
        "config": asdict(config), "policy": policy_dir, "seed": seed,
        "data": hashlib.sha256(json.dumps([p.to_json() for p in train_pairs], sort_keys=True).encode()).hexdigest()})
    args = trl_args(config, checkpoints, seed)
    rows = [{"prompt": as_dicts(p.prompt), "chosen": as_dicts(p.chosen), "rejected": as_dicts(p.rejected)}
            for p in train_pairs]
    trainer = DPOTrainer(model=policy, ref_model=reference, args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer)
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    policy.eval()

    @main_process_only  # measured and written once; every process returns the metrics
    def measure_and_save() -> dict:
        after = heldout_margins(policy, reference, tokenizer, test_pairs, config.beta)
        with atomic_path(out_dir / "model") as tmp:
            policy.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        log = [h for h in trainer.state.log_history if "loss" in h]
        write_jsonl(out_dir / "log.jsonl", log)
        metrics = {"pairs": {"train": len(rows), "test": len(test_pairs)}, "heldout_before": before,
                   "heldout_after": after, "steps": trainer.state.global_step}
        write_json(out_dir / "metrics.json", metrics)
        return metrics

    return measure_and_save()

