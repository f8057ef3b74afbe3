"""Reward model on a tiny GPT-2: learns a planted preference; scores are consistent; normalisation works."""

import statistics

import pytest

from planted import planted_tasks

from empathic_rlhf.reward.config import RewardConfig
from empathic_rlhf.reward.model import RewardModel, reward_input_ids
from empathic_rlhf.reward.pairs import prompt_messages


@pytest.fixture(scope="module")
def trained(tiny_gpt2_dir, tmp_path_factory):
    from empathic_rlhf.reward.train import train_reward_model

    tasks, labels = planted_tasks(240)
    out = tmp_path_factory.mktemp("reward")
    config = RewardConfig(learning_rate=2e-3, epochs=3, batch_size=6, heldout_fraction=0.25)
    metrics = train_reward_model(str(tiny_gpt2_dir), tasks, labels, config, out, seed=0)
    return metrics, out, tasks


def test_learns_planted_preference_to_90_percent_heldout(trained):
    metrics, _, _ = trained
    heldout = metrics["heldout"]["overall"]
    assert heldout["n"] >= 60
    assert heldout["accuracy"] >= 0.9, metrics["heldout"]
    losses = [h["loss"] for h in metrics["train_log"]]
    assert losses[-1] < losses[0]


def test_normalization_gives_mean_0_std_1_on_reference(trained):
    _, out, tasks = trained
    from empathic_rlhf.reward.split import is_heldout

    model = RewardModel.load(out / "model")
    prompts, replies = [], []
    for task in tasks:
        if is_heldout(task["conv_id"], 0.25):
            prompts += [prompt_messages(task)] * len(task["candidates"])
            replies += [c["text"] for c in task["candidates"]]
    scores = model.score(prompts, replies)
    assert abs(statistics.fmean(scores)) < 1e-3 and abs(statistics.pstdev(scores) - 1) < 1e-3


def test_same_pair_same_score_in_training_scoring_and_batches(trained):
    """The token ids the trainer saw are exactly what `score` feeds the model, and batching does not move it."""
    import torch

    _, out, tasks = trained
    model = RewardModel.load(out / "model")
    task = tasks[0]
    prompt, reply = prompt_messages(task), task["candidates"][0]["text"]
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
    replies = [c["text"] for c in task["candidates"]]
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps({"history": [task["history"][0]["text"]], "reply": r}) + "\n"
                                for r in replies))
    assert main(["reward", "score", "--model", str(out / "model"), "--input", str(requests)]) == 0
    cli_scores = [json.loads(line)["reward"] for line in capsys.readouterr().out.splitlines()]
    direct = model.score([prompt] * len(replies), replies)
    rl_scores = reward_model_reward(model)(prompts=[prompt] * len(replies),
                                           completions=[[{"role": "assistant", "content": r}] for r in replies])
    assert cli_scores == pytest.approx(direct, abs=1e-5) and rl_scores == pytest.approx(direct, abs=1e-6)
    best = next(c["text"] for c in task["candidates"] if "sorry" in c["text"])
    assert cli_scores[replies.index(best)] == max(cli_scores)  # the planted preference shows in the scores


def test_reward_score_rejects_bad_lines(trained, tmp_path, capsys):
    from empathic_rlhf.cli import main

    _, out, _ = trained
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"history": ["hi"], "reply": "ok"}\n{"reply": 3}\n')
    assert main(["reward", "score", "--model", str(out / "model"), "--input", str(bad)]) == 2
    assert "bad.jsonl:2: each line needs a string 'reply'" in capsys.readouterr().err
