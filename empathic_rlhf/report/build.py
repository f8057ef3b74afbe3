"""Assemble ``<run>/report.html`` from what the stages wrote: config, key numbers, plots, the evaluation table
and sample dialogues side by side. Every piece of text from the run is HTML-escaped."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from ..io import atomic_path
from .svg import interval_chart, line_chart

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


def _plus_minus(value, se) -> str:
    return "–" if value is None else f"{value:+.3f} ± {se:.3f}" if se is not None else f"{value:+.3f}"


def rounds_section(run: Path) -> str:
    """One row per round (``rounds/summary.json``, rounds.count > 1): labels so far, the reward model's held-out
    accuracy, RL's gain over π on the report prompts and its KL to π."""
    rows = (_json(run / "rounds" / "summary.json") or {}).get("rounds", [])
    if not rows:
        return ""
    body = []
    for r in rows:
        ci = r.get("reward_accuracy_ci95") or [None, None]
        accuracy = "–" if r.get("reward_accuracy") is None else (
            f"{_fmt(r['reward_accuracy'])} <small>[{_fmt(ci[0])}, {_fmt(ci[1])}], n={_fmt(r.get('reward_heldout_pairs'))}"
            "</small>")
        gain = _plus_minus(r.get("rl_gain"), r.get("rl_gain_se"))
        if r.get("rl_report_prompts"):
            gain += f" <small>({r['rl_report_prompts']} prompts × {r.get('rl_samples_per_prompt')})</small>"
        body.append([_fmt(r["round"]), _fmt(r.get("labels")), _fmt(r.get("label_source")), _fmt(r.get("new_labels")),
                     _fmt(r.get("acquire_rule")), accuracy, gain, _plus_minus(r.get("kl"), r.get("kl_se")),
                     _fmt(r.get("kept_step"))])
    return ("<h2>Rounds</h2><p>Each round: the reward model refreshed on all labels so far (warm start), RL continued "
            "from the previous round's policy with the KL to π. Accuracy: held-out pairs of that round's labels (95% "
            "interval); RL gain: the kept policy minus π on the report prompts, in that round's reward (± SE over "
            f"prompts). Evaluate reads round {len(rows)}'s policy.</p>"
            + _html_table(["round", "labels so far", "source", "new labels", "acquire rule",
                           "reward held-out accuracy", "RL gain vs π (± SE)", "KL to π (± SE)", "kept step"], body))


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


def _agreement(agreement: dict) -> str:
    """Does the reward track empathy? Spearman's rho with EPITOME's human levels and with the yardsticks."""
    rows = [[name, m.get("n"), m.get("rho"), m.get("lo"), m.get("hi"), m.get("p")]
            for name, m in agreement.items() if "rho" in m]
    if not rows:
        return ""
    return ("<p>Does it reward empathy? Spearman's ρ of the reward with EPITOME's human empathy levels and with the "
            "empathy yardsticks on π's held-out replies (95% bootstrap interval):</p>"
            + _table(["against", "n", "rho", "95% CI low", "95% CI high", "p"], rows))


def reward_section(run: Path) -> str:
    reward = _json(run / "reward" / "metrics.json")
    if not reward:
        return ""
    def row(name, m):
        ci = m.get("accuracy_ci95") or [None, None]
        return [name, m.get("n"), m.get("accuracy"), ci[0], ci[1], m.get("loss")]

    rows = [row("overall", reward["heldout"]["overall"])]
    rows += [row(level, m) for level, m in reward["heldout"].get("by_agreement", {}).items()]
    return ("<h2>Reward model (held-out pairs)</h2>"
            + _table(["pairs", "n", "accuracy", "95% CI low", "95% CI high", "loss"], rows)
            + _agreement(reward.get("empathy_agreement", {}))
            + f"<p>Label sources: {escape(json.dumps(reward['heldout'].get('sources', {})))}; "
              f"normalisation: {escape(json.dumps(reward.get('normalization', {})))}</p>")


def _interval(m: dict | None) -> str:
    if not m or m.get("mean") is None:
        return "–"
    if m.get("lo") is None:
        return _fmt(m["mean"])
    return f"{_fmt(m['mean'])} <small>[{_fmt(m['lo'])}, {_fmt(m['hi'])}]</small>"


def _difference(d: dict | None) -> str:
    if not d or d.get("diff") is None:
        return "–"
    p = d.get("p")
    strong = p is not None and p < 0.05
    text = (f"{d['diff']:+.3f} <small>[{d['lo']:+.3f}, {d['hi']:+.3f}]</small> "
            f"p={'<0.001' if p is not None and p < 0.001 else _fmt(p)}")
    return f"<b>{text}</b>" if strong else text


