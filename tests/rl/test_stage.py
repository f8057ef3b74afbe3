"""The RL stage's prompts: training, selection and report sets are disjoint and exclude labelled contexts."""

import pytest

from helpers import write_jsonl

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.rl.stage import needs, rl_prompts
from empathic_rlhf.rundir import RunDir
from empathic_rlhf.run_config import RunConfig


def prepared_run(tmp_path, n):
    run = RunDir(tmp_path / "run")
    write_jsonl(run.stage_dir("prepare") / "valid.jsonl",
                [{"sample_id": f"s{i}", "conv_id": f"c{i}", "prompt": [{"role": "user", "content": f"context {i}"}],
                  "completion": [{"role": "assistant", "content": "ok"}]} for i in range(n)])
    write_jsonl(run.stage_dir("sample") / "tasks.jsonl", [{"task_id": "t1", "conv_id": "c0"},
                                                          {"task_id": "t2", "conv_id": "c5"}])
    return run


def test_selection_and_report_sets_are_disjoint_held_out_tails(tmp_path):
    run = prepared_run(tmp_path, 20)
    config = RunConfig(rl=RlConfig(eval_prompts=3, report_prompts=4))
    train, selection, report = rl_prompts(config, run)
    texts = lambda prompts: [p[0]["content"] for p in prompts]  # noqa: E731
    assert (len(train), len(selection), len(report)) == (11, 3, 4)  # 18 unlabelled contexts
    assert texts(selection) == ["context 13", "context 14", "context 15"]
    assert texts(report) == ["context 16", "context 17", "context 18", "context 19"]
    assert "context 0" not in texts(train) and "context 5" not in texts(train)  # labelled contexts excluded


def test_a_small_prompt_set_cuts_the_report_set_to_half_of_the_rest(tmp_path, capsys):
    run = prepared_run(tmp_path, 12)  # 10 unlabelled
    train, selection, report = rl_prompts(RunConfig(rl=RlConfig(eval_prompts=2, report_prompts=16)), run)
    assert (len(train), len(selection), len(report)) == (4, 2, 4)
    assert "report set cut to 4 (rl.report_prompts=16)" in capsys.readouterr().err


def test_too_few_prompts_for_the_selection_set_is_a_clear_error(tmp_path):
    run = prepared_run(tmp_path, 6)  # 4 unlabelled
    with pytest.raises(EmpathicError, match="valid.jsonl: only 4 prompts left.*rl.eval_prompts \\+ 1 = 4"):
        rl_prompts(RunConfig(rl=RlConfig(eval_prompts=3, report_prompts=4)), run)


def test_the_empathy_component_needs_no_stage():
    assert needs(RunConfig(rl=RlConfig(rewards={"empathy": 1.0, "reward_model": 1.0}))) == ("sft", "reward")
