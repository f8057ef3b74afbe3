"""DYME's network (a small MLP trained with MSE), its training loop with early stopping, and save/load.

Saved model directory::

    model/weights.pt     state dict of the MLP (torch.save)
    model/dyme.json      metric names, scaler bounds, feature layout, config: all a scorer needs besides weights
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..io import atomic_path, write_json
from .features import MinMaxScaler


def make_mlp(input_dim: int, output_dim: int, hidden: int, dropout: float):
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(input_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, output_dim),
    )


def mse_per_metric(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return ((pred - target) ** 2).mean(axis=0)


def predict(model, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Predictions in scaled units, clipped to the scaler's [0, 1] range as the targets are."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            out.append(model(torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size]))).numpy())
    return np.clip(np.concatenate(out), 0.0, 1.0) if out else np.zeros((0, 0))


def train_mlp(x_train, y_train, x_valid, y_valid, cfg, log=print):
    """Train with AdamW on MSE; keep the epoch with the lowest validation MSE; stop after ``patience`` worse epochs.

    Returns ``(model, history)`` where history lists ``{epoch, train_mse, valid_mse, seconds}`` from epoch 0
    (the untrained network) on.
    """
    import torch

    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = make_mlp(x_train.shape[1], y_train.shape[1], cfg.hidden_size, cfg.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    # Epoch 0 = the untrained network, so the curve shows what training bought.
    best = float(mse_per_metric(predict(model, x_valid), y_valid).mean())
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bad, history = 0, [{"epoch": 0, "train_mse": None, "valid_mse": best, "seconds": 0.0}]
    for epoch in range(1, cfg.max_epochs + 1):
        start = time.time()
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            loss = torch.nn.functional.mse_loss(model(xt[idx]), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        valid_mse = float(mse_per_metric(predict(model, x_valid), y_valid).mean())
        history.append({"epoch": epoch, "train_mse": total / len(order), "valid_mse": valid_mse,
                        "seconds": round(time.time() - start, 2)})
        log(f"epoch {epoch}: train mse {total / len(order):.5f}  valid mse {valid_mse:.5f}")
        if valid_mse < best - 1e-7:
            best, bad = valid_mse, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    model.load_state_dict(best_state)
    return model, history


def save_model(model_dir: str | Path, model, scaler: MinMaxScaler, metric_names, cfg, input_dim: int) -> None:
    """Write ``weights.pt`` + ``dyme.json`` into ``model_dir`` atomically (a crash leaves the old model intact)."""
    import dataclasses

    import torch

    with atomic_path(model_dir) as tmp:
        tmp.mkdir(parents=True)
        torch.save(model.state_dict(), tmp / "weights.pt")
        write_json(tmp / "dyme.json", {
            "format": "empathic-dyme/1",
            "encoder": "all-MiniLM-L6-v2",
            "metric_names": list(metric_names),
            "scaler": scaler.to_json(),
            "input_dim": input_dim,
            "max_history": cfg.max_history,
            "hidden_size": cfg.hidden_size,
            "dropout": cfg.dropout,
            "config": dataclasses.asdict(cfg),
        })


def load_model(model_dir: str | Path):
    """``(model, meta)`` from a directory written by :func:`save_model`; errors name the missing file."""
    import torch

    from ..errors import EmpathicError

    model_dir = Path(model_dir)
    meta_path = model_dir / "dyme.json"
    if not meta_path.is_file():
        raise EmpathicError(f"{meta_path}: no DYME model here (train one with `empathic dyme train`)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model = make_mlp(meta["input_dim"], len(meta["metric_names"]), meta["hidden_size"], meta["dropout"])
    model.load_state_dict(torch.load(model_dir / "weights.pt", map_location="cpu", weights_only=True))
    model.eval()
    return model, meta
