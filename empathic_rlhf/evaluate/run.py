"""``empathic evaluate``: several models side by side on the test split.

For each model: perplexity of the gold replies (reply tokens only), then one generated reply per context (greedy by
default, through the same :class:`~empathic_rlhf.sample.sampler.Sampler` as ``sample``) scored with BLEU against
the gold reply, distinct-1/2 and average length. Writes ``evaluate/table.md``, ``evaluate/table.json`` and
``evaluate/samples.jsonl`` (context, gold and every model's reply).

Reference points from the ED paper (Rashkin et al. 2019, Table 2; other tokenizers and models, so for
orientation only) are printed under our table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..io import write_json, write_jsonl
from .config import EvaluateConfig
from .metrics import average_length, bleu, distinct_n, perplexity

# Rashkin et al. 2019, "Towards Empathetic Open-domain Conversation Models", Table 2 (generative models).
ED_PAPER = [
    {"model": "ED paper: pretrained generative", "perplexity": 27.96, "bleu": 4.3},
    {"model": "ED paper: fine-tuned generative", "perplexity": 21.24, "bleu": 6.27},
]
REWARD_COLUMNS = ("reward_model", "static_reward", "dyme")
COLUMNS = ("perplexity", "bleu", "distinct_1", "distinct_2", "avg_length", "samples", "seconds")


def resolve_models(names: list[str], base_model: str, run_dir: Path) -> list[tuple[str, str]]:
    """``(column name, model)`` pairs: ``base``, ``sft``, ``rl`` and ``dpo`` are the run's own (stages that have not
    produced a model are left out); ``name=path`` names a column for any other model."""
    own = {"base": base_model, "sft": str(run_dir / "sft" / "model"), "rl": str(run_dir / "rl" / "model"),
           "dpo": str(run_dir / "dpo" / "model")}
    out = []
    for entry in names:
        label, _, target = entry.partition("=") if "=" in entry else (entry, "", entry)
        if target in ("sft", "rl", "dpo") and not (Path(own[target]) / "config.json").is_file():
            continue
        out.append((label, own.get(target, target)))
    return out


def evaluate_models(config: EvaluateConfig, models: list[tuple[str, str]], samples: list[dict], out_dir: Path,
                    *, dialogue_format: str = "auto", seed: int = 0, scorers: dict | None = None) -> list[dict]:
    """Score every model on ``samples``; write the tables and replies into ``out_dir``; returns the rows.

    ``scorers`` (see ``evaluate/rewards.py``) add reward columns: the mean score of each model's replies.
    """
    from ..models.loading import load_model_and_tokenizer, resolve_model_path
    from ..sample.sampler import Sampler, make_backend
    from .rewards import reward_columns

    rows, replies = [], {}
    gold = [s["completion"][0]["content"] for s in samples]
    prompts = [s["prompt"] for s in samples]
    for label, name in models:
        start = time.perf_counter()
        model, tokenizer = load_model_and_tokenizer(name, dialogue_format)
        print(f"[evaluate] {label}: {name}", file=sys.stderr)
        ppl = perplexity(model, tokenizer, samples, config.eval_batch_size, progress=True)
        sampler = Sampler(make_backend(config, model, tokenizer, resolve_model_path(name)), config)
        generated = [texts[0] for texts in sampler.sample(prompts, k=1, seed=seed, max_resample=0, progress=True)]
        replies[label] = generated
        rows.append({"model": label, "path": name, "perplexity": round(ppl, 3),
                     "bleu": round(bleu(generated, gold), 3), "distinct_1": round(distinct_n(generated, 1), 4),
                     "distinct_2": round(distinct_n(generated, 2), 4),
                     "avg_length": round(average_length(generated), 2), "samples": len(samples),
                     "seconds": round(time.perf_counter() - start, 1),
                     **reward_columns(scorers or {}, prompts, generated)})
    reference = {"model": "gold replies", "path": None, "perplexity": None, "bleu": None,
                 "distinct_1": round(distinct_n(gold, 1), 4), "distinct_2": round(distinct_n(gold, 2), 4),
                 "avg_length": round(average_length(gold), 2), "samples": len(samples), "seconds": None,
                 **reward_columns(scorers or {}, prompts, gold)}
    table = {"split": config.split, "decoding": {k: getattr(config, k) for k in (
        "temperature", "top_p", "top_k", "max_new_tokens", "repetition_penalty", "backend")},
        "rows": rows + [reference], "ed_paper": ED_PAPER}
    write_json(out_dir / "table.json", table)
    (out_dir / "table.md").write_text(markdown_table(table), encoding="utf-8")
    write_jsonl(out_dir / "samples.jsonl", (
        {"sample_id": s["sample_id"], "context": s["prompt"], "gold": g, **{m: r[i] for m, r in replies.items()}}
        for i, (s, g) in enumerate(zip(samples, gold))))
    return rows


def markdown_table(table: dict) -> str:
    """Our rows, the gold replies' own distinct-n / length, and the ED paper's reference points."""
    def cell(value):
        return "–" if value is None else f"{value:,.2f}" if isinstance(value, float) else str(value)

    columns = [c for c in REWARD_COLUMNS if any(c in row for row in table["rows"])] + list(COLUMNS)
    head = "| model | " + " | ".join(columns) + " |"
    lines = [f"Split `{table['split']}`; decoding {table['decoding']}.", "", head,
             "|---|" + "---:|" * len(columns)]
    lines += ["| " + row["model"] + " | " + " | ".join(cell(row.get(c)) for c in columns) + " |"
              for row in table["rows"]]
    lines += ["", "Reference points (Rashkin et al. 2019, Table 2; other models and tokenizers, orientation only):",
              "", "| model | perplexity | bleu |", "|---|---:|---:|"]
    lines += [f"| {r['model']} | {r['perplexity']} | {r['bleu']} |" for r in table["ed_paper"]]
    return "\n".join(lines) + "\n"
