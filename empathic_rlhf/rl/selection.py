"""The RL run's callback: log every step, check the selection prompts every ``eval_steps``, keep the best model,
and carry beta + the kept record in each checkpoint (rl/state.py). Selection rule: rl/heldout.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..distributed import is_main_process
from ..io import atomic_path
from .heldout import evaluate_heldout, is_better, paired_difference, reference_perplexity, stock_rose
from .state import SELECTION_FILE, write_state


def make_run_callback(trainer_ref: dict, config, out_dir: Path, selection_prompts, reward_fns, weights, tokenizer,
                      controller, log_extra: dict, best: dict | None, seed: int,
                      selection_references: list[str] | None = None):
    """``best``: the kept record to start from (a resumed run's), or None. ``selection_references``: the human
    replies to the selection prompts (each check then logs the policy's perplexity on them). Returns (callback,
    state)."""
    from transformers import TrainerCallback

    log_path, samples_path, heldout_path = out_dir / "log.jsonl", out_dir / "samples.jsonl", out_dir / "heldout.jsonl"
    state = {"best": best}

    def append(path: Path, records: list[dict]) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in records)

    # Under several processes the main one alone checks, keeps and logs (its weights equal the others'; TRL's
    # logged metrics are already gathered over all processes); the others go on and wait at the next collective.
    main = is_main_process()

    class RlRunCallback(TrainerCallback):
        def on_train_begin(self, args, control_state, control, model=None, **kwargs):
            if main and state["best"] is None:  # step 0 is π itself: the baseline to beat
                self.check(control_state.global_step, model)

        def on_step_end(self, args, control_state, control, model=None, **kwargs):
            step = control_state.global_step
            if main and (step % config.eval_steps == 0 or step == config.max_steps):
                self.check(step, model)

        def on_log(self, args, control_state, control, logs=None, **kwargs):
            if not main:
                return
            record = {"step": control_state.global_step, "beta": controller.value, **(logs or {})}
            if "kl" in (logs or {}):
                record.update(log_extra)
            append(log_path, [record])

        def on_save(self, args, control_state, control, **kwargs):
            if not main:
                return
            checkpoint = Path(args.output_dir) / f"checkpoint-{control_state.global_step}"
            write_state(checkpoint, {"step": control_state.global_step, "beta": controller.value,
                                     "best": state["best"]})

        def check(self, step, model):
            result = evaluate_heldout(model, trainer_ref["trainer"].ref_model, tokenizer, selection_prompts,
                                      reward_fns, weights, config.max_completion_length, seed=seed,
                                      samples=config.eval_samples)
            entry = {"step": step, "heldout_reward": result.reward, "heldout_reward_se": result.reward_se,
                     "heldout_kl": result.kl, "heldout_kl_se": result.kl_se, "n_prompts": len(selection_prompts),
                     "samples_per_prompt": config.eval_samples, "seed": seed, "beta": controller.value,
                     "per_prompt": result.per_prompt, "monitors": result.monitors,
                     "stock_per_prompt": result.stock_per_prompt, "seconds": result.seconds}
            if selection_references:
                started = time.perf_counter()
                entry["perplexity"] = reference_perplexity(model, tokenizer, selection_prompts, selection_references)
                entry["seconds"]["perplexity"] = time.perf_counter() - started
            append(samples_path, [{"step": step, "context": p[-1]["content"], "reply": r}
                                  for p, r in list(zip(selection_prompts, result.replies))[:4]])
            best = state["best"]
            if best is not None:
                entry["diff_vs_kept"], entry["diff_vs_kept_se"] = paired_difference(result.per_prompt,
                                                                                   best["per_prompt"])
            within_budget = result.kl <= config.kl_budget
            entry["stock_rose"] = stock_rose(result, best, config.selection_z)
            entry["kept"] = within_budget and not entry["stock_rose"] and (
                best is None or is_better(result.per_prompt, best["per_prompt"], config.selection_z))
            if entry["kept"]:
                state["best"] = entry
                with atomic_path(out_dir / "model") as tmp:
                    model.save_pretrained(tmp)
                    tokenizer.save_pretrained(tmp)
                    (tmp / SELECTION_FILE).write_text(json.dumps(entry), encoding="utf-8")
            append(heldout_path, [entry])
            diff = (f", vs kept {entry['diff_vs_kept']:+.3f} ± {entry['diff_vs_kept_se']:.3f}"
                    if "diff_vs_kept" in entry else "")
            fluency = f", perplexity on human replies {entry['perplexity']:.2f}" if "perplexity" in entry else ""
            print(f"[rl] step {step}: held-out reward {result.reward:.3f} ± {result.reward_se:.3f} (SE, "
                  f"{len(selection_prompts)} prompts x {config.eval_samples}){diff}, KL {result.kl:.2f}{fluency}, beta "
                  f"{controller.value:.4f}, stock {result.monitors['stock']:.2f}, questions "
                  f"{result.monitors['question']:.2f}{' (stock share rose: not kept)' if entry['stock_rose'] else ''}"
                  f"{' (kept)' if entry['kept'] else ''}")

    return RlRunCallback(), state
