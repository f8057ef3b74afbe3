"""The run config: one section per stage, loaded as profile < YAML file < command-line options < overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from .. import config as cfg
from ..data.config import DataConfig, PrepareConfig
from ..dpo.config import DpoConfig
from ..dyme.config import DymeConfig
from ..errors import EmpathicError
from ..evaluate.config import EvaluateConfig
from ..models.loading import ModelConfig
from ..reward.config import RewardConfig
from ..rl.config import RlConfig
from ..sample.config import SampleConfig
from ..sft.config import SftConfig

PROFILES = ("demo", "full")


@dataclass
class RunConfig:
    """Everything a run needs. Each stage reads its own section; ``model`` and ``data`` are shared."""

    name: str = field(default="demo", metadata={"help": "Run name: outputs go to <runs_dir>/<name>/."})
    runs_dir: str = field(default="runs", metadata={"help": "Folder holding the run directories."})
    profile: str = field(default="demo", metadata={
        "help": "demo: a small subset that finishes on a laptop CPU (a smoke demo, not a result). full: all the "
                "data and the seed's settings, for a GPU."})
    seed: int = field(default=0, metadata={"help": "Random seed for every stage."})
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    prepare: PrepareConfig = field(default_factory=PrepareConfig)
    sft: SftConfig = field(default_factory=SftConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    rl: RlConfig = field(default_factory=RlConfig)
    dpo: DpoConfig = field(default_factory=DpoConfig)
    dyme: DymeConfig = field(default_factory=DymeConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)

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
    chosen = profile or override_layer.get("profile") or file_layer.get("profile") or "demo"
    return cfg.load(RunConfig, layers=[profile_layer(chosen), file_layer, options or {}, override_layer])
