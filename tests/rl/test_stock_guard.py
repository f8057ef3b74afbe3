"""RL's held-out checks log the reward-hacking monitors, and a checkpoint whose stock-reply share rose beyond
noise is not kept even when its reward rose."""

import json
from types import SimpleNamespace

from empathic_rlhf.rl import selection
from empathic_rlhf.rl.heldout import HeldoutResult, stock_rose

N = 20


def result(reward: float, stock: float, replies: list[str]) -> HeldoutResult:
    per_prompt = [reward + 0.01 * (i % 3) for i in range(N)]
    stock_per_prompt = [1.0 if i < stock * N else 0.0 for i in range(N)]
    return HeldoutResult(reward, 0.01, 1.0, 0.1, per_prompt, replies,
                         {"stock": stock, "near_copy": 0.0, "question": 0.5, "length": 9.0, "distinct_2": 0.8},
                         stock_per_prompt)


class FakeModel:
    def save_pretrained(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "weights").write_text("w")


def test_stock_rose_is_a_paired_rule_beyond_noise():
    kept = {"stock_per_prompt": [0.0] * N}
    assert stock_rose(result(0.0, 0.5, []), kept, z=2.0)
    assert not stock_rose(result(0.0, 0.05, []), kept, z=2.0)  # one prompt of 20: within noise
    assert not stock_rose(result(0.0, 0.5, []), None, z=2.0)  # nothing kept yet (π's own check)


def test_a_checkpoint_with_more_stock_replies_is_not_kept(tmp_path, monkeypatch, capsys):
    script = iter([result(0.0, 0.0, ["Fourteen years is a long life."]),        # step 0: π
                   result(0.5, 0.6, ["I'm so sorry to hear that. What happened?"]),  # more reward, stock
                   result(0.3, 0.0, ["Was he sick for long?"])])                  # more reward, no stock
    monkeypatch.setattr(selection, "evaluate_heldout", lambda *a, **k: next(script))
    config = SimpleNamespace(eval_steps=1, max_steps=2, max_completion_length=8, eval_samples=1, kl_budget=10.0,
                             selection_z=2.0)
    tokenizer = SimpleNamespace(save_pretrained=lambda folder: folder.mkdir(parents=True, exist_ok=True))
    callback, state = selection.make_run_callback({"trainer": SimpleNamespace(ref_model=None)}, config, tmp_path,
                                                  [[{"role": "user", "content": "My dog died."}]] * N, [], [],
                                                  tokenizer, SimpleNamespace(value=0.1), {}, None, seed=0)
    for step in range(3):
        callback.check(step, FakeModel())
    entries = [json.loads(line) for line in (tmp_path / "heldout.jsonl").read_text().splitlines()]
    assert [e["kept"] for e in entries] == [True, False, True]
    assert [e["stock_rose"] for e in entries] == [False, True, False]
    assert entries[1]["monitors"]["stock"] == 0.6 and entries[1]["heldout_reward"] == 0.5
    assert state["best"]["step"] == 2
    assert "stock share rose: not kept" in capsys.readouterr().out
