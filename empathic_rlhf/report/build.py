"""Assemble ``<run>/report.html`` from what the stages wrote: config, key numbers, plots, the evaluation table and
sample dialogues side by side.

The page is Jinja2 templates (``templates/``) with autoescape: every piece of text from the run is escaped where
the template writes it. Each section is a :class:`Section`: a template and a function that reads the run into the
template's variables (None: the run has nothing for it, the section is left out). Adding a section is one template
plus one entry in :data:`SECTIONS`; one that shows a key of a stage's metrics file needs no function of its own,
and until it has a template of its own the generic ``metrics.html.jinja`` shows every leaf of it::

    Section("metrics.html.jinja", from_metrics("reward/metrics.json", "battery", "Robustness battery"))
    Section("battery.html.jinja", from_metrics("reward/metrics.json", "battery"))  # its template sees `value`
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..io import atomic_path
from .render import render
from .svg import interval_chart, line_chart


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True)
class Section:
    """One section of the report: ``template`` (in ``templates/``) rendered with ``data(run)``, unless that is
    None."""

    template: str
    data: Callable[[Path], dict | None]

    def html(self, run: Path) -> str:
        context = self.data(Path(run))
        return "" if context is None else render(self.template, **context)


def from_metrics(path: str, key: str, title: str | None = None) -> Callable[[Path], dict | None]:
    """The data of a section showing ``key`` of the run's ``path`` (a stage's metrics.json): ``{"value": ...,
    "title": ..., "run": <run folder>}``, or None when the file or the key is missing."""
    def data(run: Path) -> dict | None:
        value = (_json(run / path) or {}).get(key)
        return None if value is None else {"value": value, "title": title or f"{path}: {key}", "run": run}
    return data


# ---- the sections' data ----

def stages_data(run: Path) -> dict:
    stages = (_json(run / "manifest.json") or {"stages": {}}).get("stages", {})
    return {"stages": [(name, {"seconds": entry.get("seconds"), "summary": entry.get("summary") or {}})
                       for name, entry in stages.items()],
            "total": sum(entry.get("seconds", 0) for entry in stages.values())}


def rounds_data(run: Path) -> dict | None:
    """One row per round (``rounds/summary.json``, rounds.count > 1): labels so far, the reward model's held-out
    accuracy, RL's gain over π on the report prompts and its KL to π."""
    keys = ("round", "labels", "label_source", "new_labels", "acquire_rule", "reward_accuracy", "reward_accuracy_ci95",
            "reward_heldout_pairs", "rl_gain", "rl_gain_se", "rl_report_prompts", "rl_samples_per_prompt", "kl",
            "kl_se", "kept_step")
    rows = (_json(run / "rounds" / "summary.json") or {}).get("rounds", [])
    return {"rows": [{key: row.get(key) for key in keys} for row in rows]} if rows else None


def evaluation_data(run: Path) -> dict:
    """Every metric per model with its 95% interval, the paired differences vs π, and the empathy yardsticks
    drawn as intervals."""
    from ..evaluate.table import ORDER

    table = _json(run / "evaluate" / "table.json")
    if not table or "vs_baseline" not in table:
        return {"table": None}
    present = {name for row in table["rows"] for name in row["metrics"]}
    columns = [c for c in ORDER if c in present]
    charts = [interval_chart(name, [(r["model"], r["metrics"][name]["mean"], r["metrics"][name].get("lo"),
                                     r["metrics"][name].get("hi")) for r in table["rows"] if name in r["metrics"]])
              for name in ("judged_empathy", "context_fit", "empathy", "er", "ip", "ex", "emotion_fit", "reward_model")
              if name in present]
    rows = [{"model": r["model"], "metrics": {c: r["metrics"].get(c) for c in columns}} for r in table["rows"]]
    vs = {model: {c: d.get(c) for c in columns} for model, d in table["vs_baseline"].items()}
    return {"table": {"split": table.get("split"), "n_contexts": table["n_contexts"],
                      "replies_per_context": table.get("replies_per_context", 1), "rows": rows, "vs_baseline": vs,
                      "baseline": table.get("baseline")},
            "columns": columns, "charts": charts}


