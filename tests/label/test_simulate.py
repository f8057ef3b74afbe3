"""Simulated annotators (label/simulate.py): they go through the app's own assignment rules, reach the agreement
they are set to, resume without duplicates, and their labels never pass as human anywhere."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter

import pytest
from label_helpers import make_tasks, request, sqlite_at_revision, write_tasks

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.label.config import LabelConfig
from empathic_rlhf.label.simulate import simulate_labels
from empathic_rlhf.label.tasks import import_tasks

KAPPA_TOLERANCE = 0.08  # measured Fleiss kappa on 300 tasks x 3 raters: sd 0.02-0.03 over seeds (docs/labelling.md)


def varied_tasks(n: int, *, k: int = 3, prefix: str = "t", gold_every: int = 0, seed: int = 1) -> list[dict]:
    """Tasks whose candidates differ in length, so the ``length`` scorer (words) is a cheap, deterministic oracle
    that separates them; every ``gold_every``-th task is a gold task whose answer is its longest reply."""
    rng = random.Random(seed)
    tasks = make_tasks(n, k=k, prefix=prefix)
    for i, task in enumerate(tasks):
        lengths = rng.sample(range(1, 16), k)
        for cand, length in zip(task["candidates"], lengths):
            cand["text"] = " ".join(["word"] * length)
        if gold_every and i % gold_every == 0:
            task["answer"] = task["candidates"][lengths.index(max(lengths))]["cand_id"]
    return tasks


def quiet(fn, *args, **kwargs):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def label_rows(store):
    from sqlalchemy import select

    from empathic_rlhf.label.models import Annotator, Label, Task

    with store.read() as s:
        return s.execute(select(Task.task_id, Task.quota, Task.remaining, Task.gold_best, Annotator.name,
                                Annotator.kind, Label.best)
                         .join(Task, Task.id == Label.task_id).join(Annotator, Annotator.id == Label.annotator_id)
                         ).all()


def test_simulated_annotators_respect_quotas_overlap_and_gold(store, tmp_path):
    cfg = LabelConfig(overlap=1, calibration_overlap=3, calibration_fraction=0.3, gold_fraction=0.2)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(60, gold_every=10)), cfg)
    summary = quiet(simulate_labels, store, cfg, oracle="length", annotators=5, seed=3)
    rows = label_rows(store)
    per_task = Counter(r.task_id for r in rows)
    pairs = Counter((r.task_id, r.name) for r in rows)
    quota = {r.task_id: r.quota for r in rows}
    assert max(pairs.values()) == 1  # nobody labels a task twice
    ordinary = {t for t, q in quota.items() if q is not None}
    assert len(ordinary) == 54  # every ordinary task got labels ...
    assert all(per_task[t] == quota[t] for t in ordinary)  # ... exactly its quota (they ran until none was left)
    assert {quota[t] for t in ordinary} == {1, 3}  # both ordinary and calibration tasks were there
    gold = [r for r in rows if r.gold_best is not None]
    assert gold and all(r.quota is None and r.remaining is None for r in gold)  # gold served, no quota touched
    assert {r.kind for r in rows} == {"synthetic:length"}
    assert summary["labels_total"] == summary["labels_added"] == len(rows)
    assert summary["stopped"] == "no tasks left"
    # the oracle (longest reply) beats chance on gold tasks even through the kappa-0.4 noise (chance: 1/3)
    assert sum(r.best == r.gold_best for r in gold) / len(gold) > 1 / 3


def test_agreement_reaches_the_set_kappa(store, tmp_path):
    """300 calibration tasks, 3 labels each by 5 annotators: the measured Fleiss kappa lies within
    KAPPA_TOLERANCE (~3 sampling sd) of the 0.4 the temperature was fitted for."""
    cfg = LabelConfig(calibration_overlap=3, calibration_fraction=1.0, gold_fraction=0.0)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(300)), cfg)
    summary = quiet(simulate_labels, store, cfg, oracle="length", annotators=5, kappa=0.4, position_bias=0.3, seed=0)
    assert summary["expected_kappa"] == pytest.approx(0.4, abs=1e-3)
    assert summary["labels_total"] == 900
    ag = summary["agreement"]
    assert (ag["overlapping_tasks"], ag["fleiss"]["raters"], ag["fleiss"]["tasks"]) == (300, 3, 300)
    assert abs(ag["fleiss"]["kappa"] - 0.4) <= KAPPA_TOLERANCE
    cohen = [c["kappa"] for c in ag["cohen"]]
    assert len(cohen) == 10 and abs(sum(cohen) / len(cohen) - 0.4) <= KAPPA_TOLERANCE


def test_noise_follows_kappa(store, tmp_path):
    """A lower kappa means a higher temperature (noisier annotators), and a given temperature is used as is."""
    cfg = LabelConfig(calibration_fraction=1.0, gold_fraction=0.0)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(40)), cfg)
    low = quiet(simulate_labels, store, cfg, oracle="length", kappa=0.2, max_labels=0)
    high = quiet(simulate_labels, store, cfg, oracle="length", kappa=0.6, max_labels=0)
    fixed = quiet(simulate_labels, store, cfg, oracle="length", temperature=1.5, max_labels=0)
    assert low["temperature"] > high["temperature"]
    assert (fixed["temperature"], fixed["temperature_from"], fixed["kappa_target"]) == (1.5, "given", None)
    assert low["labels_total"] == high["labels_total"] == 0


def test_rerun_goes_on_without_duplicates_and_max_labels_is_a_total(store, tmp_path):
    cfg = LabelConfig(overlap=2, calibration_fraction=0.0, gold_fraction=0.0)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(30)), cfg)
    first = quiet(simulate_labels, store, cfg, oracle="length", annotators=3, max_labels=25)
    again = quiet(simulate_labels, store, cfg, oracle="length", annotators=3, max_labels=25)
    rest = quiet(simulate_labels, store, cfg, oracle="length", annotators=3)
    done = quiet(simulate_labels, store, cfg, oracle="length", annotators=3)
    assert (first["labels_added"], again["labels_added"], rest["labels_added"], done["labels_added"]) == (25, 0, 35, 0)
    rows = label_rows(store)
    assert len(rows) == 60 and max(Counter((r.task_id, r.name) for r in rows).values()) == 1
    assert set(Counter(r.task_id for r in rows).values()) == {2}


def test_killed_simulation_resumes_without_duplicates(tmp_path):
    """A real kill (SIGKILL) of `label simulate` part-way; the rerun finishes the quotas, nothing twice."""
    from empathic_rlhf.label.db import Store

    runs, cfg = tmp_path / "runs", LabelConfig(calibration_overlap=3, calibration_fraction=1.0, gold_fraction=0.0)
    url = f"sqlite:///{runs / 'r' / 'label' / 'label.db'}"
    (runs / "r" / "label").mkdir(parents=True)
    store = Store(url)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(250)), cfg)
    command = [sys.executable, "-m", "empathic_rlhf.label", "simulate", "--runs-dir", str(runs), "--name", "r",
               "--oracle", "length", "--annotators", "4", "--label.calibration_fraction=1.0", "--label.gold_fraction=0"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(label_rows(store)) < 100 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    killed_at = len(label_rows(store))
    assert 100 <= killed_at < 750, "the kill should land part-way through the 750 labels"
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = label_rows(store)
    assert len(rows) == 750 and max(Counter((r.task_id, r.name) for r in rows).values()) == 1
    assert f"simulated {750 - killed_at} labels (750 by synthetic:length in all" in done.stdout
    exported = [json.loads(line) for line in (runs / "r" / "label" / "labels.jsonl").read_text().splitlines()]
    assert len(exported) == 750 and {r["source"] for r in exported} == {"synthetic:length"}
    store.close()


def test_synthetic_labels_are_never_exported_as_human(store, tmp_path):
    from empathic_rlhf.label import assign
    from empathic_rlhf.label.auth import annotator_for, invite
    from empathic_rlhf.label.export import export, export_rows
    from empathic_rlhf.label.progress import stats

    cfg = LabelConfig(overlap=2, calibration_fraction=0.0, gold_fraction=0.0)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(10)), cfg)
    invite(store, "alice")
    with store.tx() as s:  # alice (a person) labels 3 tasks through the app's functions
        for _ in range(3):
            a, task = assign.next_assignment(s, 1, cfg)
            assign.submit(s, 1, request(assignment_id=a.id, task_id=task.task_id, outcome="best",
                                        best=a.shown_order[0]), cfg)
    quiet(simulate_labels, store, cfg, oracle="length", annotators=2)
    counts = export(store, tmp_path / "out")
    labels = [json.loads(x) for x in (tmp_path / "out" / "labels.jsonl").read_text().splitlines()]
    pairs = [json.loads(x) for x in (tmp_path / "out" / "pairs.jsonl").read_text().splitlines()]
    assert counts["labels"] == 20
    assert Counter((r["annotator"], r["source"]) for r in labels) == {
        ("alice", "human"): 3, ("sim:length:1", "synthetic:length"): 9, ("sim:length:2", "synthetic:length"): 8}
    assert {(p["annotator"] == "alice", p["source"]) for p in pairs} == {(True, "human"), (False, "synthetic:length")}
    admin_labels, admin_pairs, _ = export_rows(store)  # the admin page's downloads
    assert Counter(r["source"] for r in admin_labels) == {"human": 3, "synthetic:length": 17}
    assert all((p["source"] == "human") == (p["annotator"] == "alice") for p in admin_pairs)
    st = stats(store)  # the report keeps them apart
    assert st["overall"]["labels_by_kind"] == {"human": 3, "synthetic:length": 17}
    assert st["position_bias"]["best_labels"] == 3 and st["by_kind"]["synthetic:length"]["labels"] == 17
    assert st["agreement"]["overlapping_tasks"] == 0  # alice overlaps no other person: people's agreement is empty
    assert st["by_kind"]["synthetic:length"]["agreement"]["overlapping_tasks"] == 7
    # a simulated annotator has no invite link and cannot be given one
    from sqlalchemy import select

    from empathic_rlhf.label.models import Annotator
    with store.read() as s:
        hashes = list(s.scalars(select(Annotator.token_hash).where(Annotator.kind != "human")))
    assert len(hashes) == 2 and all(h.startswith("synthetic:") for h in hashes)
    with store.read() as s:
        assert annotator_for(s, "synthetic:" + hashes[0].removeprefix("synthetic:")) is None
    with pytest.raises(EmpathicError, match="is simulated"):
        invite(store, "sim:length:1", rotate=True)
    from empathic_rlhf.label.terminal import run_terminal  # nor can a person label as one in the terminal

    with pytest.raises(EmpathicError, match="is simulated"):
        run_terminal(store, cfg, "sim:length:2", ask=lambda _: "q", out=lambda *_: None)


def test_a_person_of_the_same_name_is_not_taken_over(store, tmp_path, cfg):
    from empathic_rlhf.label.auth import invite

    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(5)), cfg)
    invite(store, "sim:length:1")
    with pytest.raises(EmpathicError, match="exists with kind 'human'"):
        quiet(simulate_labels, store, cfg, oracle="length", annotators=1)


def _run_with_labels(tmp_path, sources: list[str]):
    """A run folder with sample/tasks.jsonl and a label export holding one label per source."""
    from empathic_rlhf.records import Label, Task, write_records
    from empathic_rlhf.rundir import RunDir

    run = RunDir(tmp_path / "run")
    tasks = [Task.model_validate(t) for t in varied_tasks(len(sources))]
    write_records(run.stage_dir("sample") / "tasks.jsonl", tasks)
    write_records(run.stage_dir("label") / "tasks.jsonl", tasks)
    write_records(run.stage_dir("label") / "labels.jsonl", [
        Label(task_id=t.task_id, annotator=f"a{i}", source=source, outcome="best", best="c0")
        for i, (t, source) in enumerate(zip(tasks, sources))])
    return run


@pytest.mark.parametrize("labels", ["human", "auto"])
def test_reward_stage_refuses_an_export_of_only_simulated_labels_as_human(tmp_path, labels):
    from empathic_rlhf.reward.stage import run as reward_stage
    from empathic_rlhf.run_config import RunConfig
    from empathic_rlhf.stage import Context

    run = _run_with_labels(tmp_path, ["synthetic:length"] * 3)
    config = RunConfig()
    config.reward.labels = labels
    with pytest.raises(EmpathicError, match=r"labels.jsonl: its 3 labels are all simulated \(synthetic:length\), "
                                            r"none human; set reward.labels: simulated"):
        reward_stage(Context(config, run))
    assert not run.stage_dir("reward").exists()  # refused before writing anything


def test_reward_label_sources_keep_human_and_simulated_apart(tmp_path):
    from empathic_rlhf.reward.stage import choose_labels
    from empathic_rlhf.run_config import RunConfig

    run = _run_with_labels(tmp_path, ["human", "synthetic:length", "synthetic:length", "human", "human"])
    config = RunConfig()
    config.reward.labels = "human"
    _, human, _ = quiet(choose_labels, config, run, [])
    config.reward.labels = "simulated"
    _, simulated, source = quiet(choose_labels, config, run, [])
    assert [x.source for x in human] == ["human"] * 3
    assert [x.source for x in simulated] == ["synthetic:length"] * 2 and source == "simulated"
    mixed = _run_with_labels(tmp_path / "m", ["synthetic:length", "synthetic:static"])
    with pytest.raises(EmpathicError, match="several oracles"):
        choose_labels(config, mixed, [])


@pytest.mark.parametrize("flags, message", [
    (["--oracle", "nosuch"], "unknown scorer 'nosuch'"),
    (["--oracle", "length", "--kappa", "1.5"], "--kappa must lie strictly between 0 and 1, got 1.5"),
    (["--oracle", "length", "--annotators", "0"], "--annotators must lie in 1..1000, got 0"),
    (["--oracle", "length", "--temperature", "-1"], "--temperature must be a positive number, got -1.0"),
    (["--oracle", "length", "--max-labels", "-3"], "--max-labels must be >= 0, got -3"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, flags, message):
    from empathic_rlhf.label.commands import main

    (tmp_path / "runs" / "r" / "label").mkdir(parents=True)
    cfg = LabelConfig()
    from empathic_rlhf.label.db import Store
    store = Store(f"sqlite:///{tmp_path / 'runs' / 'r' / 'label' / 'label.db'}")
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(5)), cfg)
    store.close()
    code = main(["simulate", "--runs-dir", str(tmp_path / "runs"), "--name", "r", *flags])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err


def test_cli_without_tasks_says_so(tmp_path, capsys):
    from empathic_rlhf.label.commands import main

    code = main(["simulate", "--runs-dir", str(tmp_path / "runs"), "--name", "r", "--oracle", "length"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no tasks imported; run `empathic label import` first" in err


def test_unreachable_kappa_is_one_clear_error(store, tmp_path, cfg):
    tasks = make_tasks(5)  # every reply has the same number of words: the length oracle cannot tell them apart
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", tasks), cfg)
    with pytest.raises(EmpathicError, match="--kappa 0.4: kappa 0.4 is out of reach on these tasks"):
        quiet(simulate_labels, store, cfg, oracle="length")


def test_upgrade_from_0002_marks_existing_annotators_human(tmp_path):
    from sqlalchemy import text

    from empathic_rlhf.label.db import Store

    url = sqlite_at_revision(tmp_path / "old.db", "0002", "INSERT INTO annotators (name, token_hash, is_admin, "
                             "created_at) VALUES ('old', 'h', 0, '2026-01-01')")
    store = Store(url)
    try:
        with store.read() as s:
            assert s.execute(text("SELECT name, kind FROM annotators")).all() == [("old", "human")]
    finally:
        store.close()


def test_simulated_annotators_on_postgres(postgres_url, tmp_path):
    """The same claim rules on PostgreSQL (SKIP LOCKED claims), in a database of its own, the migration included."""
    from sqlalchemy import create_engine, text

    from empathic_rlhf.label.db import Store

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS simulate_test"))
        conn.execute(text("CREATE DATABASE simulate_test"))
    admin.dispose()
    store = Store(postgres_url.rsplit("/", 1)[0] + "/simulate_test")
    try:
        cfg = LabelConfig(overlap=2, calibration_overlap=3, calibration_fraction=0.2, gold_fraction=0.1)
        import_tasks(store, write_tasks(tmp_path / "t.jsonl", varied_tasks(40, gold_every=8)), cfg)
        summary = quiet(simulate_labels, store, cfg, oracle="length", annotators=4, seed=1)
        rows = label_rows(store)
        assert max(Counter((r.task_id, r.name) for r in rows).values()) == 1
        per_task, quota = Counter(r.task_id for r in rows), {r.task_id: r.quota for r in rows}
        assert all(per_task[t] == q for t, q in quota.items() if q is not None)
        assert len([t for t, q in quota.items() if q is not None]) == 35
        assert summary["labels_total"] == len(rows) and {r.kind for r in rows} == {"synthetic:length"}
    finally:
        store.close()
