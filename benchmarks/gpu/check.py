"""The GPU check: the ``full`` profile on a slice of EmpatheticDialogues, then generation speed per backend, in one
go on a single GPU (<= 10 minutes on an H100/H200-class card). It installs nothing; install first with

    pip install -e '.[test]'            # torch, ctranslate2 (CPU/GPU wheels), tensorboard
    pip install vllm==0.30.0            # optional, after the package (its fastapi cap: docs/gpu.md); then measured

    python benchmarks/gpu/check.py --out "$OUT"          # the check (fails at once, exit 2, without a GPU)
    python benchmarks/gpu/check.py --dry-run              # the plan and imports only, seconds, any machine

Prints and writes (``<out>/gpu_check.json``):
- SFT training tokens/s (non-padding tokens, the SFT stage's own count) and MFU = 6 * N * tokens/s / peak, with N
  all the model's parameters and the card's dense bf16 peak from PEAK_TFLOPS (``--peak-tflops`` overrides);
- generation tokens/s of every backend available (torch, transformers, ctranslate2, vllm), ``--repeats`` runs
  each on the same contexts, mean and standard deviation over the runs;
- RL steps/s (the rl stage's optimizer steps over its wall time, held-out checks included), every stage's time;
- peak GPU memory per phase (``torch.cuda.max_memory_allocated``: this process only; vLLM's engine runs in its own
  process and reserves ``vllm_gpu_memory_utilization`` of the card).

The model: ``--base-model`` (default ``gpt2-random``: GPT-2 small's architecture, 124M parameters, learned
absolute positions, randomly initialised with the real GPT-2 BPE from shared/ -- no Hub, no PyPI needed on the
GPU machine; speeds depend on the architecture, not on the weights). Any local folder or cached embedded name works.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("EMPATHIC_SHARED_DATA", REPO.parent / "shared" / "data"))
ED_SLICE = {"train": 2000, "valid": 300, "test": 100}  # conversations per split
# Dense bf16 tensor-core peak, TFLOP/s (vendor data sheets; SXM parts). Matched by substring of the device name.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
               "RTX 4090": 165.0, "RTX 3090": 71.0}
# Sizes only: every code-path setting stays the full profile's (tests/e2e/test_full_profile.py runs the same path).
SIZES = [
    "--sft.max_steps=150", "--sft.eval_steps=75", "--sft.logging_steps=25", "--sft.max_eval_samples=256",
    "--sample.max_contexts=200", "--sample.max_new_tokens=40",
    "--rl.max_steps=10", "--rl.eval_steps=5", "--rl.eval_prompts=32", "--rl.report_prompts=16",
    "--dpo.max_steps=20", "--evaluate.max_samples=128",
]
BACKENDS = {"torch": "torch", "transformers": "transformers", "ctranslate2": "ctranslate2", "vllm": "vllm"}
BACKEND_MODULE = {"ctranslate2": "ctranslate2", "vllm": "vllm"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or "runs/gpu-check",
                        help="Folder for the run and gpu_check.json (default: $OUT, else runs/gpu-check).")
    parser.add_argument("--data-dir", default=str(SHARED / "empatheticdialogues" / "reconstructed"),
                        help="EmpatheticDialogues JSONL folder (train/valid/test.jsonl); a slice is used.")
    parser.add_argument("--gpt2-tokenizer", default=str(SHARED / "gpt2-tokenizer"),
                        help="GPT-2 BPE folder for --base-model gpt2-random.")
    parser.add_argument("--base-model", default="gpt2-random", help="gpt2-random, a local folder or embedded name.")
    parser.add_argument("--contexts", type=int, default=256, help="Contexts per generation run.")
    parser.add_argument("--k", type=int, default=4, help="Replies per context (the full profile's sample.k).")
    parser.add_argument("--max-new-tokens", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="Timed generation runs per backend.")
    parser.add_argument("--peak-tflops", type=float, default=None, help="The card's dense bf16 peak, TFLOP/s.")
    parser.add_argument("--rl-vllm", action="store_true", help="RL rollouts with TRL's vLLM colocate mode.")
    parser.add_argument("--dry-run", action="store_true", help="Check imports, data and the plan; run nothing.")
    return parser.parse_args(argv)


def fail(message: str) -> None:
    print(f"gpu check: {message}", file=sys.stderr)
    raise SystemExit(2)


def available_backends() -> list[str]:
    return [b for b in BACKENDS if b not in BACKEND_MODULE or importlib.util.find_spec(BACKEND_MODULE[b])]


def plan(args) -> dict:
    """What will run, checked without a GPU: imports of the package, data files, backends installed."""
    import empathic_rlhf.cli  # noqa: F401  (the package and its CLI import)
    from empathic_rlhf.run_config import load_run_config

    missing = [f"{args.data_dir}/{s}.jsonl" for s in ED_SLICE if not (Path(args.data_dir) / f"{s}.jsonl").is_file()]
    if missing:
        fail(f"data not found: {', '.join(missing)} (--data-dir)")
    if args.base_model == "gpt2-random" and not (Path(args.gpt2_tokenizer) / "vocab.json").is_file():
        fail(f"GPT-2 BPE not found at {args.gpt2_tokenizer} (--gpt2-tokenizer), needed by --base-model gpt2-random")
    overrides = SIZES + (["--rl.use_vllm=true"] if args.rl_vllm else [])
    config = load_run_config(profile="full", overrides=overrides)  # fails here on a bad size or missing extra
    return {"profile": "full", "overrides": overrides, "conversations": ED_SLICE, "base_model": args.base_model,
            "backends": available_backends(), "contexts": args.contexts, "k": args.k,
            "max_new_tokens": args.max_new_tokens, "repeats": args.repeats,
            "stages_sizes": {"sft_steps": config.sft.max_steps, "rl_steps": config.rl.max_steps,
                             "dpo_steps": config.dpo.max_steps, "sample_contexts": config.sample.max_contexts}}


def device_info(peak_override: float | None) -> dict:
    import torch

    name = torch.cuda.get_device_name(0)
    peak = peak_override or next((v for key, v in PEAK_TFLOPS.items() if key in name), None)
    return {"name": name, "count": torch.cuda.device_count(), "bf16": torch.cuda.is_bf16_supported(),
            "memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1),
            "peak_bf16_tflops": peak, "torch": torch.__version__, "cuda": torch.version.cuda}


def write_slice(data_dir: Path, out: Path) -> Path:
    folder = out / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in ED_SLICE.items():
        with open(data_dir / f"{split}.jsonl", encoding="utf-8") as source:
            (folder / f"{split}.jsonl").write_text("".join(itertools.islice(source, count)), encoding="utf-8")
    return folder


def base_model(args, out: Path) -> str:
    if args.base_model != "gpt2-random":
        return args.base_model
    from empathic_rlhf.models.embedded import build_tiny_gpt2

    folder = out / "gpt2-random"
    if not (folder / "config.json").is_file():
        build_tiny_gpt2(folder, args.gpt2_tokenizer, n_layer=12, n_embd=768, n_head=12, n_positions=1024)
    return str(folder)


def run_full_profile(args, out: Path, model: str, overrides: list[str]) -> dict:
    """The pipeline under the full profile; per stage: seconds and peak GPU memory (this process)."""
    import torch

    from empathic_rlhf.cli import main

    data = write_slice(Path(args.data_dir), out)
    common = ["run", "--runs-dir", str(out / "runs"), "--name", "full", "--data-dir", str(data),
              "--base-model", model, "--profile", "full", *overrides]
    stages = {}
    for stage in ("prepare", "sft", "sample", "reward", "rl", "dpo", "evaluate", "report"):
        torch.cuda.reset_peak_memory_stats()
        if main([*common, "--until", stage]) != 0:
            fail(f"the full profile failed at stage {stage} (see the log above)")
        stages[stage] = {"peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
    manifest = json.loads((out / "runs" / "full" / "manifest.json").read_text())
    for stage, entry in manifest["stages"].items():
        stages.setdefault(stage, {})["seconds"] = entry.get("seconds")
    return stages


def sft_numbers(run: Path, n_params: int, peak_tflops: float | None) -> dict:
    metrics = json.loads((run / "sft" / "metrics.json").read_text())
    tps = metrics["tokens_per_second"]
    mfu = 6 * n_params * tps / (peak_tflops * 1e12) if peak_tflops and tps else None
    return {"steps": metrics["steps"], "tokens": metrics["train_tokens_this_session"],
            "seconds": metrics["train_seconds"], "tokens_per_second": tps, "mfu": mfu, "n_params": n_params}


def contexts_for(run: Path, count: int) -> list[list[dict]]:
    from empathic_rlhf.records import as_dicts
    from empathic_rlhf.sample.tasks import read_samples

    return [as_dicts(s.prompt) for s in read_samples(run / "prepare" / "test.jsonl", count)]


def time_backend(backend: str, model_dir: str, contexts, args) -> dict:
    """``repeats`` timed runs of k replies per context (after one warm-up batch): tokens/s mean and SD."""
    import torch

    from empathic_rlhf.generation.config import SamplingConfig
    from empathic_rlhf.generation.sampler import Sampler

    params = SamplingConfig(backend=BACKENDS[backend], max_new_tokens=args.max_new_tokens, batch_size=64,
                            ct2_compute_type="bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    torch.cuda.reset_peak_memory_stats()
    sampler = Sampler.load(model_dir, params=params)
    sampler.sample(contexts[:8], k=args.k, seed=99, max_resample=0)  # warm-up: kernels, CUDA graphs, caches
    speeds = []
    for repeat in range(args.repeats):
        before, start = sampler.backend.tokens_generated, time.perf_counter()
        sampler.sample(contexts, k=args.k, seed=repeat, max_resample=0)
        torch.cuda.synchronize()
        speeds.append((sampler.backend.tokens_generated - before) / (time.perf_counter() - start))
    result = {"tokens_per_second": statistics.mean(speeds), "sd": statistics.stdev(speeds) if len(speeds) > 1
              else None, "runs": len(speeds), "contexts": len(contexts), "k": args.k,
              "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
    del sampler
    torch.cuda.empty_cache()
    return result


def count_parameters(model_dir: str) -> int:
    """Parameters stored in the model's safetensors files (tied embeddings counted once)."""
    from safetensors import safe_open

    total = 0
    for file in Path(model_dir).glob("*.safetensors"):
        with safe_open(str(file), "pt") as tensors:
            total += sum(math.prod(tensors.get_slice(k).get_shape()) for k in tensors.keys())
    return total


