"""Where RL's time goes; one held-out check timed before and after its sampling moved to the toolkit's decoder.

    python benchmarks/rl_profile.py --run runs/results [--measure] [--prompts 32] [--samples 4] [--out rl_profile]

1. From the run's finished RL stage (``<run>/rl``: TRL's per-step ``step_time`` in log.jsonl, each held-out check's
   ``seconds`` in heldout.jsonl, the stage's wall time in manifest.json): the stage's time split into training steps
   (rollouts through TRL's ``generate`` + reward + policy update), held-out checks, and the rest (loading, reward
   normalisation, the report set against π, saving); episodes/s.
2. ``--measure``: on the run's π and the RL stage's reward, one held-out check of ``--prompts`` x ``--samples``
   replies timed by phase. Before: sampling with ``model.generate``, then the policy's and the reference's forward
   passes over prompt + reply for the KL, then reward scoring. After: the toolkit's decoding loop, which returns
   the policy's log-probabilities as it samples, then the reference's pass and reward scoring.

Writes ``benchmarks/results/<out>.json`` and ``<out>.md``. Numbers are this machine's, under whatever else ran.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).resolve().parent / "results"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stage_split(run: Path) -> dict:
    """The finished RL stage's wall time by part (seconds) and its episodes/s."""
    from empathic_rlhf.run_config import load_run_config

    rl = run / "rl"
    stage = json.loads((run / "manifest.json").read_text())["stages"]["rl"]
    config = load_run_config(config_file=str(run / "config.yaml")).rl
    log = [r for r in read_jsonl(rl / "log.jsonl") if "step_time" in r]
    checks = read_jsonl(rl / "heldout.jsonl")
    steps = sum(r["step_time"] for r in log)
    timed = [c["seconds"] for c in checks if "seconds" in c]
    check_seconds = sum(sum(s.values()) for s in timed)
    episodes = len(log) * config.episodes_per_step
    return {"stage_seconds": stage["seconds"], "steps": len(log), "episodes": episodes,
            "training_steps_seconds": steps, "heldout_checks": len(checks), "heldout_checks_timed": len(timed),
            "heldout_seconds": check_seconds,
            "other_seconds": stage["seconds"] - steps - check_seconds,
            "seconds_per_step": steps / max(len(log), 1),
            "episodes_per_second": episodes / stage["seconds"],
            "replies_per_check": config.eval_prompts * config.eval_samples}


