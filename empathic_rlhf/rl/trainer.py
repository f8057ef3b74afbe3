"""Build and run TRL's RLOO/GRPO trainer with the adaptive KL controller and held-out checkpoint selection."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from ..io import atomic_path, write_json
from ..rundir import checkpoints_for, last_checkpoint
from .config import RlConfig
from .heldout import evaluate_heldout
from .kl_controller import make_controller
from .normalize import component_statistics, standardised, write_statistics


def with_adaptive_kl(base):
    """A subclass of a TRL online trainer whose ``beta`` follows a KL controller after every generation round."""

    class AdaptiveKLTrainer(base):
        kl_controller = None

        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            kls = self._metrics["train"].get("kl")
            if self.model.training and self.kl_controller is not None and kls:
                mask = output["completion_mask"]
                # TRL logs the mean per-token KL; the controller works on KL per reply, as Ziegler et al.
                sequence_kl = kls[-1] * mask.sum(-1).float().mean().item()
                self.beta = self.kl_controller.update(sequence_kl, n_steps=mask.shape[0])
                self._metrics["train"]["beta"].append(self.beta)
                self._metrics["train"]["kl_sequence"].append(sequence_kl)
            return output

    AdaptiveKLTrainer.__name__ = f"AdaptiveKL{base.__name__}"
    return AdaptiveKLTrainer


def trl_config(config: RlConfig, output_dir: Path, seed: int):
    import torch
    from trl import GRPOConfig, RLOOConfig

    on_gpu = torch.cuda.is_available()
    cls = RLOOConfig if config.algorithm == "rloo" else GRPOConfig
    return cls(
        output_dir=str(output_dir), learning_rate=config.learning_rate, max_steps=config.max_steps,
        per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        num_generations=config.num_generations, max_completion_length=config.max_completion_length,
        temperature=config.temperature, top_p=1.0, top_k=0, beta=config.beta,
        mask_truncated_completions=config.mask_truncated_completions, report_to=config.report_to,
        logging_steps=1, save_strategy="steps", save_steps=config.eval_steps, save_total_limit=2, seed=seed,
        bf16=on_gpu, gradient_checkpointing=False, use_cpu=not on_gpu, dataloader_num_workers=0,
        log_completions=False, disable_tqdm=False)


def make_callback(trainer_ref: dict, config: RlConfig, out_dir: Path, heldout_prompts, reward_fns, weights,
                  tokenizer):
    """Log every step to ``log.jsonl``; every ``eval_steps`` check held-out reward/KL and keep the best model."""
    from transformers import TrainerCallback

    log_path, samples_path = out_dir / "log.jsonl", out_dir / "samples.jsonl"
    state = {"best": None}

    class RlCallback(TrainerCallback):
        def on_log(self, args, control_state, control, logs=None, **kwargs):
            trainer = trainer_ref["trainer"]
            record = {"step": control_state.global_step, "beta": trainer.beta, **(logs or {})}
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

        def on_train_begin(self, args, control_state, control, model=None, **kwargs):
            self.check(control_state.global_step, model)  # step 0 is π itself: the baseline to beat

        def on_step_end(self, args, control_state, control, model=None, **kwargs):
            step = control_state.global_step
            if step % config.eval_steps == 0 or step == config.max_steps:
                self.check(step, model)

        def check(self, step, model):
            result = evaluate_heldout(model, trainer_ref["trainer"].ref_model, tokenizer, heldout_prompts, reward_fns, weights,
                                      config.max_completion_length, seed=step)
            entry = {"step": step, "heldout_reward": result.reward, "heldout_kl": result.kl,
                     "beta": trainer_ref["trainer"].beta}
            with open(samples_path, "a", encoding="utf-8") as f:
                for prompt, reply in list(zip(heldout_prompts, result.replies))[:4]:
                    f.write(json.dumps({"step": step, "context": prompt[-1]["content"], "reply": reply}) + "\n")
            best = state["best"]
            if result.kl <= config.kl_budget and (best is None or result.reward > best["heldout_reward"]):
                state["best"] = entry
                with atomic_path(out_dir / "model") as tmp:
                    model.save_pretrained(tmp)
                    tokenizer.save_pretrained(tmp)
            entry["kept"] = state["best"] is entry
            with open(out_dir / "heldout.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            print(f"[rl] step {step}: held-out reward {result.reward:.3f}, KL {result.kl:.2f}, beta "
                  f"{entry['beta']:.4f}{' (kept)' if entry['kept'] else ''}")

    return RlCallback(), state


def load_policy(policy_dir: str, start_dir: Path):
    """π with its dialogue format. TRL rebuilds the KL reference from the model's path, so when loading changed
    the model (tokens added, embeddings resized: a raw base model) save it first and start from that copy."""
    import json as _json

    from ..models.loading import load_model_and_tokenizer, resolve_model_path

    policy, tokenizer = load_model_and_tokenizer(policy_dir)
    saved = _json.loads((Path(resolve_model_path(policy_dir)) / "config.json").read_text())
    if saved.get("vocab_size") == policy.config.vocab_size:
        return policy, tokenizer
    with atomic_path(start_dir) as tmp:
        policy.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return load_model_and_tokenizer(str(start_dir))


def train_rl(config: RlConfig, policy_dir: str, prompts: list[list[dict]], heldout_prompts: list[list[dict]],
             reward_fns: list, weights: list[float], out_dir: Path, *, seed: int = 0) -> dict:
    """Optimise the policy in ``policy_dir``; the kept model lands in ``out_dir/model``. Returns the summary."""
    from datasets import Dataset
    from trl import GRPOTrainer, RLOOTrainer

    out_dir.mkdir(parents=True, exist_ok=True)
    policy, tokenizer = load_policy(policy_dir, out_dir / "start")
    stats = {}
    if config.normalize_rewards:
        stats = component_statistics(policy, tokenizer, heldout_prompts, reward_fns, samples=config.num_generations,
                                     max_new_tokens=config.max_completion_length, seed=seed)
        write_statistics(out_dir / "reward_normalization.json", stats)
        reward_fns = standardised(reward_fns, stats)
    checkpoints = checkpoints_for(out_dir / "checkpoints", {
        "config": asdict(config), "policy": policy_dir, "seed": seed, "weights": list(weights),
        "prompts": hashlib.sha256(json.dumps([prompts, heldout_prompts]).encode()).hexdigest()})
    last = last_checkpoint(checkpoints)
    if last is None:  # a fresh run: logs of an earlier, finished run go; a resumed run appends to its own
        for stale in ("log.jsonl", "samples.jsonl", "heldout.jsonl"):
            (out_dir / stale).unlink(missing_ok=True)
    base = RLOOTrainer if config.algorithm == "rloo" else GRPOTrainer
    args = trl_config(config, checkpoints, seed)
    args.reward_weights = list(weights)
    trainer_ref: dict = {}
    callback, state = make_callback(trainer_ref, config, out_dir, heldout_prompts, reward_fns, weights, tokenizer)
    trainer = with_adaptive_kl(base)(model=policy, reward_funcs=list(reward_fns), args=args,
                                     train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]),
                                     processing_class=tokenizer, callbacks=[callback])
    trainer_ref["trainer"] = trainer
    trainer.kl_controller = make_controller(config.beta, config.adaptive_kl, config.kl_target, config.kl_horizon)
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    log = [json.loads(line) for line in (out_dir / "log.jsonl").read_text().splitlines()]
    heldout = [json.loads(line) for line in (out_dir / "heldout.jsonl").read_text().splitlines()]
    summary = {"steps": trainer.state.global_step, "kept": state["best"], "final_beta": trainer.beta,
               "heldout": heldout, "reward_normalization": stats}
    write_json(out_dir / "metrics.json", {**summary, "log": log})
    return summary
