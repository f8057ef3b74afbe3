"""``empathic run --launcher accelerate``: each training stage as an ``accelerate launch`` subprocess.

The pipeline itself stays one process: prepare, sample, evaluate and report run in it as usual. A training
stage (sft, reward, rl, dpo) that is out of date is handed to

    accelerate launch [--config_file F] [--num_processes N] [multi-node flags] -m empathic_rlhf.cli <stage> \
        --config <the resolved config, written to a temporary YAML file> [--force]

whose main process records the stage in the manifest (:mod:`empathic_rlhf.pipeline.run`); a non-zero exit stops
the pipeline with an error that names the stage, the exit status and the command. Writing the resolved config
(every key) means the launched processes hash the same config the pipeline did, so a later plain ``empathic run``
sees the stage as up to date.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import EmpathicError
from ..stage import Context, Stage

CONFIGS_DIR = Path(__file__).resolve().parents[1] / "accelerate_configs"
LAUNCHERS = ("none", "accelerate")


def shipped_config(name: str) -> Path:
    """The config file at path ``name``, else the one shipped in ``empathic_rlhf/accelerate_configs`` by that
    name (``multi_gpu_ddp`` or ``multi_gpu_ddp.yaml``)."""
    for candidate in (Path(name), CONFIGS_DIR / name, CONFIGS_DIR / f"{name}.yaml"):  # a real path first
        if candidate.is_file():
            return candidate
    shipped = ", ".join(sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml")))
    raise EmpathicError(f"{name}: accelerate config file not found (shipped: {shipped})")


def check_config_file(path: Path) -> None:
    """Fail now, in one line, on a config file accelerate would reject or one whose backend is not installed."""
    import yaml
    from accelerate.commands.config.config_args import load_config_from_file

    from ..extras import require

    try:
        loaded = load_config_from_file(str(path))
    except (ValueError, TypeError, AttributeError, OSError, yaml.YAMLError) as error:  # unknown keys, not a mapping
        raise EmpathicError(f"{path}: not an accelerate config file ({error})") from None
    if str(getattr(loaded, "distributed_type", "")).endswith("DEEPSPEED"):
        require("deepspeed", f"{path.name} (DeepSpeed ZeRO)")


@dataclass
class AccelerateLauncher:
    """How to start a training stage's processes; ``None`` fields are left to the accelerate config file (or to
    accelerate's defaults)."""

    num_processes: int | None = None
    config_file: str | None = None
    num_machines: int | None = None
    machine_rank: int | None = None
    main_process_ip: str | None = None
    main_process_port: int | None = None

    def __post_init__(self):
        if self.num_processes is not None and self.num_processes < 1:
            raise EmpathicError(f"--num-processes must be >= 1, got {self.num_processes}")
        if self.machine_rank:
            # another node cannot know when node 0 has finished the stages that run in the pipeline process
            raise EmpathicError("empathic run --launcher accelerate runs on machine rank 0 only; on the other nodes "
                                "launch each training stage with `accelerate launch --machine_rank R ... -m "
                                "empathic_rlhf.cli <stage>` (docs/scaling.md, 'Two nodes')")
        if self.config_file is not None:
            self.config_file = str(shipped_config(self.config_file))
            check_config_file(Path(self.config_file))

    def accelerate_args(self) -> list[str]:
        """The ``accelerate launch`` options: the config file first, explicit flags after (they win)."""
        args = ["--config_file", self.config_file] if self.config_file else []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name != "config_file" and value is not None:
                args += [f"--{field.name}", str(value)]
        return args

    def command(self, stage: Stage, config_file: Path, *, force: bool) -> list[str]:
        """``accelerate launch ... -m empathic_rlhf.cli <the stage's command> --config FILE [--force]``."""
        return [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", *self.accelerate_args(),
                "-m", "empathic_rlhf.cli", *stage.command, "--config", str(config_file),
                *(["--force"] if force else [])]

    def run_stage(self, context: Context, stage: Stage, *, force: bool = False) -> None:
        """Launch ``stage`` on the context's resolved config; an exit status other than 0 is an error. A stage that
        would stop the run cleanly (waiting for labels: ``stage.before_launch``) stops here, in the pipeline's
        process, as it does without a launcher: a launched process can only exit with a status."""
        from .. import config as cfg
        from ..rundir import RunDir

        if stage.before_launch is not None:
            stage.before_launch(context)
        context.run.path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="empathic-launch-") as folder:
            config_file = Path(folder) / "config.yaml"
            RunDir(folder).save_config(cfg.to_dict(context.config))
            command = self.command(stage, config_file, force=force)
            print(f"[{stage.name}] launching: {' '.join(command)}", file=sys.stderr)
            status = subprocess.run(command, check=False).returncode
        if status != 0:
            raise EmpathicError(f"[{stage.name}] accelerate launch exited with status {status}: {' '.join(command)}")


def launcher_from_args(args) -> AccelerateLauncher | None:
    """The launcher that ``empathic run``'s flags ask for, or None (every stage in this process)."""
    multi_node = ("num_machines", "machine_rank", "main_process_ip", "main_process_port")
    asked = [name for name in ("num_processes", "accelerate_config", *multi_node)
             if getattr(args, name, None) is not None]
    if args.launcher != "accelerate":
        if asked:
            flags = ", ".join("--" + name.replace("_", "-") for name in asked)
            raise EmpathicError(f"{flags} only apply with --launcher accelerate")
        return None
    from ..distributed import refuse_under_launch

    refuse_under_launch("empathic run --launcher accelerate")  # it starts the processes itself
    return AccelerateLauncher(num_processes=args.num_processes, config_file=args.accelerate_config,
                              **{name: getattr(args, name) for name in multi_node})


def add_launcher_options(parser) -> None:
    """``empathic run``'s options for launching the training stages on several processes, GPUs or machines."""
    group = parser.add_argument_group("distributed training (docs/scaling.md)")
    group.add_argument("--launcher", choices=LAUNCHERS, default="none",
                       help="accelerate: run each training stage (sft, reward, rl, dpo) under `accelerate launch`; "
                            "none (default): every stage in this process.")
    group.add_argument("--num-processes", type=int, help="Processes per launch (GPUs in all, over every machine).")
    group.add_argument("--accelerate-config", metavar="FILE",
                       help="accelerate config file, or a shipped one by name: single_gpu, multi_gpu_ddp, "
                            "deepspeed_zero2, deepspeed_zero3, fsdp, cpu_2proc.")
    group.add_argument("--num-machines", type=int, help="Machines taking part (multi-node).")
    group.add_argument("--machine-rank", type=int, help="This machine's rank (0 here: the others launch each stage "
                                                        "themselves, see docs/scaling.md).")
    group.add_argument("--main-process-ip", help="Address of machine rank 0 (multi-node).")
    group.add_argument("--main-process-port", type=int, help="Port on machine rank 0 (multi-node).")
