"""The ``dpo`` stage: the reward stage's preference pairs -> DPO from π -> ``<run>/dpo/model``.

It reads exactly the pairs the reward model was trained and measured on (``<run>/reward/pairs/{train,heldout}.jsonl``),
so its held-out pairs are the reward model's held-out pairs and nothing is re-derived from labels.
"""

from __future__ import annotations

from ..distributed import is_main_process, refuse_sharded_weights
from ..errors import EmpathicError
from ..stage import Context, Stage


def inputs(context: Context) -> dict[str, str]:
    run = context.run
    pairs = run.stage_dir("reward") / "pairs"
    return {"reward/pairs/train": str(pairs / "train.jsonl"), "reward/pairs/heldout": str(pairs / "heldout.jsonl"),
            "sft/model": str(run.stage_dir("sft") / "model")}


def run(context: Context) -> dict:
    from ..reward.pairs import pairs_dir, read_pairs
    from .train import train_dpo

    refuse_sharded_weights("dpo")
    config, run = context.config, context.run
    if not (pairs_dir(run) / "train.jsonl").is_file():
        raise EmpathicError(f"{pairs_dir(run) / 'train.jsonl'}: no preference pairs; run `empathic reward train` "
                            "first")
    pairs = read_pairs(pairs_dir(run))
    metrics = train_dpo(config.dpo, str(run.stage_dir("sft") / "model"), pairs["train"], pairs["heldout"],
                        run.stage_dir("dpo"), seed=config.seed)
    if is_main_process():
        before, after = metrics["heldout_before"]["margin"], metrics["heldout_after"]["margin"]
        if after is not None:  # None: no held-out pairs
            print(f"[dpo] held-out margin {before:.4f} -> {after:.4f}")
    return {"outputs": ["dpo/model", "dpo/metrics.json"],
            "summary": {"pairs": metrics["pairs"], "heldout_margin_after": metrics["heldout_after"]["margin"],
                        "heldout_accuracy_after": metrics["heldout_after"]["accuracy"]}}


STAGE = Stage("dpo", ("model", "prepare", "reward", "dpo"), inputs, run, needs=("reward",), trains=True,
              command=("dpo",))