def reward_data(run: Path) -> dict | None:
    reward = _json(run / "reward" / "metrics.json")
    if not reward or "heldout" not in reward:
        return None

    def row(name, m):
        ci = m.get("accuracy_ci95") or [None, None]
        return [name, m.get("n"), m.get("accuracy"), ci[0], ci[1], m.get("loss")]

    rows = [row("overall", reward["heldout"]["overall"])]
    rows += [row(level, m) for level, m in reward["heldout"].get("by_agreement", {}).items()]
    # Does the reward track empathy? Spearman's rho with EPITOME's human levels and with the yardsticks.
    agreement = [[name, m.get("n"), m.get("rho"), m.get("lo"), m.get("hi"), m.get("p")]
                 for name, m in reward.get("empathy_agreement", {}).items() if "rho" in m]
    return {"rows": rows, "agreement": agreement, "sources": reward["heldout"].get("sources", {}),
            "normalization": reward.get("normalization", {})}


def battery_data(path: str, title: str) -> Callable[[Path], dict | None]:
    """The data of a battery section from ``battery`` in the run's ``path`` (reward/metrics.json or
    evaluate/table.json): kinds x scorers cells (red past the warning share) and the failing probes spelled out."""
    from ..battery.probes import KINDS

    def data(run: Path) -> dict | None:
        battery = (_json(run / path) or {}).get("battery")
        if not battery or not battery.get("scorers"):
            return None
        warn, scorers = battery["warn_above"], list(battery["scorers"])
        rows, failing = [], []
        for kind in KINDS:
            cells = []
            for name in scorers:
                row = battery["scorers"][name]["kinds"].get(kind)
                bad = row is not None and 1 - row["rate"] > warn
                cells.append({"rate": None, "bad": False} if row is None else {**row, "bad": bad})
                if bad:
                    failing.append({"scorer": name, "probe": row["probe"], "lost": f"{1 - row['rate']:.0%}"})
            if any(c["rate"] is not None for c in cells):
                rows.append((kind, cells))
        return {"title": title, "n_contexts": battery["n_contexts"], "scorers": scorers, "rows": rows,
                "failing": failing}
    return data


def plots_data(run: Path) -> dict:
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
    charts.append(line_chart("RL reward-hacking monitors (held-out, every check)", {
        name: [(h["step"], h["monitors"][name]) for h in heldout if "monitors" in h]
        for name in ("stock", "near_copy", "question")}, y_label="share of replies"))
    charts.append(line_chart("Reward vs KL (held-out, every check)",
                             {"checkpoints": [(h["heldout_kl"], h["heldout_reward"]) for h in heldout]},
                             x_label="KL(pi_theta || pi) per reply", y_label="held-out reward", points_only=True))
    fluency = [(h["heldout_kl"], h["perplexity"]) for h in heldout if "perplexity" in h]
    if fluency:  # the fluency axis of the trade-off: what the policy's drift cost in perplexity on human replies
        charts.append(line_chart("Perplexity on human replies vs KL (held-out, every check)", {"checkpoints": fluency},
                                 x_label="KL(pi_theta || pi) per reply", y_label="perplexity", points_only=True))
    reward = _json(run / "reward" / "metrics.json") or {}
    charts.append(line_chart("Reward model training", {
        "accuracy": [(h["step"], h.get("accuracy")) for h in reward.get("train_log", [])],
        "loss": [(h["step"], h.get("loss")) for h in reward.get("train_log", [])]}))
    return {"charts": charts}


def _context_text(sample: dict) -> str:
    return " / ".join(m["content"] for m in sample["prompt"] if m["role"] != "system")


def dialogues_data(run: Path, limit: int = 8) -> dict | None:
    samples = _jsonl(run / "evaluate" / "samples.jsonl")[:limit]
    if not samples or "replies" not in samples[0]:
        return None
    models = list(samples[0]["replies"])
    rows = [[_context_text(s), s.get("gold"), *[s["replies"].get(m) for m in models]] for s in samples]
    return {"title": "Sample dialogues", "note": None, "headers": ["context", "gold", *models], "rows": rows}


