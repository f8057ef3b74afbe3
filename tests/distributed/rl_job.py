"""A tiny RL run (GRPO, a planted reward), run by tests/distributed/test_rl_processes.py in one process or under
``accelerate launch`` with two: ``python rl_job.py POLICY_DIR OUT_DIR COUNTS_DIR``.

The reward also records, per process, how many replies it scored at each call and for which optimizer step (in
COUNTS_DIR, outside the run's folder), so the test can add up the replies each step saw over all processes."""

import json
import os
import sys
from pathlib import Path

from empathic_rlhf.runtime import configure_cpu_runtime

CONTEXTS = ["My dog died last week.", "I got the job!", "I failed my driving test.", "We are moving abroad.",
            "My sister is visiting.", "I lost my keys again.", "The exam went well.", "It rained all day."]
CONFIG = dict(algorithm="grpo", beta=0.1, num_generations=4, prompts_per_step=4, max_completion_length=8,
              learning_rate=1e-2, max_steps=4, eval_steps=2, eval_prompts=4, eval_samples=2, kl_budget=50.0,
              mask_truncated_completions=False, normalize_rewards=True, normalize_prompts=4)


def main(policy_dir: str, out_dir: str, counts_dir: str) -> None:
    configure_cpu_runtime()
    from empathic_rlhf.distributed import process_index
    from empathic_rlhf.rl.config import RlConfig
    from empathic_rlhf.rl.rewards import named, reply_text
    from empathic_rlhf.rl.trainer import train_rl

    counts = Path(counts_dir) / f"rank{process_index()}.jsonl"
    counts.parent.mkdir(parents=True, exist_ok=True)

    def e_fraction(prompts, completions, **kwargs):
        with open(counts, "a", encoding="utf-8") as f:
            # TRL hands its trainer state to the rewards of a training step; the held-out checks call without it
            step = kwargs["trainer_state"].global_step + 1 if "trainer_state" in kwargs else None
            f.write(json.dumps({"step": step, "replies": len(completions), "pid": os.getpid()}) + "\n")
        return [10 * reply_text(c).count("e") / max(1, len(reply_text(c))) for c in completions]

    prompts = [[{"role": "user", "content": c}] for c in CONTEXTS] * 4
    selection = [[{"role": "user", "content": c}] for c in CONTEXTS[:4]]
    report = [[{"role": "user", "content": c}] for c in CONTEXTS[4:]]
    train_rl(RlConfig(**CONFIG), policy_dir, prompts, selection, [named("planted", e_fraction)], [1.0],
             Path(out_dir), seed=0, report_prompts=report)


if __name__ == "__main__":
    main(*sys.argv[1:4])
