"""``empathic evaluate``: several models side by side on the same test contexts, every number with its interval.

For each model: the perplexity of the gold replies (reply tokens only), then ``replies_per_context`` generated
replies per context (a fixed seed, through the same :class:`~empathic_rlhf.generation.sampler.Sampler` as
``sample``), scored with BLEU against the gold reply, distinct-1/2, length, the judge that reads the conversation
(``judged_empathy``, ``context_fit``), the rewards the run trained (reward model, static reward, DYME), the EPITOME
yardsticks (ER/IP/EX, emotion fit) and the reward-hacking monitors (shares of stock replies, of near-copies across
contexts, of questions). The gold replies get the same columns, as the human reference. The robustness battery of
every scorer runs on the first ``evaluate.battery`` contexts and is stored as ``battery`` in table.json.

Statistics (``evaluate/table.py``): per-context metrics are means over contexts with a 95% bootstrap interval;
corpus metrics (perplexity, BLEU, distinct-n) are computed on bootstrap resamples of the contexts. Every model is
compared with the baseline (π, ``sft``) paired on the same contexts: difference, interval, p-value and the smallest
difference the run could have detected.

Outputs: ``evaluate/table.md``, ``table.json``, ``samples.jsonl`` (one line per context: prompt, gold, each model's
replies) and ``scores.jsonl`` (one line per context and model: every per-context value).
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import numpy as np

from ..battery.run import contexts_from_samples, format_table, predicted_emotions, run_battery
from ..io import write_json, write_jsonl
from ..metrics.hacking import monitor_flags
from ..records import Sample, as_dicts
from .columns import ColumnGroup, score_all
from .config import EvaluateConfig
from .reply_metrics import bleu_statistics, ngrams, reply_nll, words
from .table import build_table, markdown_table

GOLD = "gold"


def resolve_models(names: list[str], base_model: str, run_dir: Path, rounds: int = 1) -> list[tuple[str, str]]:
    """``(column name, model)`` pairs: ``base``, ``sft``, ``rl`` and ``dpo`` are the run's own (stages that have not
    produced a model are left out; ``rl`` is the last round's policy when the run has ``rounds`` > 1);
    ``name=path`` names a column for any other model."""
    from ..rundir import round_path

    own = {"base": base_model, "sft": str(run_dir / "sft" / "model"),
           "rl": str(round_path(run_dir, rounds) / "rl" / "model"), "dpo": str(run_dir / "dpo" / "model")}
    out = []
    for entry in names:
        label, _, target = entry.partition("=") if "=" in entry else (entry, "", entry)
        if target in ("sft", "rl", "dpo") and not (Path(own[target]) / "config.json").is_file():
            continue
        out.append((label, own.get(target, target)))
    return out


def generate(config: EvaluateConfig, name: str, samples: list[Sample], *, dialogue_format: str, seed: int
             ) -> dict:
    """One model's gold-reply NLLs and its ``replies_per_context`` replies per context."""
    from ..generation.sampler import Sampler, make_backend
    from ..models.loading import load_model_and_tokenizer, resolve_model_path
    from ..runtime import place_for_inference

    model, tokenizer = load_model_and_tokenizer(name, dialogue_format)
    model = place_for_inference(model)  # the GPU (bf16 where supported) when there is one: scoring too
    nll, tokens = reply_nll(model, tokenizer, samples, config.eval_batch_size, progress=True)
    sampler = Sampler(make_backend(config, model, tokenizer, resolve_model_path(name)), config)
    replies = sampler.sample([as_dicts(s.prompt) for s in samples], k=config.replies_per_context, seed=seed,
                             max_resample=0, progress=True)
    del model, sampler
    gc.collect()
    return {"nll": np.asarray(nll), "tokens": np.asarray(tokens), "replies": replies}


