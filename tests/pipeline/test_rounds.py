"""Rounds (rounds.count > 1) on a tiny GPT-2: a kill between rounds and inside a round resumes where it stopped,
data flows forward (fresh contexts, labels so far, warm starts, RL from the last policy with the KL to π), evaluate
reads the last round's policy, the report shows every round, and human labelling stops each round."""

import contextlib
import io
import json
import shutil
from dataclasses import replace

import pytest

from helpers import write_jsonl
from planted import synthetic_conversations

from empathic_rlhf.cli import main
from empathic_rlhf.pipeline import rounds, run as pipeline_run
from empathic_rlhf.pipeline.stages import ROUND_STAGES, STAGES

TINY = [
    "--sft.method=full", "--sft.max_steps=2", "--sft.eval_steps=2", "--sft.per_device_train_batch_size=4",
    "--sft.learning_rate=0.001",
    "--sample.max_contexts=16", "--sample.k=2", "--sample.max_new_tokens=6", "--sample.batch_size=8",
    "--reward.max_steps=3", "--reward.batch_size=4", "--reward.learning_rate=0.001", "--reward.heldout_fraction=0.3",
    "--reward.empathy_probe=0",
    # a reward model on the tiny model's own backbone: the demo profile's MiniLM gave the tiny model's replies one
    # score, so RL had nothing to climb
    "--reward.backbone=policy", "--reward.method=lora",
    "--reward.hard_negatives=0",
    # every checkpoint is kept (a negative z) and truncated replies train too, so round 1's policy moves away from
    # π and the KL to π can be checked
    "--rl.max_steps=2", "--rl.eval_steps=1", "--rl.eval_prompts=2", "--rl.report_prompts=4", "--rl.prompts_per_step=2",
    "--rl.num_generations=2", "--rl.max_completion_length=6", "--rl.max_prompts=8", "--rl.learning_rate=0.001",
    "--rl.selection_z=-1000", "--rl.kl_budget=1000", "--rl.normalize_prompts=2", "--rl.mask_truncated_completions=false",
    "--dpo.max_steps=1", "--dpo.batch_size=4",
    "--evaluate.max_samples=2", "--evaluate.max_new_tokens=4", "--evaluate.models=[sft,rl]",
    "--evaluate.bootstrap_resamples=100", "--evaluate.empathy=skip",
    "--rounds.count=2", "--rounds.contexts_per_round=8", "--rounds.labeller=simulated", "--rounds.oracle=length",
    "--rounds.annotators=2", "--acquire.budget=6", "--acquire.rule=bald", "--acquire.min_distance=0",
    "--acquire.max_per_conversation=2",
]
MAIN_STAGES = ("prepare", "sft", "sample", "reward", "rl", "rounds", "dpo", "evaluate", "report")


class Killed(Exception):
    """Stands in for a kill: raised by a stage before it writes anything."""


