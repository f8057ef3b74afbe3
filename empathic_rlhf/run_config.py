"""The run config: one section per stage, loaded as defaults < profile < YAML file < command-line options <
``--section.key=value`` overrides (one loader: :func:`empathic_rlhf.config.load`).

It sits below the stage commands and the pipeline: it imports only the stages' config dataclasses (leaf modules),
so any command can resolve a run's config without importing ``pipeline``."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from . import config as cfg
from .acquire.config import AcquireConfig
from .data.config import DataConfig
from .dpo.config import DpoConfig
from .dyme.config import DymeConfig
from .errors import EmpathicError
from .evaluate.config import EvaluateConfig
from .label.config import LabelConfig
from .metrics.config import StaticRewardConfig
from .models.config import ModelConfig
from .rounds_config import RoundsConfig
from .prepare.config import PrepareConfig
from .reward.config import RewardConfig
from .rl.config import RlConfig
from .sample.config import SampleConfig
from .sft.config import SftConfig

PROFILES = ("demo", "results", "full")
DEFAULT_PROFILE = "demo"  # what a command uses without --profile (or a profile: key in its --config file)


@dataclass
class RunConfig:
    """Everything a run needs. Each stage reads its own section; ``model`` and ``data`` are shared."""

    name: str = field(default="demo", metadata={"help": "Run name: outputs go to <runs_dir>/<name>/."})
    runs_dir: str = field(default="runs", metadata={"help": "Folder holding the run directories."})
    profile: str = field(default=DEFAULT_PROFILE, metadata={
        "help": "demo: a small subset that finishes on a laptop CPU (a smoke demo, not a result). results: sized for "
                "real numbers in about two hours of a laptop CPU. full: all the data and the seed's settings, for a "
                "GPU."})
    seed: int = field(default=0, metadata={"help": "Random seed for every stage."})
    keep_checkpoints: bool = field(default=False, metadata={
        "help": "Keep each training stage's checkpoints (weights + optimizer state, ~3x the model each) after the "
                "stage finished. By default they are removed once the stage is recorded: only an interrupted stage "
                "resumes from them, and they are most of a run's disk (docs/design.md, 'Disk')."})
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    prepare: PrepareConfig = field(default_factory=PrepareConfig)
    sft: SftConfig = field(default_factory=SftConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    acquire: AcquireConfig = field(default_factory=AcquireConfig)
    label: LabelConfig = field(default_factory=LabelConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    rl: RlConfig = field(default_factory=RlConfig)
    dpo: DpoConfig = field(default_factory=DpoConfig)
    static_reward: StaticRewardConfig = field(default_factory=StaticRewardConfig)
    dyme: DymeConfig = field(default_factory=DymeConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    rounds: RoundsConfig = field(default_factory=RoundsConfig)

    def __post_init__(self):
        self.check_extras()

    def check_extras(self) -> None:
        """Settings that need an optional package fail at load time, naming the extra to install."""
        from .extras import require

        for section in ("sample", "evaluate"):
            if getattr(self, section).backend == "ctranslate2":
                require("ct2", f"{section}.backend=ctranslate2")
            if getattr(self, section).backend == "vllm":
                require("gpu", f"{section}.backend=vllm")
        if self.rl.use_vllm:
            require("gpu", "rl.use_vllm=true (TRL's vLLM rollouts)")
        for section in ("sft", "rl", "dpo"):
            if "tensorboard" in getattr(self, section).report_to:
                require("tensorboard", f"{section}.report_to=[tensorboard]")
        if self.label.db.startswith("postgresql"):
            require("postgres", "a PostgreSQL label database (label.db)")

    @property
    def run_path(self) -> Path:
        return Path(self.runs_dir) / self.name


def profile_layer(profile: str) -> dict:
    """The settings a profile changes (``profiles/<profile>.yaml`` inside the package)."""
    if profile not in PROFILES:
        raise EmpathicError(f"unknown profile {profile!r} (expected one of {', '.join(PROFILES)})")
    text = resources.files("empathic_rlhf").joinpath(f"profiles/{profile}.yaml").read_text(encoding="utf-8")
    return {**(yaml.safe_load(text) or {}), "profile": profile}


def load_run_config(*, profile: str | None = None, config_file: str | None = None,
                    options: dict | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Resolve a :class:`RunConfig`; later layers win. ``options`` are the command's own flags (e.g. data_dir)."""
    file_layer = cfg.read_yaml(config_file) if config_file else {}
    override_layer = cfg.parse_overrides(overrides or [])
    chosen = profile or override_layer.get("profile") or file_layer.get("profile") or DEFAULT_PROFILE
    return cfg.load(RunConfig, layers=[profile_layer(chosen), file_layer, options or {}, override_layer])
