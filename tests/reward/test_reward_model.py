"""Reward model on a tiny GPT-2: learns a planted preference; scores are consistent; normalisation works."""

import statistics

import pytest

from planted import planted_tasks

from empathic_rlhf.records import as_dicts
from empathic_rlhf.reward.config import RewardConfig
from empathic_rlhf.reward.model import RewardModel, reward_input_ids
from empathic_rlhf.reward.pairs import build_pairs, split_key
from empathic_rlhf.splits import in_fraction


def prompt_messages(task):
    return as_dicts(task.prompt)


@pytest.fixture(scope="module")
def trained(tiny_gpt2_dir, tmp_path_factory):
    from empathic_rlhf.reward.train import train_reward_model

    tasks, labels = planted_tasks(300)
    out = tmp_path_factory.mktemp("reward")
    config = RewardConfig(learning_rate=2e-3, epochs=3, batch_size=6, heldout_fraction=0.25, empathy_probe=600)
    pairs, counts = build_pairs(tasks[:240], labels[:240], config.heldout_fraction)
    # normalisation is fitted on the held-out contexts of the first 240 tasks and checked on 60 others
    metrics = train_reward_model(str(tiny_gpt2_dir), pairs, counts, labels, tasks[:240], config, out, seed=0)
    return metrics, out, tasks


def test_learns_planted_preference_to_90_percent_heldout(trained):
    metrics, _, _ = trained
    heldout = metrics["heldout"]["overall"]
    assert heldout["n"] >= 60
    assert heldout["accuracy"] >= 0.9, metrics["heldout"]
    losses = [h["loss"] for h in metrics["train_log"]]
    assert losses[-1] < losses[0]


def test_normalization_puts_unseen_policy_samples_near_mean_0_std_1(trained):
    """Fitted on held-out contexts of the training tasks; checked on 60 tasks it never saw."""
    metrics, out, tasks = trained
    model = RewardModel.load(out / "model")
    fitted = [t for t in tasks[:240] if in_fraction(split_key(t), 0.25)]
    assert metrics["normalization"]["n"] == sum(len(t.candidates) for t in fitted)
    prompts, replies = [], []
    for task in tasks[240:]:
        prompts += [prompt_messages(task)] * len(task.candidates)
        replies += [c.text for c in task.candidates]
    scores = model.score(prompts, replies)
    # same distribution of candidates, so roughly standardised; not exactly (a different sample of ~170 replies)
    assert abs(statistics.fmean(scores)) < 0.3 and 0.7 < statistics.pstdev(scores) < 1.3


def test_same_pair_same_score_in_training_scoring_and_batches(trained):
    """The token ids the trainer saw are exactly what `score` feeds the model, and batching does not move it."""
    import torch

    _, out, tasks = trained
    model = RewardModel.load(out / "model")
    task = tasks[0]
    prompt, reply = prompt_messages(task), task.candidates[0].text
    ids = reward_input_ids(model.tokenizer, prompt, reply)
    assert model.tokenizer.decode(ids).endswith("<EOT>")  # the template ends the reply; nothing appended
    with torch.no_grad():
        direct = model.model(input_ids=torch.tensor([ids])).logits[0, 0].item()
    alone = model.score([prompt], [reply], normalized=False)[0]
    long_reply = "This one is a much longer reply than the other so that padding is needed."
    batched = model.score([prompt, prompt], [long_reply, reply], normalized=False)[1]
    assert alone == pytest.approx(direct, abs=1e-5) and batched == pytest.approx(direct, abs=1e-4)


