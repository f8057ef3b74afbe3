"""Starting test jobs under ``accelerate launch`` with two CPU processes (gloo), and comparing run folders."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from empathic_rlhf.pipeline.launch import shipped_config

TIMEOUT = 600  # seconds: a hung barrier fails the test instead of the whole suite


def free_port() -> int:
    """A TCP port nothing listens on now (the launch's rendezvous port; the shipped file's fixed one may be taken)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_two(*script_and_args: str) -> subprocess.CompletedProcess:
    """``accelerate launch --config_file cpu_2proc.yaml <script> <args>``; returns the finished process."""
    command = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--config_file",
               str(shipped_config("cpu_2proc")), "--main_process_port", str(free_port()), *script_and_args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def per_process_rng_files(files: set[str]) -> set[str]:
    """The Trainer's own RNG snapshots in checkpoints: ``rng_state.pth`` alone, ``rng_state_<rank>.pth`` each under
    several processes (what a resume needs; written by transformers, not by us)."""
    return {f for f in files if Path(f).name.startswith("rng_state")}
