"""Assemble ``<run>/report.html`` from what the stages wrote: config, key numbers, plots, the evaluation table
and sample dialogues side by side. Every piece of text from the run is HTML-escaped."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from ..io import atomic_path
from .svg import line_chart

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0}.note{background:#fff7e6;border:1px solid #f0c36d;padding:.6em 1em;border-radius:6px}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ddd;padding:4px 8px;
text-align:right;vertical-align:top}td:first-child,th:first-child{text-align:left}
.dialogue td,td.text{text-align:left;max-width:320px}td.text{max-width:700px}figure{display:inline-block;margin:.5em}
figcaption{font-weight:600;font-size:13px}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
.empty{color:#888}"""


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return escape(str(value))


def _table(headers: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><tr>{head}</tr>{body}</table>'


def _key_numbers(summary: dict) -> str:
    """``key: value`` lines of a stage summary (nested dicts flattened one level, long values cut)."""
    lines = []
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {_fmt(v) if not isinstance(v, dict) else '…'}" for k, v in value.items())
        else:
            value = _fmt(value)
        lines.append(f"{escape(str(key))}: {value[:200]}")
    return "<br>".join(lines)


def stages_section(manifest: dict) -> str:
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{_fmt(entry.get('seconds'))}</td>"
                   f"<td class='text'>{_key_numbers(entry.get('summary', {}))}</td></tr>"
                   for name, entry in manifest.get("stages", {}).items())
    total = sum(entry.get("seconds", 0) for entry in manifest.get("stages", {}).values())
    return ("<h2>Stages</h2><table><tr><th>stage</th><th>seconds</th><th>key numbers</th></tr>"
            f"{rows}<tr><td><b>total</b></td><td><b>{total:,.0f}</b></td><td></td></tr></table>")


def plots_section(run: Path) -> str:
    charts = []
    sft = _json(run / "sft" / "metrics.json") or {}
    evals = sft.get("evals", [])
    train_log = sft.get("train_log", [])
    charts.append(line_chart("SFT loss", {"validation loss": [(e["step"], e["eval_loss"]) for e in evals],
                                          "training loss": [(h["step"], h["loss"]) for h in train_log]},
                             y_label="loss"))
    log = [r for r in _jsonl(run / "rl" / "log.jsonl") if "reward" in r]
    charts.append(line_chart("RL reward per step", {"reward": [(r["step"], r["reward"]) for r in log]},
                             y_label="mean reward"))
    charts.append(line_chart("RL KL per step and beta", {
        "KL per reply": [(r["step"], r.get("kl_sequence")) for r in log],
        "beta x 100": [(r["step"], r["beta"] * 100) for r in log if r.get("beta") is not None]}, y_label="nats"))
    heldout = _jsonl(run / "rl" / "heldout.jsonl")
    charts.append(line_chart("Reward vs KL (held-out, every check)",
                             {"checkpoints": [(h["heldout_kl"], h["heldout_reward"]) for h in heldout]},
                             x_label="KL(pi_theta || pi) per reply", y_label="held-out reward", points_only=True))
    reward = _json(run / "reward" / "metrics.json") or {}
    charts.append(line_chart("Reward model training", {
        "accuracy": [(h["step"], h.get("accuracy")) for h in reward.get("train_log", [])],
        "loss": [(h["step"], h.get("loss")) for h in reward.get("train_log", [])]}))
    return "<h2>Plots</h2>" + "".join(charts)


def reward_section(run: Path) -> str:
    reward = _json(run / "reward" / "metrics.json")
    if not reward:
        return ""
    rows = [["overall", reward["heldout"]["overall"].get("n"), reward["heldout"]["overall"].get("accuracy"),
             reward["heldout"]["overall"].get("loss")]]
    rows += [[level, m.get("n"), m.get("accuracy"), m.get("loss")]
             for level, m in reward["heldout"].get("by_agreement", {}).items()]
    return ("<h2>Reward model (held-out pairs)</h2>" + _table(["pairs", "n", "accuracy", "loss"], rows)
            + f"<p>Label sources: {escape(json.dumps(reward['heldout'].get('sources', {})))}; "
              f"normalisation: {escape(json.dumps(reward.get('normalization', {})))}</p>")


def evaluation_section(run: Path) -> str:
    table = _json(run / "evaluate" / "table.json")
    if not table:
        return "<h2>Evaluation</h2><p class='empty'>no evaluation yet</p>"
    columns = [c for c in ("perplexity", "bleu", "distinct_1", "distinct_2", "reward_model", "static_reward",
                           "dyme", "avg_length") if any(c in r for r in table["rows"])]
    rows = [[r["model"], *[r.get(c) for c in columns]] for r in table["rows"]]
    return "<h2>Evaluation (test split)</h2>" + _table(["model", *columns], rows)


def dialogues_section(run: Path, limit: int = 8) -> str:
    samples = _jsonl(run / "evaluate" / "samples.jsonl")[:limit]
    if not samples:
        return ""
    models = [k for k in samples[0] if k not in ("sample_id", "context", "gold")]
    rows = []
    for s in samples:
        context = " / ".join(m["content"] for m in s["context"] if m["role"] != "system")
        rows.append([context, s.get("gold"), *[s.get(m) for m in models]])
    return "<h2>Sample dialogues</h2>" + _table(["context", "gold", *models], rows, "dialogue")


def rl_samples_section(run: Path) -> str:
    samples = _jsonl(run / "rl" / "samples.jsonl")
    if not samples:
        return ""
    rows = [[s["step"], s["context"], s["reply"]] for s in samples]
    return "<h2>RL replies on held-out prompts, by step</h2>" + _table(["step", "context", "reply"], rows, "dialogue")


def build_report(run: Path) -> Path:
    """Write ``run/report.html``; returns its path."""
    run = Path(run)
    config_text = (run / "config.yaml").read_text(encoding="utf-8") if (run / "config.yaml").is_file() else ""
    manifest = _json(run / "manifest.json") or {"stages": {}}
    profile = next((line.split(":", 1)[1].strip() for line in config_text.splitlines()
                    if line.startswith("profile:")), "")
    banner = ('<p class="note">Smoke demo (profile <b>demo</b>): a small subset on a laptop CPU. These numbers show '
              'the loop works end to end; they are not results.</p>' if profile == "demo" else "")
    body = "".join([
        f"<h1>empathic-rlhf run: {escape(run.name)}</h1>", banner, stages_section(manifest),
        evaluation_section(run), reward_section(run), plots_section(run), dialogues_section(run),
        rl_samples_section(run), f"<h2>Config</h2><pre>{escape(config_text)}</pre>"])
    html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(run.name)} report</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>")
    with atomic_path(run / "report.html") as tmp:
        tmp.write_text(html, encoding="utf-8")
    return run / "report.html"