def run_logged(args, *, kill_at: str | None = None) -> tuple[int | None, str, str]:
    """``empathic <args>`` with stdout/stderr captured; ``kill_at`` makes that round stage raise when it starts."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if kill_at is not None:
            def killed(r):
                raise Killed(f"round {r.number} {kill_at}")
            stages = tuple(replace(s, run=killed) if s.name == kill_at else s for s in ROUND_STAGES)
            patch.setattr(pipeline_run, "STAGES", tuple(rounds.rounds_stage(stages) if s.name == "rounds" else s
                                                        for s in STAGES))
        try:
            code = main(args)
        except Killed:
            code = None
    return code, out.getvalue(), err.getvalue()


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def two_rounds(tiny_gpt2_dir, tmp_path_factory):
    """A 2-round run, killed first between the rounds (at round 2's sample), then inside round 2 (at its label
    stage, after sample and acquire finished), then run to the end, then run once more."""
    root = tmp_path_factory.mktemp("rounds")
    data = root / "data"
    write_jsonl(data / "train.jsonl", synthetic_conversations(12, "train"))
    write_jsonl(data / "valid.jsonl", synthetic_conversations(24, "valid", offset=100))
    write_jsonl(data / "test.jsonl", synthetic_conversations(4, "test", offset=200))
    args = ["run", "--runs-dir", str(root / "runs"), "--name", "r", "--data-dir", str(data),
            "--base-model", str(tiny_gpt2_dir), "--profile", "demo", *TINY]
    run = root / "runs" / "r"
    logs = {"between": run_logged(args, kill_at="sample")}
    logs["round 2 after the first kill"] = sorted(p.name for p in (run / "rounds" / "2").glob("*"))
    logs["inside"] = run_logged(args, kill_at="label")
    logs["finish"], logs["again"] = run_logged(args), run_logged(args)
    return run, args, logs


def test_kill_between_rounds_and_inside_a_round_resumes_where_it_stopped(two_rounds):
    run, _, logs = two_rounds
    code, _, err = logs["between"]
    assert code is None and "[rl] done" in err and "[round 2 sample] running" in err
    assert logs["round 2 after the first kill"] == []  # nothing of round 2 was written
    code, _, err = logs["inside"]
    assert code is None
    for stage in ("prepare", "sft", "sample", "reward", "rl"):
        assert f"[{stage}] up to date, skipped" in err, stage
    assert "[round 2 sample] running" in err and "[round 2 acquire] done" in err and "[round 2 label] running" in err
    code, _, err = logs["finish"]
    assert code == 0
    assert "[round 2 sample] up to date, skipped" in err and "[round 2 acquire] up to date, skipped" in err
    for stage in ("label", "reward", "rl"):
        assert f"[round 2 {stage}] done" in err, stage
    manifest = json.loads((run / "rounds" / "2" / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["sample", "acquire", "label", "reward", "rl"]
    code, _, err = logs["again"]
    assert code == 0 and err.count("up to date, skipped") == len(MAIN_STAGES) and "[round 2" not in err
    assert list(json.loads((run / "manifest.json").read_text())["stages"]) == list(MAIN_STAGES)


def test_round_two_samples_fresh_contexts_from_round_one_policy(two_rounds):
    run, _, _ = two_rounds
    first = read_jsonl(run / "sample" / "tasks.jsonl")
    pool = read_jsonl(run / "rounds" / "2" / "sample" / "tasks.jsonl")
    assert len(pool) == 8 and {t["round"] for t in pool} == {2}
    assert {c["source"] for t in pool for c in t["candidates"]} == {"rl-round1"}
    assert {t["sampling"]["model"] for t in pool} == {str(run / "rl" / "model")}
    assert not {t["conv_id"] for t in pool} & {t["conv_id"] for t in first}
    from empathic_rlhf.pipeline.round_data import heldout_conv_ids
    from empathic_rlhf.run_config import load_run_config
    from empathic_rlhf.rundir import RunDir

    config = load_run_config(config_file=str(run / "config.yaml"))
    held = heldout_conv_ids(config, RunDir(run))
    assert held and not {t["conv_id"] for t in pool} & held
    chosen = read_jsonl(run / "rounds" / "2" / "acquire" / "tasks.jsonl")
    assert len(chosen) == 6 and {t["task_id"] for t in chosen} <= {t["task_id"] for t in pool}


def test_simulated_labels_accumulate_forward_and_warm_start_the_reward_model(two_rounds):
    run, _, _ = two_rounds
    r2 = run / "rounds" / "2"
    chosen = {t["task_id"] for t in read_jsonl(r2 / "acquire" / "tasks.jsonl")}
    new = read_jsonl(r2 / "label" / "labels.jsonl")
    assert new and {label["source"] for label in new} == {"synthetic:length"}
    assert {label["task_id"] for label in new} <= chosen
    # round 1 learned from the gold-vs-policy bootstrap: its labels are not carried, the warm start carries them
    assert {label["source"] for label in read_jsonl(run / "reward" / "labels.jsonl")} == {"gold-vs-policy"}
    so_far = read_jsonl(r2 / "reward" / "labels.jsonl")
    assert sorted(json.dumps(x, sort_keys=True) for x in so_far) == sorted(json.dumps(x, sort_keys=True) for x in new)
    summary = json.loads((r2 / "manifest.json").read_text())["stages"]["reward"]["summary"]
    assert summary["warm_start"] == str(run / "reward" / "model")
    assert summary["labels_new"] == len(new) and summary["labels_not_carried"] == 16
    metrics = json.loads((r2 / "reward" / "metrics.json").read_text())
    pairs = sum(len(read_jsonl(r2 / "reward" / "pairs" / f"{s}.jsonl")) for s in ("train", "heldout"))
    assert metrics["pairs"]["train"] + metrics["pairs"]["test"] == pairs > 0


def test_warm_start_is_the_previous_reward_model_head_included(two_rounds):
    """reward.init_model loads the trained weights and scalar head (a fresh head on π would score otherwise)."""
    from empathic_rlhf.reward.model import RewardModel, load_backbone, load_warm_start

    run, _, _ = two_rounds
    prompts = [[{"role": "user", "content": "My dog died last week."}]] * 2
    replies = ["I am so sorry to hear that.", "Cool, tell me more."]
    saved = RewardModel.load(run / "reward" / "model").score(prompts, replies, normalized=False)
    warm = RewardModel(*load_warm_start(run / "reward" / "model"))
    warm.model.eval()
    fresh = RewardModel(*load_backbone(str(run / "sft" / "model")))
    fresh.model.eval()
    assert warm.score(prompts, replies, normalized=False) == pytest.approx(saved, abs=1e-6)
    assert fresh.score(prompts, replies, normalized=False) != pytest.approx(saved, abs=1e-3)


def test_rl_continues_from_the_last_policy_with_the_kl_to_pi(two_rounds):
    """Round 2's first held-out check is round 1's kept policy, measured against π: the same KL as round 1
    measured for it on the same prompts and seed (were the reference round 1's policy, it would be 0)."""
    run, _, _ = two_rounds
    kept = json.loads((run / "rl" / "metrics.json").read_text())["kept"]
    # the KL estimate (mean log-ratio of 8 sampled replies) is signed: what matters is that it is not 0
    assert kept["step"] == 2 and abs(kept["heldout_kl"]) > 1e-4
    start = read_jsonl(run / "rounds" / "2" / "rl" / "heldout.jsonl")[0]
    assert start["step"] == 0
    assert start["heldout_kl"] == pytest.approx(kept["heldout_kl"], rel=1e-3, abs=1e-5)
    # every check, in every round, measures the policy's perplexity on the selection prompts' human replies: the
    # same prompts and replies, so round 2's start (round 1's kept policy) repeats round 1's number for it
    checks = read_jsonl(run / "rl" / "heldout.jsonl") + read_jsonl(run / "rounds" / "2" / "rl" / "heldout.jsonl")
    assert all(check["perplexity"] > 1.0 for check in checks)
    assert start["perplexity"] == pytest.approx(kept["perplexity"], rel=1e-4)


def test_evaluate_reads_the_last_round_and_the_report_shows_every_round(two_rounds):
    run, _, _ = two_rounds
    evaluated = json.loads((run / "manifest.json").read_text())["stages"]["evaluate"]["input_paths"]
    assert evaluated["model/rl"] == str(run / "rounds" / "2" / "rl" / "model")
    rows = json.loads((run / "rounds" / "summary.json").read_text())["rounds"]
    assert [r["round"] for r in rows] == [1, 2]
    assert rows[0]["label_source"] == "gold-vs-policy" and rows[1]["label_source"] == "synthetic:length"
    assert rows[1]["labels"] == len(read_jsonl(run / "rounds" / "2" / "reward" / "labels.jsonl"))
    for row in rows:
        assert 0 <= row["reward_accuracy"] <= 1 and row["rl_report_prompts"] == 4, row
        assert row["rl_gain_se"] >= 0 and row["kl"] is not None, row
    html = (run / "report.html").read_text()
    table = html.split("<h2>Rounds</h2>")[1].split("</table>")[0]
    assert table.count("<tr>") == 3 and "synthetic:length" in table and "gold-vs-policy" in table


def test_a_round_config_leaves_count_out_so_more_rounds_keep_the_done_ones(two_rounds):
    from empathic_rlhf.run_config import load_run_config

    run, _, _ = two_rounds
    two = load_run_config(config_file=str(run / "config.yaml"))
    three = load_run_config(config_file=str(run / "config.yaml"), overrides=["--rounds.count=3"])
    own = tuple(stage.name for stage in ROUND_STAGES)
    for stage in ROUND_STAGES:
        assert (rounds.Round(two, 2, own).context().stage_hash(stage)
                == rounds.Round(three, 2, own).context().stage_hash(stage)), stage


def test_human_rounds_stop_for_labels_then_go_on_from_the_export(two_rounds, tmp_path):
    """labeller=human: round 2 imports its chosen tasks into the run's label database and stops with the commands
    to collect labels; once an export is in rounds/2/label/ the round goes on from it."""
    from sqlalchemy import func, select

    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.models import Task as TaskRow

    run, args, _ = two_rounds
    copy = tmp_path / "runs" / "r"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "rounds" / "2" / "label")
    args = [str(copy.parent) if a == str(run.parent) else a for a in args]
    args += ["--rounds.labeller=human", "--until=rounds"]
    code, out, err = run_logged(args)
    assert code == 0 and "round 2: waiting for human labels of its 6 chosen tasks" in out
    assert f"empathic label export --name r --runs-dir {copy.parent} --out {copy / 'rounds' / '2' / 'label'}" in out
    store = Store(f"sqlite:///{copy / 'label' / 'label.db'}")
    with store.read() as s:
        assert s.execute(select(func.count()).select_from(TaskRow)).scalar_one() == 6
    store.close()
    chosen = read_jsonl(copy / "rounds" / "2" / "acquire" / "tasks.jsonl")
    labels = [{"task_id": t["task_id"], "annotator": f"ann{a}", "source": "human", "outcome": "best",
               "best": t["candidates"][a % 2]["cand_id"]} for t in chosen for a in range(2)]
    write_jsonl(copy / "rounds" / "2" / "label" / "labels.jsonl", labels)
    write_jsonl(copy / "rounds" / "2" / "label" / "tasks.jsonl", chosen)
    code, out, err = run_logged(args)
    assert code == 0 and "[round 2 label] done" in err and "[round 2 reward] done" in err and "[round 2 rl] done" in err
    so_far = read_jsonl(copy / "rounds" / "2" / "reward" / "labels.jsonl")
    assert len(so_far) == 12 and {label["source"] for label in so_far} == {"human"}


