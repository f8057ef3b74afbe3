"""Build and run TRL's RLOO/GRPO trainer with the adaptive KL controller and held-out checkpoint selection.

Everything rides on public hooks: ``TrainerCallback`` (on_log drives the KL controller from TRL's logged KL and
reply length, on_step_end checks the selection prompts, on_save stores beta + the kept record in the checkpoint)
and the trainer's ``beta`` attribute, which TRL 1.16 reads every step (rl/kl_controller.py, docs/rl.md).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from ..distributed import is_main_process, main_process_only, shard_evenly
from ..io import atomic_path, write_json
from ..rundir import checkpoints_for
from .config import RlConfig
from .heldout import evaluate_heldout, paired_difference
from .kl_controller import kl_control_description, make_controller, make_kl_callback
from .normalize import component_statistics, standardised, write_statistics
from .outcome import policy_changed, training_outcome, warn
from .selection import make_run_callback
from .state import kept_record, read_state, resumable_checkpoint, truncate_jsonl

LOGS = ("log.jsonl", "samples.jsonl", "heldout.jsonl")


def trl_config(config: RlConfig, output_dir: Path, seed: int):
    from trl import GRPOConfig, RLOOConfig

    from ..errors import EmpathicError
    from ..runtime import device_training_args, trl_arguments

    cls = RLOOConfig if config.algorithm == "rloo" else GRPOConfig
    # prompts_per_step is per optimizer step over all processes: each process answers its share, in
    # gradient_accumulation_steps (rl.trainer_args) micro-batches
    accumulation = config.trainer_args.get("gradient_accumulation_steps", 1)
    what = "rl.prompts_per_step x rl.num_generations"
    if not isinstance(accumulation, int) or accumulation < 1 or config.episodes_per_step % accumulation:
        raise EmpathicError(f"{what} = {config.episodes_per_step} does not divide into "
                            f"rl.trainer_args.gradient_accumulation_steps = {accumulation!r} micro-batches")
    return trl_arguments(cls, "rl", dict(
        output_dir=str(output_dir), learning_rate=config.learning_rate, max_steps=config.max_steps,
        per_device_train_batch_size=shard_evenly(config.episodes_per_step // accumulation,
                                                 f"{what} / gradient_accumulation_steps"),
        num_generations=config.num_generations, max_completion_length=config.max_completion_length,
        temperature=config.temperature, top_p=1.0, top_k=0, beta=config.beta,
        mask_truncated_completions=config.mask_truncated_completions, report_to=config.report_to,
        logging_steps=1, save_strategy="steps", save_steps=config.eval_steps, save_total_limit=2, seed=seed,
        log_completions=False, disable_tqdm=False, **vllm_rollout_args(config), **device_training_args()),
        config.trainer_args)


def vllm_rollout_args(config: RlConfig) -> dict:
    """TRL's vLLM rollouts in colocate mode (vLLM shares the training process and GPU; weights are synced to it
    every step), or nothing. Checks the extra and the GPU first: the missing piece is named in one line."""
    if not config.use_vllm:
        return {}
    from ..generation.vllm_backend import check_gpu_backend

    check_gpu_backend()
    return {"use_vllm": True, "vllm_mode": "colocate",
            "vllm_gpu_memory_utilization": config.vllm_gpu_memory_utilization}


def load_policy(policy_dir: str, start_dir: Path):
    """π with its dialogue format. TRL rebuilds the KL reference from the model's path, so when loading changed
    the model (tokens added, embeddings resized: a raw base model) save it first and start from that copy."""
    from ..models.loading import load_model_and_tokenizer, resolve_model_path

    policy, tokenizer = load_model_and_tokenizer(policy_dir)
    saved = json.loads((Path(resolve_model_path(policy_dir)) / "config.json").read_text())
    if saved.get("vocab_size") == policy.config.vocab_size:
        return policy, tokenizer

    @main_process_only  # one process writes the copy; every process then loads it
    def save_start() -> None:
        with atomic_path(start_dir) as tmp:
            policy.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)

    save_start()
    return load_model_and_tokenizer(str(start_dir))


def resume_point(checkpoints: Path, out_dir: Path, config: RlConfig):
    """(checkpoint or None, starting beta, kept record or None); a fresh run clears the outputs of an older one."""
    last = resumable_checkpoint(checkpoints)
    if last is None:
        for stale in LOGS:
            (out_dir / stale).unlink(missing_ok=True)
        shutil.rmtree(out_dir / "model", ignore_errors=True)
        return None, config.beta, None
    saved = read_state(last)
    for name in LOGS:  # steps after the checkpoint are redone: drop their records
        truncate_jsonl(out_dir / name, saved["step"])
    # the kept model's own record describes the weights on disk (it may be newer than the checkpoint)
    best = kept_record(out_dir / "model") or saved["best"]
    print(f"[rl] resuming from {last.name}: beta {saved['beta']:.4g}, kept step "
          f"{best['step'] if best else None}")
    return last, saved["beta"], best


def report_on_heldout(config: RlConfig, kept, reference, tokenizer, prompts, reward_fns, weights, seed: int):
    """The kept model and π on the report prompts (never used for selection): means, SEs, paired difference."""
    args = (tokenizer, prompts, reward_fns, weights, config.max_completion_length)
    kept_result = evaluate_heldout(kept, reference, *args, seed=seed, samples=config.eval_samples)
    pi_result = evaluate_heldout(reference, reference, *args, seed=seed, samples=config.eval_samples)
    diff, se = paired_difference(kept_result.per_prompt, pi_result.per_prompt)
    return {"n_prompts": len(prompts), "samples_per_prompt": config.eval_samples, "seed": seed,
            "kept_reward": kept_result.reward, "kept_reward_se": kept_result.reward_se,
            "pi_reward": pi_result.reward, "pi_reward_se": pi_result.reward_se,
            "diff_vs_pi": diff, "diff_vs_pi_se": se, "kept_kl": kept_result.kl, "kept_kl_se": kept_result.kl_se,
            "kept_monitors": kept_result.monitors, "pi_monitors": pi_result.monitors}


def train_rl(config: RlConfig, policy_dir: str, prompts: list[list[dict]], heldout_prompts: list[list[dict]],
             reward_fns: list, weights: list[float], out_dir: Path, *, seed: int = 0,
             report_prompts: list[list[dict]] | None = None, callbacks=(), reference: str | None = None,
             heldout_references: list[str] | None = None) -> dict:
    """Optimise the policy in ``policy_dir``; the kept model lands in ``out_dir/model``. Returns the summary.

    ``heldout_prompts`` select the kept checkpoint; ``report_prompts`` (disjoint) report it against π at the end.
    ``callbacks``: extra ``TrainerCallback``s. ``reference``: π's folder when ``policy_dir`` is another policy (RL
    continuing from an earlier round's): the KL penalty, the held-out KL and the reward normalisation stay
    relative to π. ``heldout_references``: the human replies to ``heldout_prompts`` (each check then logs the
    policy's perplexity on them: the fluency axis of the reward-KL curve).
    """
    from datasets import Dataset
    from trl import GRPOTrainer, RLOOTrainer

    out_dir.mkdir(parents=True, exist_ok=True)
    policy, tokenizer = load_policy(policy_dir, out_dir / "start")
    continuing = reference is not None and reference != policy_dir
    if continuing:  # TRL builds its KL reference model from the policy's name_or_path: point it at π
        policy.config.name_or_path = str(reference)
    kl_control = kl_control_description(config)
    if is_main_process():
        print(f"[rl] {config.algorithm}: {kl_control['description']}")
    stats = {}
    if config.normalize_rewards:
        settings = {"prompts": min(config.normalize_prompts, len(prompts)), "samples": config.num_generations,
                    "temperature": 1.0, "max_new_tokens": config.max_completion_length, "seed": seed}

        @main_process_only  # measured once: every process then standardises its rewards the same way
        def measure() -> dict:
            pi = load_policy(reference, out_dir / "start")[0] if continuing else policy
            found = component_statistics(pi, tokenizer, prompts[:settings["prompts"]], reward_fns,
                                         samples=config.num_generations, max_new_tokens=config.max_completion_length,
                                         seed=seed)
            write_statistics(out_dir / "reward_normalization.json", found, settings)
            return found

        stats = measure()
        reward_fns = standardised(reward_fns, stats)

    @main_process_only  # one process clears stale checkpoints and outputs; every process resumes the same way
    def resume() -> tuple:
        checkpoints = checkpoints_for(out_dir / "checkpoints", {
            "config": asdict(config), "policy": policy_dir, **({"reference": reference} if continuing else {}),
            "seed": seed, "weights": list(weights),
            "prompts": hashlib.sha256(json.dumps([prompts, heldout_prompts, report_prompts]).encode()).hexdigest()})
        return checkpoints, *resume_point(checkpoints, out_dir, config)

    checkpoints, last, beta, best = resume()
    controller = make_controller(beta, config.adaptive_kl, config.kl_target, config.horizon)

    trainer_ref: dict = {}
    log_extra: dict = {}
    kl_callback = make_kl_callback(trainer_ref, controller, config.episodes_per_step, log_extra)
    run_callback, state = make_run_callback(trainer_ref, config, out_dir, heldout_prompts, reward_fns, weights,
                                            tokenizer, controller, log_extra, best, seed, heldout_references)
    base = RLOOTrainer if config.algorithm == "rloo" else GRPOTrainer
    args = trl_config(config, checkpoints, seed)
    args.reward_weights = list(weights)
    # kl_callback before run_callback: the step's log record then carries the KL and beta it produced
    trainer = base(model=policy, reward_funcs=list(reward_fns), args=args,
                   train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]), processing_class=tokenizer,
                   callbacks=[kl_callback, run_callback, *callbacks])
    trainer_ref["trainer"] = trainer
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    return main_process_only(_finish)(config, trainer, state, controller, kl_control, stats, out_dir, tokenizer,
                                      report_prompts, reward_fns, weights, seed, policy_dir if continuing else None)


def _finish(config: RlConfig, trainer, state: dict, controller, kl_control: dict, stats: dict, out_dir: Path,
            tokenizer, report_prompts, reward_fns, weights, seed: int, start: str | None = None) -> dict:
    """After training (main process): the outcome checks, the report set, ``metrics.json``; returns the summary.
    ``start``: the policy folder training started from when it is not π (RL continuing)."""
    log = [json.loads(line) for line in (out_dir / "log.jsonl").read_text().splitlines()]
    heldout = [json.loads(line) for line in (out_dir / "heldout.jsonl").read_text().splitlines()]
    kept = state["best"]
    # compared with the weights training started from: π, or (RL continuing) an earlier round's policy
    start_model = load_policy(start, out_dir / "start")[0] if start else trainer.ref_model
    outcome = training_outcome(log, policy_changed(trainer.model, start_model), kept["step"] if kept else None,
                               config.mask_truncated_completions, start=start or "π")
    del start_model
    warn(outcome)
    report = None
    if report_prompts:
        from ..models.loading import load_model_and_tokenizer

        kept_model, _ = load_model_and_tokenizer(str(out_dir / "model"))
        report = report_on_heldout(config, kept_model.to(trainer.ref_model.device), trainer.ref_model, tokenizer,
                                   report_prompts, reward_fns, weights, seed)
    summary = {"algorithm": config.algorithm, "steps": trainer.state.global_step, "kept": kept,
               "final_beta": controller.value, "kl_control": {**kl_control, "final_beta": controller.value},
               "heldout": heldout, "report": report, "reward_normalization": stats, "outcome": outcome}
    write_json(out_dir / "metrics.json", {**summary, "log": log})
    return summary
