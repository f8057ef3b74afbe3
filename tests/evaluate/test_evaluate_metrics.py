"""Automatic metrics on hand-made cases with known values, and the evaluate stage's table."""

import json
import math
from types import SimpleNamespace

import pytest

from empathic_rlhf.cli import main
from empathic_rlhf.evaluate.metrics import average_length, bleu, distinct_n, perplexity, reply_nll, words
from empathic_rlhf.evaluate.run import markdown_table, resolve_models


def test_distinct_n_and_length_by_hand():
    texts = ["a b a b", "a c"]
    # unigrams a b a b a c: 3 distinct of 6; bigrams ab ba ab ac: 3 distinct of 4
    assert distinct_n(texts, 1) == 0.5 and distinct_n(texts, 2) == 0.75
    assert average_length(texts) == 3.0
    assert words("I'm fine!") == ["i", "'", "m", "fine", "!"]
    assert distinct_n(["a"], 2) == 0.0 and average_length([]) == 0.0


def test_bleu_known_values():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert bleu(["completely different words here"], ["the cat sat on the mat"]) == pytest.approx(0.0)
    # 4 of 6 unigrams, 3 of 5 bigrams, 2 of 4 trigrams, 1 of 3 4-grams; brevity penalty exp(1 - 6/6) = 1
    expected = 100 * math.exp((math.log(4 / 6) + math.log(3 / 5) + math.log(2 / 4) + math.log(1 / 3)) / 4)
    assert bleu(["the cat sat on a rug"], ["the cat sat on the mat"]) == pytest.approx(expected, abs=1e-6)


class Uniform:
    """A 'model' whose next-token distribution is uniform over V tokens: every perplexity is exactly V."""

    device = "cpu"

    def __init__(self, vocab):
        self.vocab = vocab

    def eval(self):
        return self

    def __call__(self, input_ids, attention_mask):
        import torch

        return SimpleNamespace(logits=torch.zeros(*input_ids.shape, self.vocab))


FIREWORKS_SAMPLE = {
    "sample_id": "hit:0_conv:1#2",
    "prompt": [{"role": "user", "content": "I remember going to see the fireworks with my best friend."}],
    "completion": [{"role": "assistant", "content": "Was this a friend you were in love with?"}],
}


def test_perplexity_counts_reply_tokens_only(gpt2_tokenizer):
    model = Uniform(len(gpt2_tokenizer))
    samples = [FIREWORKS_SAMPLE, {**FIREWORKS_SAMPLE, "completion": [{"role": "assistant", "content": "Oh no."}]}]
    assert perplexity(model, gpt2_tokenizer, samples, batch_size=1) == pytest.approx(len(gpt2_tokenizer))
    total, count = reply_nll(model, gpt2_tokenizer, samples, batch_size=2)
    reply_tokens = [len(gpt2_tokenizer(" " + t, add_special_tokens=False)["input_ids"]) + 1  # + <EOT>
                    for t in ("Was this a friend you were in love with?", "Oh no.")]
    assert count == sum(reply_tokens)
    assert total == pytest.approx(count * math.log(len(gpt2_tokenizer)), rel=1e-5)


def test_perplexity_of_a_real_model_does_not_depend_on_batching(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    samples = [FIREWORKS_SAMPLE, {**FIREWORKS_SAMPLE, "prompt": [{"role": "user", "content": "Hi"}]}]
    one = perplexity(model, tokenizer, samples, batch_size=1)
    assert perplexity(model, tokenizer, samples, batch_size=2) == pytest.approx(one, rel=1e-4)


def test_models_are_named_and_resolved(tmp_path):
    (tmp_path / "sft" / "model").mkdir(parents=True)
    (tmp_path / "sft" / "model" / "config.json").write_text("{}")
    assert resolve_models(["base", "sft", "rl", "mine=/x/y"], "smollm2-135m", tmp_path) == [
        ("base", "smollm2-135m"), ("sft", str(tmp_path / "sft" / "model")), ("mine", "/x/y")]  # no rl model yet


def test_evaluate_stage_writes_markdown_and_json_side_by_side(tmp_path, small_data_dir, tiny_gpt2_dir):
    args = ["evaluate", "--runs-dir", str(tmp_path), "--name", "t", "--data-dir", str(small_data_dir),
            "--base-model", str(tiny_gpt2_dir), f"--evaluate.models=[base,again={tiny_gpt2_dir}]",
            "--evaluate.max_new_tokens=6"]
    assert main(args) == 0
    out = tmp_path / "t" / "evaluate"
    table = json.loads((out / "table.json").read_text())
    rows = {r["model"]: r for r in table["rows"]}
    assert set(rows) == {"base", "again", "gold replies"} and rows["base"]["samples"] == 3
    assert rows["base"]["perplexity"] == rows["again"]["perplexity"]  # the same model, twice
    assert rows["gold replies"]["avg_length"] > 0 and table["ed_paper"][1]["bleu"] == 6.27
    md = (out / "table.md").read_text()
    assert md == markdown_table(table) and "| base |" in md and "21.24" in md
    lines = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and {"gold", "base", "again"} <= set(lines[0])
    assert lines[0]["base"] == lines[0]["again"]  # greedy decoding: same model, same reply
