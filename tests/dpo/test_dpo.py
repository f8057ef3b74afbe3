"""DPO on a tiny GPT-2 moves the held-out chosen/rejected implicit-reward margin up."""

from planted import planted_tasks

from empathic_rlhf.dpo.config import DpoConfig
from empathic_rlhf.reward.config import RewardConfig
from empathic_rlhf.reward.train import split_pairs


def test_dpo_raises_heldout_margins(tiny_gpt2_dir, tmp_path):
    from empathic_rlhf.dpo.train import train_dpo

    tasks, labels = planted_tasks(60, seed=1)
    train, test = split_pairs({t["task_id"]: t for t in tasks}, labels, RewardConfig(heldout_fraction=0.25), [])[:2]
    metrics = train_dpo(DpoConfig(beta=0.1, learning_rate=5e-3, max_steps=12, batch_size=8), str(tiny_gpt2_dir),
                        train, test, tmp_path, seed=0)
    assert metrics["heldout_before"]["margin"] == 0.0  # policy == reference before training
    assert metrics["heldout_after"]["margin"] > 0.5 and metrics["heldout_after"]["accuracy"] >= 0.9
    assert (tmp_path / "model" / "config.json").is_file() and (tmp_path / "log.jsonl").read_text()