def changed_data(run: Path, model: str = "rl", baseline: str = "sft", limit: int = 10) -> dict | None:
    """The first ``limit`` test contexts, in file order, where ``model``'s reply differs from ``baseline``'s -- a
    fixed rule, so the examples are not picked by hand -- with both replies' empathy and reward scores."""
    samples = _jsonl(run / "evaluate" / "samples.jsonl")
    if not samples or model not in samples[0].get("replies", {}) or baseline not in samples[0]["replies"]:
        return None
    scores = {(r["sample_id"], r["model"]): r for r in _jsonl(run / "evaluate" / "scores.jsonl")}
    columns = [c for c in ("empathy", "reward_model") if c in scores.get((samples[0]["sample_id"], model), {})]
    rows = []
    for s in samples:
        if s["replies"][model].strip() == s["replies"][baseline].strip():
            continue
        mine, base = scores.get((s["sample_id"], model), {}), scores.get((s["sample_id"], baseline), {})
        rows.append([_context_text(s), s["replies"][baseline], s["replies"][model],
                     *[f"{base.get(c, 0):.2f} → {mine.get(c, 0):.2f}" for c in columns]])
        if len(rows) == limit:
            break
    if not rows:
        return {"title": f"Where {model} changed the reply", "headers": [], "rows": [],
                "note": f"None: on all {len(samples)} test contexts {model}'s first reply is the same as {baseline}'s."}
    return {"title": f"Where {model} changed the reply",
            "note": f"The first {len(rows)} test contexts, in file order, where {model}'s first reply differs from "
                    f"{baseline}'s (a fixed rule, not picked by hand).",
            "headers": ["context", baseline, model, *[f"{c} ({baseline} → {model})" for c in columns]], "rows": rows}


def rl_samples_data(run: Path) -> dict | None:
    samples = _jsonl(run / "rl" / "samples.jsonl")
    if not samples:
        return None
    return {"title": "RL replies on held-out prompts, by step", "note": None, "headers": ["step", "context", "reply"],
            "rows": [[s["step"], s["context"], s["reply"]] for s in samples]}


def config_text(run: Path) -> str:
    return (run / "config.yaml").read_text(encoding="utf-8") if (run / "config.yaml").is_file() else ""


# The report's sections, in page order.
SECTIONS: tuple[Section, ...] = (
    Section("stages.html.jinja", stages_data),
    Section("rounds.html.jinja", rounds_data),
    Section("evaluation.html.jinja", evaluation_data),
    Section("reward.html.jinja", reward_data),
    Section("battery.html.jinja", battery_data("reward/metrics.json", "Robustness battery: the reward model")),
    Section("battery.html.jinja", battery_data("evaluate/table.json", "Robustness battery: every score column")),
    Section("plots.html.jinja", plots_data),
    Section("dialogues.html.jinja", dialogues_data),
    Section("dialogues.html.jinja", changed_data),
    Section("dialogues.html.jinja", rl_samples_data),
    Section("config.html.jinja", lambda run: {"text": config_text(run)}),
)


def section_html(data: Callable[[Path], dict | None]) -> Callable[[Path], str]:
    """The HTML of the section whose data function is ``data`` (for tests and callers that want one section)."""
    section = next(s for s in SECTIONS if s.data is data)
    return section.html


stages_section = section_html(stages_data)
rounds_section = section_html(rounds_data)
evaluation_section = section_html(evaluation_data)
reward_section = section_html(reward_data)
plots_section = section_html(plots_data)
dialogues_section = section_html(dialogues_data)
changed_section = section_html(changed_data)
rl_samples_section = section_html(rl_samples_data)


def build_report(run: Path, sections: tuple[Section, ...] = SECTIONS) -> Path:
    """Write ``run/report.html``; returns its path."""
    run = Path(run)
    profile = next((line.split(":", 1)[1].strip() for line in config_text(run).splitlines()
                    if line.startswith("profile:")), "")
    html = render("report.html.jinja", name=run.name, demo=profile == "demo",
                  sections=[html for html in (section.html(run) for section in sections) if html])
    with atomic_path(run / "report.html") as tmp:
        tmp.write_text(html, encoding="utf-8")
    return run / "report.html"