def test_reward_score_cli_and_rl_reward_function_agree_with_the_model(trained, tmp_path, capsys):
    """`empathic reward score` (file in, JSONL out) and the RL reward function give the model's own scores."""
    import json

    from empathic_rlhf.cli import main
    from empathic_rlhf.rl.rewards import reward_model_reward

    _, out, tasks = trained
    model = RewardModel.load(out / "model")
    task = tasks[1]
    prompt = prompt_messages(task)
    replies = [c.text for c in task.candidates]
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps({"history": [task.history[0].text], "reply": r}) + "\n"
                                for r in replies))
    assert main(["reward", "score", "--model", str(out / "model"), "--input", str(requests)]) == 0
    cli_scores = [json.loads(line)["reward"] for line in capsys.readouterr().out.splitlines()]
    direct = model.score([prompt] * len(replies), replies)
    rl_scores = reward_model_reward(model)(prompts=[prompt] * len(replies),
                                           completions=[[{"role": "assistant", "content": r}] for r in replies])
    assert cli_scores == pytest.approx(direct, abs=1e-5) and rl_scores == pytest.approx(direct, abs=1e-6)
    best = next(c.text for c in task.candidates if "sorry" in c.text)
    assert cli_scores[replies.index(best)] == max(cli_scores)  # the planted preference shows in the scores


def test_reward_score_rejects_bad_lines(trained, tmp_path, capsys):
    from empathic_rlhf.cli import main

    _, out, _ = trained
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"history": ["hi"], "reply": "ok"}\n{"reply": 3}\n')
    assert main(["reward", "score", "--model", str(out / "model"), "--input", str(bad)]) == 2
    assert "bad.jsonl:2: each line needs a string 'reply'" in capsys.readouterr().err


def test_minilm_encoder_backbone_learns_the_planted_preference(tmp_path):
    """The cheap cross-encoder backbone: trains through the same TRL trainer, saves, reloads, scores the same."""
    from empathic_rlhf.reward.train import train_reward_model

    tasks, labels = planted_tasks(160, seed=3)
    config = RewardConfig(backbone="minilm", learning_rate=5e-5, epochs=2, batch_size=6, heldout_fraction=0.25,
                          empathy_probe=0)
    pairs, counts = build_pairs(tasks, labels, config.heldout_fraction)
    metrics = train_reward_model("minilm", pairs, counts, labels, tasks, config, tmp_path, seed=0)
    assert metrics["heldout"]["overall"]["accuracy"] >= 0.9, metrics["heldout"]
    model = RewardModel.load(tmp_path / "model")
    ids = reward_input_ids(model.tokenizer, prompt_messages(tasks[0]), "I am so sorry.")
    assert model.tokenizer.decode(ids).startswith("[CLS]") and ids.count(model.tokenizer.sep_token_id) == 2
    again = RewardModel.load(tmp_path / "model")
    prompt = prompt_messages(tasks[0])
    assert again.score([prompt], ["I am so sorry."]) == pytest.approx(model.score([prompt], ["I am so sorry."]))


def test_spearman_interval_on_hand_made_scores():
    from empathic_rlhf.reward.probe import spearman_ci

    levels = [0, 0, 1, 1, 2, 2, 3, 4, 5, 6] * 10
    perfect = spearman_ci([x * 2.0 + 1 for x in levels], levels, resamples=200)
    assert perfect["rho"] == pytest.approx(1.0) and perfect["lo"] == pytest.approx(1.0) and perfect["n"] == 100
    reversed_ = spearman_ci([-x for x in levels], levels, resamples=200)
    assert reversed_["rho"] == pytest.approx(-1.0) and reversed_["p"] < 1e-6
    assert spearman_ci([1.0] * 100, levels)["rho"] is None  # a constant reward has no rank correlation


def test_reward_stage_measures_agreement_with_human_empathy_levels(trained):
    """The probe ran on EPITOME's test split (the shared data is there in this checkout; else it says why not)."""
    from helpers import SHARED_DATA

    metrics, _, _ = trained
    epitome = metrics["empathy_agreement"]["epitome"]
    if not (SHARED_DATA / "epitome").is_dir():
        assert "skipped" in epitome
        return
    assert epitome["n"] == 600 and -1 <= epitome["lo"] <= epitome["rho"] <= epitome["hi"] <= 1