def print_table(result: dict) -> None:
    device, sft, rl = result["device"], result["sft"], result["rl"]
    print(f"\nGPU check on {device['name']} (peak bf16 {device['peak_bf16_tflops']} TFLOP/s), {result['date']}")
    mfu = f"{sft['mfu']:.1%}" if sft["mfu"] is not None else "n/a (unknown peak: --peak-tflops)"
    print(f"SFT     {sft['tokens_per_second'] or 0:>10,.0f} tokens/s   MFU {mfu}   ({sft['n_params'] / 1e6:.0f}M params)")
    print(f"RL      {rl['steps_per_second'] or 0:>10.3f} steps/s   ({rl['steps']} steps in {rl['seconds'] or 0:.0f} s)")
    for name, gen in result["generation"].items():
        if "error" in gen:
            print(f"gen {name:<12} failed: {gen['error']}")
            continue
        spread = f" +- {gen['sd']:,.0f} (SD, {gen['runs']} runs)" if gen["sd"] is not None else ""
        print(f"gen {name:<12} {gen['tokens_per_second']:>10,.0f} tokens/s{spread}  peak {gen['peak_memory_gib']} GiB")
    for stage, entry in result["stages"].items():
        print(f"  {stage:<10} {entry.get('seconds') or 0:>7.1f} s   peak {entry.get('peak_memory_gib', 0)} GiB")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        fail("needs a CUDA GPU and none is visible (torch.cuda.is_available() is False); "
             "--dry-run checks the plan on any machine")
    the_plan = plan(args)
    if args.dry_run:
        the_plan["cuda_available"] = torch.cuda.is_available()
        out.mkdir(parents=True, exist_ok=True)
        (out / "gpu_check_plan.json").write_text(json.dumps(the_plan, indent=1))
        print(json.dumps(the_plan, indent=1))
        return 0
    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    device = device_info(args.peak_tflops)
    model = base_model(args, out)
    stages = run_full_profile(args, out, model, the_plan["overrides"])
    run = out / "runs" / "full"
    rl_metrics = json.loads((run / "rl" / "metrics.json").read_text())
    rl_seconds = stages["rl"]["seconds"]
    contexts = contexts_for(run, args.contexts)
    generation = {}
    for backend in the_plan["backends"]:
        try:
            generation[backend] = time_backend(backend, str(run / "sft" / "model"), contexts, args)
        except Exception as error:  # one backend failing must not lose the others' numbers
            generation[backend] = {"error": f"{type(error).__name__}: {error}"}
    result = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "device": device, "plan": the_plan,
              "sft": sft_numbers(run, count_parameters(str(run / "sft" / "model")), device["peak_bf16_tflops"]),
              "rl": {"steps": rl_metrics["steps"], "seconds": rl_seconds,
                     "steps_per_second": rl_metrics["steps"] / rl_seconds if rl_seconds else None,
                     "use_vllm": args.rl_vllm},
              "generation": generation, "stages": stages, "total_seconds": round(time.time() - started, 1)}
    (out / "gpu_check.json").write_text(json.dumps(result, indent=1))
    print_table(result)
    print(f"\nwritten: {out / 'gpu_check.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