def _html_table(headers: list[str], rows: list[list[str]]) -> str:
    """A table whose cells are already-escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def evaluation_section(run: Path) -> str:
    """Every metric per model with its 95% interval, the paired differences vs π, and the empathy yardsticks
    drawn as intervals."""
    from ..evaluate.table import ORDER

    table = _json(run / "evaluate" / "table.json")
    if not table or "vs_baseline" not in table:
        return "<h2>Evaluation</h2><p class='empty'>no evaluation yet</p>"
    present = {name for row in table["rows"] for name in row["metrics"]}
    columns = [c for c in ORDER if c in present]
    rows = [[escape(r["model"]), *[_interval(r["metrics"].get(c)) for c in columns]] for r in table["rows"]]
    html = (f"<h2>Evaluation ({escape(str(table.get('split')))} split, {table['n_contexts']} contexts, "
            f"{table.get('replies_per_context', 1)} replies each)</h2><p>Means with 95% bootstrap intervals over "
            f"contexts.</p>" + _html_table(["model", *columns], rows))
    if table["vs_baseline"]:
        diffs = [[escape(m), *[_difference(d.get(c)) for c in columns]] for m, d in table["vs_baseline"].items()]
        html += (f"<p>Paired on the same contexts: model − {escape(table['baseline'])}, 95% interval and p-value "
                 "(bold: p &lt; 0.05).</p>" + _html_table(["model", *columns], diffs))
    charts = [interval_chart(name, [(r["model"], r["metrics"][name]["mean"], r["metrics"][name].get("lo"),
                                     r["metrics"][name].get("hi")) for r in table["rows"] if name in r["metrics"]])
              for name in ("empathy", "er", "ip", "ex", "emotion_fit", "reward_model") if name in present]
    return html + "".join(charts)


def dialogues_section(run: Path, limit: int = 8) -> str:
    samples = _jsonl(run / "evaluate" / "samples.jsonl")[:limit]
    if not samples or "replies" not in samples[0]:
        return ""
    models = list(samples[0]["replies"])
    rows = []
    for s in samples:
        context = " / ".join(m["content"] for m in s["prompt"] if m["role"] != "system")
        rows.append([context, s.get("gold"), *[s["replies"].get(m) for m in models]])
    return "<h2>Sample dialogues</h2>" + _table(["context", "gold", *models], rows, "dialogue")


def changed_section(run: Path, model: str = "rl", baseline: str = "sft", limit: int = 10) -> str:
    """The first ``limit`` test contexts, in file order, where ``model``'s reply differs from ``baseline``'s -- a
    fixed rule, so the examples are not picked by hand -- with both replies' empathy and reward scores."""
    samples = _jsonl(run / "evaluate" / "samples.jsonl")
    if not samples or model not in samples[0].get("replies", {}) or baseline not in samples[0]["replies"]:
        return ""
    scores = {(r["sample_id"], r["model"]): r for r in _jsonl(run / "evaluate" / "scores.jsonl")}
    columns = [c for c in ("empathy", "reward_model") if c in scores.get((samples[0]["sample_id"], model), {})]
    rows = []
    for s in samples:
        if s["replies"][model].strip() == s["replies"][baseline].strip():
            continue
        context = " / ".join(m["content"] for m in s["prompt"] if m["role"] != "system")
        mine, base = scores.get((s["sample_id"], model), {}), scores.get((s["sample_id"], baseline), {})
        rows.append([context, s["replies"][baseline], s["replies"][model],
                     *[f"{base.get(c, 0):.2f} → {mine.get(c, 0):.2f}" for c in columns]])
        if len(rows) == limit:
            break
    return (f"<h2>Where {escape(model)} changed the reply</h2><p>The first {len(rows)} test contexts, in file order, "
            f"where {escape(model)}'s first reply differs from {escape(baseline)}'s (a fixed rule, not picked by "
            "hand).</p>" + _table(["context", baseline, model, *[f"{c} ({baseline} → {model})" for c in columns]],
                                  rows, "dialogue"))


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
        f"<h1>empathic-rlhf run: {escape(run.name)}</h1>", banner, stages_section(manifest), rounds_section(run),
        evaluation_section(run), reward_section(run), plots_section(run), dialogues_section(run),
        changed_section(run), rl_samples_section(run), f"<h2>Config</h2><pre>{escape(config_text)}</pre>"])
    html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(run.name)} report</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>")
    with atomic_path(run / "report.html") as tmp:
        tmp.write_text(html, encoding="utf-8")
    return run / "report.html"
