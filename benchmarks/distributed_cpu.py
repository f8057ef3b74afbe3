"""Two CPU processes (accelerate launch, gloo) against one process, on the tiny SFT and RL runs of
tests/distributed: wall time of the whole command (process start and imports included) and the trainer's own
training time, n repetitions each, alternating one and two processes so that load from other work falls on both.

    python benchmarks/distributed_cpu.py            # n = 3
    python benchmarks/distributed_cpu.py --n 5 --out /tmp/dist-bench

SFT: 6 steps of full fine-tuning of a random 2-layer GPT-2, global batch 4 (1 x 4 vs 2 x 2), 48 samples.
RL: 4 GRPO steps of 16 replies (4 prompts x 4), 8 new tokens each, plus the held-out checks (main process only).
Prints a Markdown table (mean ± standard error over the n runs, and the ratio of the means) for docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "distributed"))

SFT_FLAGS = ["--sft.method=full", "--sft.max_steps=6", "--sft.eval_steps=3", "--sft.learning_rate=0.001",
             "--sft.logging_steps=1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_prefix(processes: int) -> list[str]:
    if processes == 1:
        return [sys.executable]
    config = REPO / "empathic_rlhf" / "accelerate_configs" / "cpu_2proc.yaml"
    return [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--config_file", str(config),
            "--num_processes", str(processes), "--main_process_port", str(free_port())]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"})
    return time.perf_counter() - start


def sft_once(root: Path, data: Path, model: Path, processes: int, index: int) -> tuple[float, float]:
    name = f"sft-{processes}p-{index}"
    command = [*launch_prefix(processes), "-m", "empathic_rlhf.cli", "sft", "--runs-dir", str(root / "runs"),
               "--name", name, "--data-dir", str(data), "--base-model", str(model), *SFT_FLAGS,
               f"--sft.per_device_train_batch_size={4 // processes}"]
    wall = timed(command)
    metrics = json.loads((root / "runs" / name / "sft" / "metrics.json").read_text())
    return wall, metrics["train_seconds"]


def rl_once(root: Path, policy: Path, processes: int, index: int) -> tuple[float, float]:
    out = root / f"rl-{processes}p-{index}"
    wall = timed([*launch_prefix(processes), str(REPO / "tests" / "distributed" / "rl_job.py"), str(policy),
                  str(out), str(root / f"counts-{processes}p-{index}")])
    train = next(r["train_runtime"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())
                 if "train_runtime" in r)
    return wall, train


def setup(root: Path) -> tuple[Path, Path, Path]:
    from helpers import GPT2_TOKENIZER, write_jsonl
    from planted import synthetic_conversations

    from empathic_rlhf.models.embedded import build_tiny_gpt2

    data = root / "data"
    write_jsonl(data / "train.jsonl", synthetic_conversations(24, "train"))
    write_jsonl(data / "valid.jsonl", synthetic_conversations(16, "valid", offset=100))
    write_jsonl(data / "test.jsonl", synthetic_conversations(4, "test", offset=200))
    model = build_tiny_gpt2(root / "model", GPT2_TOKENIZER if GPT2_TOKENIZER.exists() else None)
    policy = build_tiny_gpt2(root / "policy", None)
    return data, model, policy


def row(label: str, one: list[float], two: list[float]) -> str:
    from empathic_rlhf.stats import mean_se

    (m1, s1), (m2, s2) = mean_se(one), mean_se(two)
    return f"| {label} | {m1:.1f} ± {s1:.1f} | {m2:.1f} ± {s2:.1f} | {m2 / m1:.2f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3, help="Repetitions of each configuration.")
    parser.add_argument("--out", help="Scratch folder (default: a temporary one).")
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="dist-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    data, model, policy = setup(root)
    results: dict[str, dict[int, list[tuple[float, float]]]] = {"sft": {1: [], 2: []}, "rl": {1: [], 2: []}}
    for index in range(args.n):
        for processes in (1, 2):  # alternating: a burst of load from other work falls on both
            results["sft"][processes].append(sft_once(root, data, model, processes, index))
            results["rl"][processes].append(rl_once(root, policy, processes, index))
            print(f"run {index + 1}/{args.n}, {processes} process(es): sft {results['sft'][processes][-1]}, "
                  f"rl {results['rl'][processes][-1]}", file=sys.stderr)
    print(f"\nn = {args.n} runs each; seconds, mean ± standard error; cores: {os.cpu_count()}\n")
    print("| run | 1 process | 2 processes | 2 / 1 |\n| --- | ---: | ---: | ---: |")
    for stage in ("sft", "rl"):
        for which, label in ((0, "whole command"), (1, "training loop")):
            print(row(f"{stage.upper()} {label}", [r[which] for r in results[stage][1]],
                      [r[which] for r in results[stage][2]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
