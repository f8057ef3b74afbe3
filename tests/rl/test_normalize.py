"""Reward components are standardised on π's replies before RL; the reward model and the penalty keep their scale."""

import pytest

from empathic_rlhf.rl.normalize import component_statistics, standardised
from empathic_rlhf.rl.rewards import named, reply_text

PROMPTS = [[{"role": "user", "content": "My dog died last week."}], [{"role": "user", "content": "I got the job!"}]]


def fixed(name, values):
    return named(name, lambda prompts, completions, **kwargs: list(values))


def test_standardised_applies_mean_and_std_only_where_statistics_exist():
    dyme, rm, flat = fixed("dyme", [1.0, 3.0]), fixed("reward_model", [1.0, 3.0]), fixed("static", [2.0, 2.0])
    stats = {"dyme": {"mean": 2.0, "std": 0.5}, "static": {"mean": 2.0, "std": 0.0}}
    out = standardised([dyme, rm, flat], stats)
    assert [fn.__name__ for fn in out] == ["dyme", "reward_model", "static"]  # TRL logs rewards/<name>
    assert out[0](prompts=PROMPTS, completions=[]) == [-2.0, 2.0]
    assert out[1] is rm and out[2] is flat  # no statistics / no spread: unchanged


def test_statistics_come_from_pis_replies_and_skip_already_scaled_components(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    policy, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    seen = []

    def reply_length(prompts, completions, **kwargs):
        seen.append([reply_text(c) for c in completions])
        return [float(len(reply_text(c))) for c in completions]

    fns = [named("static", reply_length), fixed("reward_model", [0.0] * 6), fixed("missing_eos", [0.0] * 6)]
    stats = component_statistics(policy, tokenizer, PROMPTS, fns, samples=3, max_new_tokens=6, seed=0)
    assert set(stats) == {"static"} and stats["static"]["n"] == 6
    lengths = [len(t) for t in seen[0]]
    assert stats["static"]["mean"] == pytest.approx(sum(lengths) / 6)
    assert stats["static"]["std"] > 0
    assert component_statistics(policy, tokenizer, PROMPTS, fns, samples=3, max_new_tokens=6, seed=0) == stats
