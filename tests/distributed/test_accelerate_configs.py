"""Every shipped accelerate config loads (YAML, then accelerate's own config class) and says what its name says."""

from pathlib import Path

import pytest
import yaml

from empathic_rlhf.pipeline.launch import CONFIGS_DIR, shipped_config

# file -> (distributed type, processes, ZeRO stage or FSDP version)
EXPECTED = {
    "single_gpu": ("NO", 1, None),
    "multi_gpu_ddp": ("MULTI_GPU", 8, None),
    "deepspeed_zero2": ("DEEPSPEED", 8, 2),
    "deepspeed_zero3": ("DEEPSPEED", 8, 3),
    "fsdp": ("FSDP", 8, 2),
    "cpu_2proc": ("MULTI_GPU", 2, None),  # torchrun's launcher; gloo on CPU (see the file's comment)
}


def test_exactly_the_documented_files_ship():
    assert sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml")) == sorted(EXPECTED)


def test_the_package_data_ships_them():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"accelerate_configs/*.yaml"' in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_config_loads_with_accelerate(name):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    path = shipped_config(name)
    raw = yaml.safe_load(path.read_text())
    loaded = load_config_from_file(str(path))  # what `accelerate launch --config_file` reads; unknown keys raise
    assert isinstance(loaded, ClusterConfig)
    kind, processes, level = EXPECTED[name]
    assert (loaded.distributed_type.value, loaded.num_processes) == (kind, processes)
    assert loaded.mixed_precision == "no" and raw["mixed_precision"] == "no"  # bf16: empathic's one rule decides
    if kind == "DEEPSPEED":
        assert loaded.deepspeed_config["zero_stage"] == level
    if kind == "FSDP":
        assert loaded.fsdp_config["fsdp_version"] == level