def old_sampling(policy, tokenizer, prompts, max_new_tokens: int, seed: int, samples: int) -> float:
    """Seconds the checks' sampling took before: ``model.generate`` on every (prompt, sample) row."""
    import torch

    texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    batch = tokenizer([t for t in texts for _ in range(samples)], return_tensors="pt", padding=True,
                      add_special_tokens=False)
    tokenizer.padding_side = side  # the new path that runs next pads its own way
    torch.manual_seed(seed)
    start = time.perf_counter()
    with torch.no_grad():
        policy.generate(**batch, do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=max_new_tokens,
                        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    return time.perf_counter() - start


def measure_check(run: Path, n_prompts: int, samples: int, seed: int) -> dict:
    """One held-out check on π, phase by phase: the old path (generate, then the policy's and the reference's
    forward passes) and the new one (the toolkit's decoder with log-probabilities, then the reference's pass)."""
    import torch

    from empathic_rlhf.models.loading import load_model_and_tokenizer
    from empathic_rlhf.models.logprobs import sequence_logprobs
    from empathic_rlhf.rl.heldout import sample_rollouts, score_rollouts
    from empathic_rlhf.rl.stage import reward_functions, rl_prompts
    from empathic_rlhf.run_config import load_run_config
    from empathic_rlhf.rundir import RunDir

    config = load_run_config(config_file=str(run / "config.yaml"))
    rundir = RunDir(run)
    _, selection, _ = rl_prompts(config, rundir)
    prompts = selection[:n_prompts]
    policy, tokenizer = load_model_and_tokenizer(str(run / "sft" / "model"))
    reference, _ = load_model_and_tokenizer(str(run / "sft" / "model"))
    policy.eval(), reference.eval()
    fns, weights = reward_functions(config, rundir, tokenizer.eos_token_id)
    length = config.rl.max_completion_length
    times = {"generate (transformers), before": old_sampling(policy, tokenizer, prompts, length, seed, samples)}
    start = time.perf_counter()
    rollouts = sample_rollouts(policy, tokenizer, prompts, length, seed, samples)
    times["decoder with log-probabilities, after"] = time.perf_counter() - start
    args = (rollouts.sequences, rollouts.attention_mask, rollouts.completion_mask)
    start = time.perf_counter()
    second = sequence_logprobs(policy, *args)
    times["policy forward pass, before"] = time.perf_counter() - start
    start = time.perf_counter()
    sequence_logprobs(reference, *args)
    times["reference forward pass"] = time.perf_counter() - start
    start = time.perf_counter()
    score_rollouts(fns, weights, prompts, rollouts, samples)
    times["reward scoring"] = time.perf_counter() - start
    shared = times["reference forward pass"] + times["reward scoring"]
    before = times["generate (transformers), before"] + times["policy forward pass, before"] + shared
    after = times["decoder with log-probabilities, after"] + shared
    return {"prompts": len(prompts), "samples": samples, "replies": len(rollouts.replies),
            "threads": torch.get_num_threads(), "seconds": times, "before": before, "after": after,
            "speedup": before / after, "max_logprob_gap": (rollouts.logprobs - second).abs().max().item()}


def markdown(split: dict | None, check: dict | None, run: Path) -> str:
    lines = [f"# Where RL's time goes ({run})", ""]
    if split:
        total = split["stage_seconds"]
        lines += [f"RL stage: {split['steps']} steps, {split['episodes']} episodes in {total / 60:.1f} min = "
                  f"**{split['episodes_per_second']:.3f} episodes/s** (whole stage, checks included).", "",
                  "| part | seconds | share |", "|---|---:|---:|"]
        for name, key in (("training steps (TRL rollouts + reward + update)", "training_steps_seconds"),
                          (f"held-out checks ({split['heldout_checks']} x {split['replies_per_check']} replies)",
                           "heldout_seconds"),
                          ("rest (loading, normalisation, report set vs π, saving)", "other_seconds")):
            lines.append(f"| {name} | {split[key]:.0f} | {split[key] / total:.0%} |")
        lines += ["", f"Per training step: {split['seconds_per_step']:.1f} s."]
        if split["heldout_checks_timed"] < split["heldout_checks"]:
            lines.append(f"Only {split['heldout_checks_timed']} of {split['heldout_checks']} checks carry their own "
                         "timing (the run predates it): their time is in 'rest'.")
        lines.append("")
    if check:
        lines += [f"One held-out check on π: {check['prompts']} prompts x {check['samples']} replies, "
                  f"{check['threads']} torch threads.", "", "| phase | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in check["seconds"].items()]
        lines += ["", f"Before: {check['before']:.1f} s; after: {check['after']:.1f} s "
                  f"(**{check['speedup']:.2f}x**). Largest gap between the log-probabilities the decoder returned "
                  f"and a forward pass over the same replies: {check['max_logprob_gap']:.2e} nats per reply.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a run folder with a finished rl stage")
    parser.add_argument("--measure", action="store_true", help="also time one held-out check on π, by phase")
    parser.add_argument("--prompts", type=int, default=32, help="prompts in the measured check")
    parser.add_argument("--samples", type=int, default=4, help="replies per prompt in the measured check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="rl_profile", help="file name under benchmarks/results/")
    args = parser.parse_args(argv)
    manifest = args.run / "manifest.json"
    finished = manifest.is_file() and "rl" in json.loads(manifest.read_text())["stages"]
    split = stage_split(args.run) if finished else None
    check = measure_check(args.run, args.prompts, args.samples, args.seed) if args.measure else None
    if split is None and check is None:
        print(f"{args.run}/rl: no finished RL stage; pass --measure to time a held-out check", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"run": str(args.run), "stage": split, "check": check},
                                                         indent=2))
    text = markdown(split, check, args.run)
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