def test_the_evening_settings_file_runs_one_simulated_round_end_to_end(tiny_gpt2_dir, tmp_path):
    """examples/evening.yaml (docs/evening.md) over a run, on the tiny model: one round, five simulated annotators
    labelling through the app's database with overlap 2, the reward model warm-started, RL continued."""
    from pathlib import Path

    evening = Path(__file__).resolve().parents[2] / "examples" / "evening.yaml"
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", synthetic_conversations(12, "train"))
    write_jsonl(data / "valid.jsonl", synthetic_conversations(24, "valid", offset=100))
    write_jsonl(data / "test.jsonl", synthetic_conversations(4, "test", offset=200))
    sizes = [a for a in TINY if not a.startswith(("--rounds.", "--acquire."))]
    # the evening's sizes cut to the tiny data; its people (5 annotators, kappa 0.4, bias 0.3, overlap 2) kept
    args = ["run", "--runs-dir", str(tmp_path / "runs"), "--name", "e", "--data-dir", str(data), "--base-model",
            str(tiny_gpt2_dir), "--profile", "demo", "--config", str(evening), *sizes,
            # the whole tiny pool: a subset of its tasks may hold too many length ties for kappa 0.4 to be reachable
            "--rounds.oracle=length", "--rounds.contexts_per_round=8", "--acquire.budget=8",
            "--acquire.min_distance=0", "--acquire.max_per_conversation=2", "--label.calibration_fraction=0",
            "--reward.hard_negatives=6",  # as the results profile: round 2 replays them beside its labels
            "--until=rounds"]  # the evening ends with the round's policy (evaluate is tested above)
    code, _, err = run_logged(args)
    assert code == 0, "\n".join([line for line in err.splitlines() if line.startswith(("[", "error", "Error"))][-6:])
    r2 = tmp_path / "runs" / "e" / "rounds" / "2"
    labels = read_jsonl(r2 / "label" / "labels.jsonl")
    assert len(labels) == 8 * 2  # every chosen task labelled by two different people
    by_task: dict = {}
    for label in labels:
        by_task.setdefault(label["task_id"], set()).add(label["annotator"])
    assert all(len(people) == 2 for people in by_task.values())
    assert len({label["annotator"] for label in labels}) == 5
    config = json.loads((r2 / "manifest.json").read_text())["stages"]["label"]["summary"]
    assert config["labeller"] == "simulated"
    assert (r2 / "reward" / "model" / "config.json").is_file() and (r2 / "rl" / "model" / "config.json").is_file()
    replayed = read_jsonl(r2 / "reward" / "pairs" / "negatives.jsonl")
    assert replayed == read_jsonl(tmp_path / "runs" / "e" / "reward" / "pairs" / "negatives.jsonl") and replayed
    metrics = json.loads((r2 / "reward" / "metrics.json").read_text())
    assert metrics["counts"]["hard_negatives"] == len(replayed)
    assert metrics["pairs"]["train"] == len(read_jsonl(r2 / "reward" / "pairs" / "train.jsonl")) + len(replayed)
    summary = json.loads((tmp_path / "runs" / "e" / "rounds" / "summary.json").read_text())
    assert [row["round"] for row in summary["rounds"]][-1] == 2