def per_context(groups: dict[str, ColumnGroup], samples: list[Sample], replies: list[list[str]]) -> dict:
    """Per-context means (over a context's replies) of every score column and the length in words, plus the
    per-reply BLEU statistics and n-grams that corpus metrics are computed from."""
    prompts = [as_dicts(s.prompt) for s in samples]
    owner = [i for i, texts in enumerate(replies) for _ in texts]
    flat = [text for texts in replies for text in texts]
    columns = score_all(groups, [prompts[i] for i in owner], flat)
    columns["length"] = np.asarray([len(words(t)) for t in flat], dtype=np.float64)
    columns.update(monitor_flags(flat, owner))  # shares of stock replies, near-copies across contexts, questions
    owner = np.asarray(owner)
    means = {name: np.bincount(owner, weights=values, minlength=len(samples)) / np.bincount(owner,
             minlength=len(samples)) for name, values in columns.items()}
    return {"values": means, "owner": owner,
            "bleu": bleu_statistics(flat, [samples[i].reply for i in owner]),
            "grams": {n: [ngrams(t, n) for t in flat] for n in (1, 2)}}


def evaluate_models(config: EvaluateConfig, models: list[tuple[str, str]], samples: list[Sample], out_dir: Path,
                    *, dialogue_format: str = "auto", seed: int = 0,
                    groups: dict[str, ColumnGroup] | None = None) -> dict:
    """Evaluate every model on ``samples``; write the tables, replies and per-context scores; returns the table."""
    groups = groups or {}
    results, seconds = {}, {}
    for label, name in models:
        start = time.perf_counter()
        print(f"[evaluate] {label}: {name}", file=sys.stderr)
        generated = generate(config, name, samples, dialogue_format=dialogue_format, seed=seed)
        results[label] = {**generated, **per_context(groups, samples, generated["replies"]), "path": name}
        seconds[label] = round(time.perf_counter() - start, 1)
    # the human reference: the same columns, no perplexity, and no BLEU (it would be measured against itself)
    results[GOLD] = {"path": None, "reference": True, **per_context(groups, samples, [[s.reply] for s in samples])}
    table = build_table(results, baseline=config.baseline, n_contexts=len(samples), seed=seed,
                        resamples=config.bootstrap_resamples)
    table.update({"split": config.split, "replies_per_context": config.replies_per_context, "seconds": seconds,
                  "decoding": {k: getattr(config, k) for k in ("temperature", "top_p", "top_k", "max_new_tokens",
                                                               "repetition_penalty", "backend")}})
    if config.battery and groups:
        table["battery"] = scorer_battery(groups, samples[:config.battery], seed)
        (out_dir / "battery.md").write_text(format_table(table["battery"]) + "\n", encoding="utf-8")
    write_json(out_dir / "table.json", table)
    (out_dir / "table.md").write_text(markdown_table(table), encoding="utf-8")
    write_jsonl(out_dir / "samples.jsonl", _sample_rows(samples, results))
    write_jsonl(out_dir / "scores.jsonl", (
        {"sample_id": s.sample_id, "model": model, **{k: round(float(v[i]), 5) for k, v in r["values"].items()}}
        for model, r in results.items() for i, s in enumerate(samples)))
    return table


def scorer_battery(groups: dict[str, ColumnGroup], samples: list[Sample], seed: int) -> dict:
    """The robustness battery of every score column on these contexts (templates name the predicted emotion when
    the empathy yardsticks are loaded)."""
    contexts = contexts_from_samples(samples)
    predicted = predicted_emotions(contexts) if "empathy" in groups else None
    return run_battery(contexts, groups, seed=seed, predicted_emotions=predicted,
                       log=lambda line: print(f"[evaluate] {line}", file=sys.stderr))


def _sample_rows(samples: list[Sample], results: dict):
    models = [m for m in results if m != GOLD]
    for i, s in enumerate(samples):
        row = {"sample_id": s.sample_id, "conv_id": s.conv_id, "emotion": s.emotion, "situation": s.situation,
               "reply_role": s.reply_role, "prompt": as_dicts(s.prompt), "gold": s.reply,
               "replies": {m: results[m]["replies"][i][0] for m in models}}
        if any(len(results[m]["replies"][i]) > 1 for m in models):
            row["all_replies"] = {m: results[m]["replies"][i] for m in models}
        yield row
