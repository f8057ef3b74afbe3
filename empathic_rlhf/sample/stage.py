"""The ``sample`` stage: a policy + contexts -> comparison tasks in ``sample/tasks.jsonl``.

In the run: π (or ``sample.model``) on the held-out contexts of ``sample.split``. In a later round of ``--rounds N``:
the previous round's policy on the round's fresh contexts (none that an earlier round used), each task marked
with its round.
"""

from __future__ import annotations

from pathlib import Path

from ..stage import Context, InRounds, Stage


def model_of(config, run) -> str:
    """The model to sample from: ``sample.model`` when set, else the run's π."""
    return config.sample.model or str(run.stage_dir("sft") / "model")


def samples_path(config, run) -> Path:
    return Path(config.sample.samples_file or run.stage_dir("prepare") / f"{config.sample.split}.jsonl")


def needs(config) -> tuple[str, ...]:
    """The prepared split (unless a samples file is given) and π (unless another model is sampled)."""
    return ("prepare",) * (config.sample.samples_file is None) + ("sft",) * (config.sample.model is None)


def inputs(context: Context) -> dict[str, str]:
    config, run, later = context.config, context.run, context.round
    found = {"samples": str(samples_path(config, run))}
    if later is not None:  # which contexts are fresh depends on every earlier pool and on RL's held-out prompts
        found.update({"policy": later.policy,
                      "rl/prompts": str(run.stage_dir("prepare") / f"{config.rl.prompt_split}.jsonl")})
        found.update({f"pool/round{i}": str(folder.stage_dir("sample") / "tasks.jsonl")
                      for i, folder in enumerate(later.earlier, start=1)})
    elif Path(model_of(config, run)).is_dir():
        found["model"] = model_of(config, run)
    return found


def run(context: Context) -> dict:
    from ..generation.sampler import Sampler
    from .tasks import check_samples_exist, read_samples, sample_tasks

    config, run, later = context.config, context.run, context.round
    if later is None:
        samples = read_samples(check_samples_exist(samples_path(config, run)), config.sample.max_contexts)
        model = model_of(config, run)
        source = "sft" if config.sample.model is None else Path(config.sample.model).name
        prefix = f"{config.name}:{source}:s{config.seed}"
    else:
        samples, model = later.contexts(), later.policy
        source = f"rl-round{later.number - 1}"
        prefix = f"{config.name}:round{later.number}:{source}:s{config.seed}"
    sampler = Sampler.load(model, config.model.dialogue_format, params=config.sample)
    summary = sample_tasks(config.sample, sampler, samples, run.stage_dir("sample") / "tasks.jsonl",
                           seed=config.seed, source=source, model=model, task_prefix=prefix,
                           round_number=0 if later is None else later.number)
    if later is not None:
        summary.update({"contexts": len(samples), "policy": model})
    return {"outputs": ["sample/tasks.jsonl"], "summary": summary}


STAGE = Stage("sample", ("model", "sample"), inputs, run, needs=needs, command=("sample",),
              rounds=InRounds(keys=("contexts_per_round",)))
