"""Every reward component (the reward model included) is standardised on the same π rollouts, drawn as RL draws
them; only the explicit missing-end-of-reply penalty keeps its value."""

import pytest

from empathic_rlhf.rl.normalize import component_statistics, standardised
from empathic_rlhf.rl.rewards import named, reply_text

PROMPTS = [[{"role": "user", "content": "My dog died last week."}], [{"role": "user", "content": "I got the job!"}]]


def fixed(name, values):
    return named(name, lambda prompts, completions, **kwargs: list(values))


def test_standardised_applies_mean_and_std_only_where_statistics_exist():
    dyme, rm, flat = fixed("dyme", [1.0, 3.0]), fixed("reward_model", [1.0, 3.0]), fixed("static", [2.0, 2.0])
    eos = fixed("missing_eos", [0.0, -1.0])
    stats = {"dyme": {"mean": 2.0, "std": 0.5}, "reward_model": {"mean": 1.0, "std": 2.0},
             "static": {"mean": 2.0, "std": 0.0}}
    out = standardised([dyme, rm, flat, eos], stats)
    assert [fn.__name__ for fn in out] == ["dyme", "reward_model", "static", "missing_eos"]  # TRL logs rewards/<name>
    assert out[0](prompts=PROMPTS, completions=[]) == [-2.0, 2.0]
    assert out[1](prompts=PROMPTS, completions=[]) == [0.0, 1.0]  # the reward model too
    assert out[2] is flat and out[3] is eos  # no spread / no statistics: unchanged


def test_every_component_is_measured_on_the_same_rollouts(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    policy, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    seen = {}

    def recording(name, score):
        def fn(prompts, completions, completion_ids, **kwargs):
            seen[name] = ([reply_text(c) for c in completions], [len(i) for i in completion_ids])
            return [score(reply_text(c)) for c in completions]
        return named(name, fn)

    fns = [recording("static", lambda t: float(len(t))), recording("reward_model", lambda t: float(t.count(" "))),
           recording("missing_eos", lambda t: 0.0)]
    stats = component_statistics(policy, tokenizer, PROMPTS, fns, samples=3, max_new_tokens=6, seed=0)
    assert set(stats) == {"static", "reward_model"} and "missing_eos" not in seen
    assert seen["static"] == seen["reward_model"]  # one set of replies for all components
    replies, lengths = seen["static"]
    assert len(replies) == 6 and max(lengths) <= 6
    assert stats["static"]["n"] == 6 and stats["static"]["mean"] == pytest.approx(sum(map(len, replies)) / 6)
    assert stats["static"]["std"] > 0
    assert component_statistics(policy, tokenizer, PROMPTS, fns, samples=3, max_new_tokens=6, seed=0) == stats
