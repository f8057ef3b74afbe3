"""The ``sample`` stage of ``empathic run``: π + held-out contexts -> ``<run>/sample/tasks.jsonl``."""

from __future__ import annotations

from pathlib import Path


def model_of(config, run) -> str:
    """The model to sample from: ``sample.model`` when set, else the run's π."""
    return config.sample.model or str(run.stage_dir("sft") / "model")


def samples_path(config, run) -> Path:
    return Path(config.sample.samples_file or run.stage_dir("prepare") / f"{config.sample.split}.jsonl")


def needs(config) -> tuple[str, ...]:
    """The prepared split (unless a samples file is given) and π (unless another model is sampled)."""
    return ("prepare",) * (config.sample.samples_file is None) + ("sft",) * (config.sample.model is None)


def inputs(config, run) -> dict[str, str]:
    found = {"samples": str(samples_path(config, run))}
    if Path(model_of(config, run)).is_dir():
        found["model"] = model_of(config, run)
    return found


def run(config, run) -> dict:
    from ..generation.sampler import Sampler
    from .tasks import check_samples_exist, read_samples, sample_tasks

    samples = read_samples(check_samples_exist(samples_path(config, run)), config.sample.max_contexts)
    model = model_of(config, run)
    sampler = Sampler.load(model, config.model.dialogue_format, params=config.sample)
    source = "sft" if config.sample.model is None else Path(config.sample.model).name
    summary = sample_tasks(config.sample, sampler, samples, run.stage_dir("sample") / "tasks.jsonl",
                           seed=config.seed, source=source, model=model,
                           task_prefix=f"{config.name}:{source}:s{config.seed}")
    return {"outputs": ["sample/tasks.jsonl"], "summary": summary}
