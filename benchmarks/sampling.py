"""Sampling benchmark: the same model and the same contexts, one reply at a time (the seed's batch_size=1 loop) vs
our batched samplers: transformers ``generate`` (left padding + KV cache), our decoding loop (``torch`` backend:
shared prefill, finished rows dropped, top-64 nucleus) and CTranslate2.

Prints tokens/s of each and the ratio to one-at-a-time, plus a quality check: the perplexity of each backend's
replies under the model itself (π), so a faster backend that samples worse replies would show.

    python benchmarks/sampling.py --model runs/demo/sft/model --samples runs/demo/prepare/valid.jsonl
    python benchmarks/sampling.py --contexts 16 --modes torch,ctranslate2-int8   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODES = ("one-at-a-time", "generate", "torch", "ctranslate2-int8", "ctranslate2-float32")
# mode -> sampler backend: one-at-a-time and generate both call transformers' generate (batch 1 / batched)
BACKEND_OF = {"one": "transformers", "generate": "transformers", "torch": "torch", "ctranslate2": "ctranslate2"}


def load_contexts(args) -> list[dict]:
    """The first N samples of a Sample JSONL file, or of the data's validation split (listener replies)."""
    from empathic_rlhf.sample.tasks import read_samples

    if args.samples:
        return [_last_turns(s, args.history_turns) for s in read_samples(args.samples, args.contexts)]
    from empathic_rlhf.data.samples import samples_from_conversation
    from empathic_rlhf.data.sources import resolve

    source = resolve(args.data_dir)
    out = []
    for conversation in source.read("valid"):
        out += list(samples_from_conversation(conversation, max_history_turns=3))
        if len(out) >= args.contexts:
            break
    return [_last_turns(s, args.history_turns) for s in out[:args.contexts]]


def _last_turns(sample: dict, n: int | None) -> dict:
    """Keep the knowledge segment and the last ``n`` turns of a sample's context (None: all)."""
    if not n:
        return sample
    system = [m for m in sample["prompt"] if m["role"] == "system"]
    turns = [m for m in sample["prompt"] if m["role"] != "system"]
    return {**sample, "prompt": system + turns[-n:]}


def run_mode(mode, model, tokenizer, model_dir, contexts, args):
    """Sample ``args.k`` replies per context with one mode; returns tokens, seconds and the replies."""
    from empathic_rlhf.generation.config import SamplingConfig
    from empathic_rlhf.generation.sampler import Sampler, make_backend

    backend, _, compute_type = mode.partition("-")
    params = SamplingConfig(temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens,
                            min_new_tokens=args.min_new_tokens, backend=BACKEND_OF[backend],
                            ct2_compute_type=compute_type or "int8", batch_size=args.batch_size)
    setup = time.perf_counter()
    sampler = Sampler(make_backend(params, model, tokenizer, model_dir), params)
    setup = time.perf_counter() - setup
    prompts = [c["prompt"] for c in contexts]
    sampler.sample(prompts[:1], k=1, seed=99, max_resample=0)  # warm-up, not timed
    sampler.backend.tokens_generated = 0
    start = time.perf_counter()
    if mode == "one-at-a-time":  # the seed's loop: batch_size=1, one reply per call
        replies = [sampler.backend.generate([p], 1, params, args.seed + 1000 * i + j)[0][0]
                   for i, p in enumerate(prompts) for j in range(args.k)]
    else:
        replies = [r for c in sampler.sample(prompts, k=args.k, seed=args.seed, max_resample=0) for r in c]
    seconds = time.perf_counter() - start
    return {"mode": mode, "seconds": seconds, "tokens": sampler.backend.tokens_generated, "setup_s": setup,
            "replies": replies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="Model folder or name (default: runs/demo/sft/model if it "
                                                       "exists, else smollm2-135m).")
    parser.add_argument("--samples", help="Sample JSONL file with the contexts (e.g. runs/demo/prepare/valid.jsonl).")
    parser.add_argument("--data-dir", default=os.environ.get("EMPATHIC_DATA_DIR"),
                        help="EmpatheticDialogues folder, used when --samples is not given.")
    parser.add_argument("--contexts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=30)
    parser.add_argument("--min-new-tokens", type=int, default=1,
                        help="Set equal to --max-new-tokens for fixed-length replies (a pure decoding benchmark).")
    parser.add_argument("--history-turns", type=int, default=None,
                        help="Keep only the last N turns of each context (short prompts: less prefill).")
    parser.add_argument("--k", type=int, default=1, help="Replies per context (the sample stage draws 2-4).")
    parser.add_argument("--batch-size", type=int, default=32, help="Contexts per batch (each with its k replies).")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--top-p", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="one-at-a-time,generate,torch,ctranslate2-int8",
                        help=f"Comma-separated, from {', '.join(MODES)}; the first is the baseline of the ratios.")
    parser.add_argument("--json", help="Also write the results (with the replies) to this JSON file.")
    args = parser.parse_args()

    import torch

    from empathic_rlhf.evaluate.reply_metrics import average_length, perplexity
    from empathic_rlhf.models.loading import (
        load_model_and_tokenizer,
        resolve_model_path,
    )
    from empathic_rlhf.generation.tokens import render_prompts

    model_name = args.model or ("runs/demo/sft/model" if Path("runs/demo/sft/model").is_dir() else "smollm2-135m")
    model, tokenizer = load_model_and_tokenizer(model_name)
    model_dir = resolve_model_path(model_name)
    contexts = load_contexts(args)
    prompt_tokens = sum(len(ids) for ids in tokenizer(render_prompts(tokenizer, [c["prompt"] for c in contexts]),
                                                       add_special_tokens=False)["input_ids"])
    print(f"model {model_name}; {len(contexts)} contexts ({prompt_tokens / len(contexts):.0f} prompt tokens on "
          f"average); {args.min_new_tokens}-{args.max_new_tokens} new tokens; temperature "
          f"{args.temperature}, top-p {args.top_p}; torch threads {torch.get_num_threads()}", file=sys.stderr)

    results = []
    for mode in args.modes.split(","):
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}")
        print(f"[{mode}] ...", file=sys.stderr)
        result = run_mode(mode, model, tokenizer, model_dir, contexts, args)
        scored = [{**c, "completion": [{"role": "assistant", "content": r}]} for c, r in
                  zip([c for c in contexts for _ in range(args.k)], result["replies"])]
        result["ppl_under_model"] = perplexity(model, tokenizer, scored, batch_size=16)
        result["avg_words"] = average_length(result["replies"])
        results.append(result)
        print(f"[{mode}] {result['tokens'] / result['seconds']:.1f} tokens/s", file=sys.stderr)

    base = results[0]["tokens"] / results[0]["seconds"]
    print(f"\n| mode | contexts | tokens | seconds | tokens/s | × {results[0]['mode']} | setup s "
          f"| reply PPL under model | avg words |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        rate = r["tokens"] / r["seconds"]
        print(f"| {r['mode']} | {len(contexts)} | {r['tokens']} | {r['seconds']:.1f} | {rate:.1f} | "
              f"{rate / base:.1f}× | {r['setup_s']:.1f} | {r['ppl_under_model']:.2f} | {r['avg_words']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": model_name, "args": vars(args), "results": results},
                                              indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
