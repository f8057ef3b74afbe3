"""The ``empathy`` component (EPITOME scorer) and the config's list of components."""

import sys
import types

import numpy as np
import pytest

from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.rl.rewards import component_reward


def test_empathy_component_scores_history_and_reply_with_the_epitome_scorer(monkeypatch):
    calls = []

    def shared_scorer():
        def scorer(histories, replies):
            calls.append((histories, replies))
            # a real function of the reply: 2 for a question, 1 for "sorry", else 0
            empathy = np.array([2.0 if "?" in r else 1.0 if "sorry" in r else 0.0 for r in replies])
            return {key: empathy for key in ("empathy", "er", "ip", "ex", "emotion_fit")}
        return scorer

    # the registry loads the EPITOME scorer lazily, once per process, by this contract
    monkeypatch.setitem(sys.modules, "empathic_rlhf.empathy.scorer", types.SimpleNamespace(shared_scorer=shared_scorer))
    fn = component_reward("empathy")
    assert fn.__name__ == "empathy"  # TRL logs rewards/empathy/mean
    prompts = [[{"role": "system", "content": "emotion: sad"}, {"role": "user", "content": "My dog died."}],
               [{"role": "user", "content": "I lost it."}, {"role": "assistant", "content": "Oh no."},
                {"role": "user", "content": "My wallet."}]]
    completions = [[{"role": "assistant", "content": "I am so sorry."}], [{"role": "assistant", "content": "Where?"}]]
    scores = fn(prompts=prompts, completions=completions, completion_ids=[[1], [2]])
    assert scores == [1.0, 2.0] and all(type(s) is float for s in scores)
    assert calls == [([["My dog died."], ["I lost it.", "Oh no.", "My wallet."]], ["I am so sorry.", "Where?"])]


def test_config_accepts_empathy_and_names_the_components_on_a_typo():
    assert RlConfig(rewards={"empathy": 1.0, "reward_model": 1.0}).rewards == {"empathy": 1.0, "reward_model": 1.0}
    with pytest.raises(ValueError, match="reward_model, static, dyme, empathy"):
        RlConfig(rewards={"empathi": 1.0})


def test_the_pmi_component_scores_with_the_runs_sft_model(tiny_gpt2_dir, tmp_path):
    """``rl.rewards: {pmi: 1}``: the context PMI under the run's own sft/model, as the registry computes it."""
    import shutil
    from types import SimpleNamespace

    from empathic_rlhf.rl.stage import reward_functions
    from empathic_rlhf.scorers import column_scorer

    shutil.copytree(tiny_gpt2_dir, tmp_path / "sft" / "model")
    run = SimpleNamespace(stage_dir=lambda name: tmp_path / name)
    config = SimpleNamespace(rl=RlConfig(rewards={"pmi": 1.0}, missing_eos_penalty=0.0), static_reward=None)
    fns, weights = reward_functions(config, run, eos_token_id=0)
    prompts = [[{"role": "user", "content": "My dog died."}], [{"role": "user", "content": "I won!"}]]
    replies = ["I am so sorry.", "Congratulations!"]
    scores = fns[0](prompts=prompts, completions=[[{"role": "assistant", "content": r}] for r in replies],
                    completion_ids=[[1], [2]])
    assert len(fns) == 1 and weights == [1.0] and fns[0].__name__ == "pmi"
    assert scores == pytest.approx(column_scorer(f"pmi:{tmp_path / 'sft' / 'model'}")(prompts, replies).tolist())
    with pytest.raises(Exception, match="no pmi model; run `empathic sft` first"):
        reward_functions(config, SimpleNamespace(stage_dir=lambda name: tmp_path / "empty" / name), 0)
