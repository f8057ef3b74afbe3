"""DPO on a tiny GPT-2 moves the held-out chosen/rejected implicit-reward margin up."""

from planted import planted_tasks

from empathic_rlhf.dpo.config import DpoConfig
from empathic_rlhf.reward.pairs import build_pairs


def test_dpo_raises_heldout_margins(tiny_gpt2_dir, tmp_path):
    from empathic_rlhf.dpo.train import train_dpo

    tasks, labels = planted_tasks(60, seed=1)
    pairs, _ = build_pairs(tasks, labels, 0.25)
    metrics = train_dpo(DpoConfig(beta=0.1, learning_rate=5e-3, max_steps=12, batch_size=8), str(tiny_gpt2_dir),
                        pairs["train"], pairs["heldout"], tmp_path, seed=0)
    assert metrics["heldout_before"]["margin"] == 0.0  # policy == reference before training
    after = metrics["heldout_after"]
    assert after["margin"] > 0.5 and after["accuracy"] >= 0.9
    assert after["margin_ci95"][0] > 0 and after["accuracy_ci95"][0] > 0.5  # the gain is more than noise
    assert (tmp_path / "model" / "config.json").is_file() and (tmp_path / "log.jsonl").read_text()
