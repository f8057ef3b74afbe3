"""`empathic run --launcher accelerate`: the launch command it builds, and the flag errors (no processes started)."""

import sys

import pytest

from empathic_rlhf.cli import main
from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.pipeline.launch import AccelerateLauncher, shipped_config
from empathic_rlhf.reward.stage import STAGE as REWARD
from empathic_rlhf.stage import Context


def test_a_training_stage_is_launched_as_its_cli_command_with_the_written_config(tmp_path):
    launcher = AccelerateLauncher(num_processes=2, config_file="cpu_2proc", main_process_port=29600)
    command = launcher.command(REWARD, tmp_path / "config.yaml", force=True)
    assert command == [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch",
                       "--config_file", str(shipped_config("cpu_2proc")), "--num_processes", "2",
                       "--main_process_port", "29600", "-m", "empathic_rlhf.cli", "reward", "train",
                       "--config", str(tmp_path / "config.yaml"), "--force"]


def test_multi_node_flags_pass_through():
    launcher = AccelerateLauncher(num_processes=16, num_machines=2, machine_rank=0, main_process_ip="10.0.0.1",
                                  main_process_port=29500)
    assert launcher.accelerate_args() == ["--num_processes", "16", "--num_machines", "2", "--machine_rank", "0",
                                          "--main_process_ip", "10.0.0.1", "--main_process_port", "29500"]


@pytest.mark.parametrize("flags, message", [
    (["--num-processes", "2"], "--num-processes only apply with --launcher accelerate"),
    (["--launcher", "accelerate", "--machine-rank", "1"], "runs on machine rank 0 only"),
    (["--launcher", "accelerate", "--accelerate-config", "nope"], "nope: accelerate config file not found"),
    (["--launcher", "accelerate", "--accelerate-config", "deepspeed_zero2"], "pip install 'empathic-rlhf[deepspeed]'"),
])
def test_bad_launcher_flags_are_one_line_errors(flags, message, capsys, tmp_path):
    if "deepspeed_zero2" in flags and _has_deepspeed():
        pytest.skip("deepspeed is installed here: nothing is missing")
    assert main(["run", "--runs-dir", str(tmp_path), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_file_that_is_not_an_accelerate_config_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("distributed_type: MULTI_GPU\nnot_a_key: 1\n")
    with pytest.raises(EmpathicError, match="bad.yaml: not an accelerate config file"):
        AccelerateLauncher(config_file=str(bad))


def _has_deepspeed() -> bool:
    import importlib.util

    return importlib.util.find_spec("deepspeed") is not None


def test_a_reward_stage_waiting_for_human_labels_stops_before_launching(tmp_path, monkeypatch):
    from empathic_rlhf.errors import WaitingForLabels
    from empathic_rlhf.pipeline import launch
    from empathic_rlhf.reward.config import RewardConfig
    from empathic_rlhf.run_config import RunConfig

    def no_launch(*args, **kwargs):
        raise AssertionError("launched")

    monkeypatch.setattr(launch.subprocess, "run", no_launch)
    config = RunConfig(runs_dir=str(tmp_path), name="t", reward=RewardConfig(labels="human"))
    with pytest.raises(WaitingForLabels, match="waiting for human labels in .*label/labels.jsonl"):
        AccelerateLauncher(num_processes=2).run_stage(Context(config), REWARD)
