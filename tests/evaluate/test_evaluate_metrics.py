"""Automatic metrics on hand-made cases with known values, and the evaluate stage's table."""

import json
import math
from types import SimpleNamespace

import pytest

from empathic_rlhf.cli import main
from empathic_rlhf.evaluate.reply_metrics import (average_length, bleu, bleu_of, bleu_statistics, distinct_n,
                                                  distinct_of, ngrams, perplexity, reply_nll, words)
from empathic_rlhf.evaluate.run import resolve_models
from empathic_rlhf.evaluate.table import markdown_table
from empathic_rlhf.records import Sample


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

    def __call__(self, input_ids, attention_mask, position_ids=None):
        import torch

        return SimpleNamespace(logits=torch.zeros(*input_ids.shape, self.vocab))


FIREWORKS = {
    "sample_id": "hit:0_conv:1#2", "conv_id": "hit:0_conv:1",
    "prompt": [{"role": "user", "content": "I remember going to see the fireworks with my best friend."}],
    "completion": [{"role": "assistant", "content": "Was this a friend you were in love with?"}],
}
FIREWORKS_SAMPLE = Sample(**FIREWORKS)


def sample(**changes) -> Sample:
    return Sample.model_validate({**FIREWORKS, **changes})


def test_perplexity_counts_reply_tokens_only(gpt2_tokenizer):
    model = Uniform(len(gpt2_tokenizer))
    samples = [FIREWORKS_SAMPLE, sample(completion=[{"role": "assistant", "content": "Oh no."}])]
    assert perplexity(model, gpt2_tokenizer, samples, batch_size=1) == pytest.approx(len(gpt2_tokenizer))
    nlls, counts = reply_nll(model, gpt2_tokenizer, samples, batch_size=2)
    total, count = sum(nlls), sum(counts)
    reply_tokens = [len(gpt2_tokenizer(" " + t, add_special_tokens=False)["input_ids"]) + 1  # + <EOT>
                    for t in ("Was this a friend you were in love with?", "Oh no.")]
    assert counts == reply_tokens
    assert total == pytest.approx(count * math.log(len(gpt2_tokenizer)), rel=1e-5)


def test_perplexity_of_a_real_model_does_not_depend_on_batching(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    samples = [FIREWORKS_SAMPLE, sample(prompt=[{"role": "user", "content": "Hi"}])]
    one = perplexity(model, tokenizer, samples, batch_size=1)
    assert perplexity(model, tokenizer, samples, batch_size=2) == pytest.approx(one, rel=1e-4)


def test_models_are_named_and_resolved(tmp_path):
    (tmp_path / "sft" / "model").mkdir(parents=True)
    (tmp_path / "sft" / "model" / "config.json").write_text("{}")
    assert resolve_models(["base", "sft", "rl", "mine=/x/y"], "smollm2-135m", tmp_path) == [
        ("base", "smollm2-135m"), ("sft", str(tmp_path / "sft" / "model")), ("mine", "/x/y")]  # no rl model yet


def test_bleu_from_sentence_statistics_equals_sacrebleu_corpus_bleu():
    hyps = ["the cat sat on the mat", "a dog barked loudly at night", "hello there", "i am so sorry"]
    refs = ["the cat is on the mat", "the dog barked at night", "hi there friend", "i am sorry to hear that"]
    stats = bleu_statistics(hyps, refs)
    assert bleu_of(stats) == pytest.approx(bleu(hyps, refs), abs=1e-9)
    assert bleu_of(stats[[0, 2]]) == pytest.approx(bleu([hyps[0], hyps[2]], [refs[0], refs[2]]), abs=1e-9)


def test_distinct_of_gram_lists_matches_distinct_n():
    texts = ["a b a b", "a c", "c c c"]
    for n in (1, 2):
        assert distinct_of([ngrams(t, n) for t in texts]) == pytest.approx(distinct_n(texts, n))


def test_evaluate_stage_writes_intervals_and_paired_differences(tmp_path, small_data_dir, tiny_gpt2_dir):
    args = ["evaluate", "--runs-dir", str(tmp_path), "--name", "t", "--data-dir", str(small_data_dir),
            "--base-model", str(tiny_gpt2_dir), f"--evaluate.models=[base,again={tiny_gpt2_dir}]",
            "--evaluate.max_new_tokens=6", "--evaluate.baseline=base", "--evaluate.bootstrap_resamples=200",
            "--evaluate.empathy=skip"]
    assert main(args) == 0
    out = tmp_path / "t" / "evaluate"
    table = json.loads((out / "table.json").read_text())
    rows = {r["model"]: r["metrics"] for r in table["rows"]}
    assert set(rows) == {"base", "again", "gold"} and table["n_contexts"] == 3
    assert rows["base"]["perplexity"]["mean"] == rows["again"]["perplexity"]["mean"]  # the same model, twice
    for name in ("static_reward", "length", "bleu", "distinct_1"):
        m = rows["base"][name]
        assert m["n"] == 3 and m["lo"] <= m["mean"] <= m["hi"]
    same = table["vs_baseline"]["again"]  # greedy decoding: the same model gives the same replies
    assert same["static_reward"]["diff"] == 0 and same["static_reward"]["p"] == 1.0
    assert same["bleu"]["diff"] == 0 and same["bleu"]["lo"] == 0 and same["bleu"]["hi"] == 0
    assert "perplexity" not in rows["gold"] and rows["gold"]["length"]["mean"] > 0
    md = (out / "table.md").read_text()
    assert md == markdown_table(table) and "| base |" in md and "21.24" in md and "model − base" in md
    lines = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and set(lines[0]["replies"]) == {"base", "again"} and lines[0]["gold"]
    assert lines[0]["replies"]["base"] == lines[0]["replies"]["again"]
    assert lines[0]["prompt"][-1]["role"] == "user"
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert len(scores) == 9 and {"sample_id", "model", "static_reward", "length"} <= set(scores[0])


def test_empathy_yardsticks_reach_evaluate_and_the_report(tmp_path, small_data_dir, tiny_gpt2_dir, monkeypatch):
    """With the yardsticks built (here: a tiny planted scorer), every model and the gold replies get ER/IP/EX,
    empathy and emotion fit with intervals and paired differences, and the report draws them."""
    from empathy.planted_empathy import build_planted_scorer

    from empathic_rlhf.report.build import evaluation_section

    monkeypatch.setenv("EMPATHIC_EMPATHY_MODEL", str(build_planted_scorer(tmp_path / "empathy")))
    args = ["evaluate", "--runs-dir", str(tmp_path), "--name", "t", "--data-dir", str(small_data_dir),
            "--base-model", str(tiny_gpt2_dir), f"--evaluate.models=[base,other={tiny_gpt2_dir}]",
            "--evaluate.max_new_tokens=6", "--evaluate.baseline=base", "--evaluate.bootstrap_resamples=200",
            "--evaluate.temperature=1.0", "--evaluate.replies_per_context=2"]
    assert main(args) == 0
    table = json.loads((tmp_path / "t" / "evaluate" / "table.json").read_text())
    columns = {"empathy", "er", "ip", "ex", "emotion_fit"}
    for row in table["rows"]:
        assert columns <= set(row["metrics"]), row["model"]
        for name in columns:
            m = row["metrics"][name]
            assert m["n"] == 3 and m["lo"] <= m["mean"] <= m["hi"]
    assert columns <= set(table["vs_baseline"]["other"]) and table["replies_per_context"] == 2
    html = evaluation_section(tmp_path / "t")
    assert "<figcaption>empathy</figcaption>" in html and "<figcaption>emotion_fit</figcaption>" in html
