"""``empathic dyme train``: read ED, embed + measure every utterance, train the MLP, compare with the baselines.

Train on train, pick the epoch on valid, report on test. Writes ``<out>/model/`` and ``<out>/metrics.json``
(per-metric test MSE of DYME and the baselines, relative improvements, timings, training curve).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..io import write_json
from .config import DymeConfig
from .features import MinMaxScaler, baseline_predictions, build_examples, select_features
from .model import mse_per_metric, predict, save_model, train_mlp

SPLITS = ("train", "valid", "test")


def fit_tables(embeddings: dict[str, list[np.ndarray]], metrics: dict[str, list[np.ndarray]],
               metric_names, cfg: DymeConfig, log=print):
    """Core of training, independent of where the tables came from (tests feed synthetic ones).

    ``embeddings[split]``/``metrics[split]``: one ``[T, 384]`` / ``[T, K]`` (raw metrics) array per conversation.
    Returns ``(model, scaler, report)``; ``report`` holds the test table and the training curve.
    """
    scaler = MinMaxScaler.fit(np.concatenate(metrics["train"]), cfg.scale_quantile)
    scaled = {s: [scaler.transform(m) for m in metrics[s]] for s in SPLITS}
    data = {s: build_examples(embeddings[s], scaled[s], cfg.max_history) for s in SPLITS}
    data = {s: (select_features(x, cfg.feature_set, cfg.max_history), y, n) for s, (x, y, n) in data.items()}
    sizes = ", ".join(f"{s} {len(data[s][0]):,}" for s in SPLITS)
    log(f"examples: {sizes}; {data['train'][0].shape[1]} features")
    start = time.time()
    model, curve = train_mlp(data["train"][0], data["train"][1], data["valid"][0], data["valid"][1], cfg, log=log)
    seconds = time.time() - start

    x_test, y_test, _ = data["test"]
    predictions = {"dyme": predict(model, x_test), **baseline_predictions(scaled["test"])}
    # A constant predictor (train mean of each metric): how much of the spread any model explains at all.
    predictions["train_mean"] = np.broadcast_to(data["train"][1].mean(axis=0), y_test.shape)
    report = {"table": mse_table(predictions, y_test, metric_names), "curve": curve,
              "mlp_seconds": round(seconds, 1), "examples": {s: int(len(data[s][0])) for s in SPLITS},
              "best_epoch": int(min(curve, key=lambda r: r["valid_mse"])["epoch"])}
    return model, scaler, report


def mse_table(predictions: dict[str, np.ndarray], target: np.ndarray, metric_names) -> dict:
    """Per-metric and overall MSE of each predictor, and DYME's relative improvement over each baseline."""
    mse = {name: mse_per_metric(pred, target) for name, pred in predictions.items()}
    table = {"metrics": list(metric_names), "mse": {}, "overall": {}, "improvement_vs": {}}
    for name, values in mse.items():
        table["mse"][name] = dict(zip(metric_names, map(float, values)))
        table["overall"][name] = float(values.mean())
    for name in mse:
        if name == "dyme":
            continue
        per_metric = {m: _gain(mse["dyme"][i], mse[name][i]) for i, m in enumerate(metric_names)}
        table["improvement_vs"][name] = {"overall": _gain(mse["dyme"].mean(), mse[name].mean()), **per_metric}
    return table


def _gain(ours: float, theirs: float) -> float:
    """Relative improvement 1 - ours/theirs (0.2 = 20% lower error than the baseline)."""
    return float(1.0 - ours / theirs) if theirs > 0 else 0.0


def format_table(table: dict) -> str:
    """Markdown table: one row per metric, MSE of each predictor, DYME's gain over the two paper baselines."""
    names = list(table["mse"])
    head = "| metric | " + " | ".join(names) + " | vs moving avg | vs previous |"
    lines = [head, "|" + "---|" * (len(names) + 3)]
    for m in [*table["metrics"], "overall"]:
        values = [table["overall"][n] if m == "overall" else table["mse"][n][m] for n in names]
        gains = [table["improvement_vs"][b]["overall" if m == "overall" else m] for b in ("moving_average", "previous")]
        lines.append(f"| {m} | " + " | ".join(f"{v:.4f}" for v in values)
                     + " | " + " | ".join(f"{g:+.1%}" for g in gains) + " |")
    return "\n".join(lines)


def run_train(cfg: DymeConfig, out_dir: str | Path, log=print) -> dict:
    """The full stage on real data; returns what it writes to ``metrics.json``."""
    import torch

    from ..metrics.vector import METRIC_NAMES
    from .data import embed_conversations, load_split, measure_conversations

    torch.set_num_threads(cfg.num_threads)
    out_dir = Path(out_dir)
    conversations = {s: load_split(cfg.data_dir, s, cfg.max_conversations) for s in SPLITS}
    timings = {}
    start = time.time()
    embeddings = {s: embed_conversations(conversations[s], batch_size=cfg.embed_batch_size) for s in SPLITS}
    timings["embedding_seconds"] = round(time.time() - start, 1)
    start = time.time()
    metrics = {s: measure_conversations(conversations[s], embeddings[s]) for s in SPLITS}
    metric_names = METRIC_NAMES
    if cfg.empathy_metrics:
        from .empathy_metrics import EMPATHY_METRIC_NAMES, extend_conversations

        metrics = {s: extend_conversations(conversations[s], metrics[s], cfg.empathy_model) for s in SPLITS}
        metric_names = (*METRIC_NAMES, *EMPATHY_METRIC_NAMES)
    timings["metrics_seconds"] = round(time.time() - start, 1)

    model, scaler, report = fit_tables(embeddings, metrics, metric_names, cfg, log=log)
    timings["mlp_seconds"] = report.pop("mlp_seconds")
    save_model(out_dir / "model", model, scaler, metric_names, cfg, input_dim=model[0].in_features)
    result = {"split_sizes": {s: len(conversations[s]) for s in SPLITS}, **report, "timings": timings,
              "note": "MSE on min-max scaled metrics ([0,1] per metric, bounds fitted on train); timings of this "
                      "run (cached embeddings/metrics load in seconds: see the first run for encoder cost)"}
    write_json(out_dir / "metrics.json", result)
    log(format_table(report["table"]))
    return result
