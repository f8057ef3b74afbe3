"""Which process am I? The few rules that let every stage run under ``accelerate launch --num_processes N``.

- One process (the main one, rank 0) writes the run directory: manifest, ``config.yaml``, data files, metrics and
  final models. The others compute alongside it and wait for its files at a barrier before reading them.
- A step that only the main process does (data preparation, an evaluation, a save) runs through
  :func:`main_process_only`: the others wait and receive its result, or its exception, so a failure on the main
  process stops every process with the same error instead of leaving them blocked at a barrier.
- Not launched (no ``WORLD_SIZE`` > 1 in the environment, set by ``accelerate launch`` / ``torchrun``): every
  helper is a no-op and accelerate is not even imported.

The state is accelerate's ``PartialState``, created with ``cpu=True`` where there is no CUDA device: that is
what TRL's trainers create too (``use_cpu`` in :func:`empathic_rlhf.runtime.device_training_args`), so the
first to create it and the trainers agree (gloo on CPU, NCCL on GPUs).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_inside = threading.local()  # set while the main process runs a main_process_only function


def launched() -> bool:
    """True inside a multi-process launch (``accelerate launch`` / ``torchrun`` set ``WORLD_SIZE``)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def state():
    """accelerate's ``PartialState`` (initialises the process group on first use under a launch).

    Its collectives time out after ``$EMPATHIC_DISTRIBUTED_TIMEOUT`` seconds (default 7200): the other processes
    wait in one while the main process evaluates or prepares data alone, which on a full run takes longer than
    torch's default (10 minutes for NCCL). Created here first, this process group is the one the trainers use."""
    from datetime import timedelta

    import torch
    from accelerate import PartialState

    seconds = int(os.environ.get("EMPATHIC_DISTRIBUTED_TIMEOUT", "7200"))
    return PartialState(cpu=not torch.cuda.is_available(), timeout=timedelta(seconds=seconds))


def num_processes() -> int:
    return state().num_processes if launched() else 1


def process_index() -> int:
    """This process's global rank (0 for the main process)."""
    return state().process_index if launched() else 0


def is_main_process() -> bool:
    return not launched() or state().is_main_process


def wait_for_everyone() -> None:
    """Barrier: every process waits until all of them reach this line."""
    if launched():
        state().wait_for_everyone()


def main_process_only(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator: ``fn`` runs on the main process only; every process returns its (picklable) result.

    If ``fn`` raises on the main process, every process raises that exception (so ``WaitingForLabels`` or a bad
    input error ends all of them the same way). Nested calls (a main-only function calling another) run directly:
    only the outermost one synchronises the processes."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not launched() or getattr(_inside, "active", False):
            return fn(*args, **kwargs)
        from accelerate.utils import broadcast_object_list

        outcome: list = [None]
        raised = None
        if is_main_process():
            _inside.active = True
            try:
                outcome = [("ok", fn(*args, **kwargs))]
            except BaseException as error:  # noqa: BLE001 -- handed to every process, then re-raised
                raised, outcome = error, [("error", _picklable(error))]
            finally:
                _inside.active = False
        broadcast_object_list(outcome, from_process=0)
        kind, value = outcome[0]
        if raised is not None:
            raise raised  # the main process keeps its own traceback
        if kind == "error":
            raise value
        return value

    return wrapper


def _picklable(error: BaseException) -> BaseException:
    """``error`` itself when it survives pickling (what the broadcast does), else a RuntimeError with its text: a
    broadcast that failed to pickle would leave the other processes waiting."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 -- any pickling failure
        return RuntimeError(f"{type(error).__name__} on the main process: {error}")


def refuse_under_launch(what: str) -> None:
    """An error for a command that runs in one process only, when started by ``accelerate launch``."""
    if launched():
        from .errors import EmpathicError

        raise EmpathicError(f"{what} runs in one process; under accelerate launch use a stage command (sft, reward "
                            "train, rl, dpo; the other stages run on the main process) or `run` (docs/scaling.md)")


def shard_evenly(total: int, what: str) -> int:
    """``total`` items of a global batch split over the processes: the per-process share. A total that does not
    divide evenly is an error naming ``what`` (so a global batch size keeps its meaning under any launch)."""
    from .errors import EmpathicError

    processes = num_processes()
    if total % processes:
        raise EmpathicError(f"{what} = {total} does not divide over {processes} processes: choose a multiple of "
                            f"{processes}")
    return total // processes


def refuse_sharded_weights(stage: str) -> None:
    """An error, before any work, for a stage that needs the whole model on the main process after training (RL's
    held-out checks, the reward model's and DPO's evaluation and save) under a launch that shards the weights:
    ZeRO-3 or FSDP would leave the others waiting on their shards until the collective timeout (docs/scaling.md).
    The launch's kind is read from the variables ``accelerate launch`` sets for its processes."""
    fsdp = os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true"
    zero3 = (os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true"
             and os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3")
    if launched() and (fsdp or zero3):
        from .errors import EmpathicError

        raise EmpathicError(f"the {stage} stage needs the whole model on every process: launch it with DDP or "
                            f"DeepSpeed ZeRO-2 (multi_gpu_ddp.yaml, deepspeed_zero2.yaml), not "
                            f"{'FSDP' if fsdp else 'ZeRO-3'}, which only sft supports (docs/scaling.md)")
