"""``empathic label worker``: the process that runs the policy for the live chat, never the web server.

It polls the database for queued reply jobs (a read that takes no lock), claims a batch of them
(``chat_store.claim_jobs``), draws the replies with the same :class:`~empathic_rlhf.generation.sampler.Sampler` as
``sample`` and ``chat``, and writes them back. Jobs that want the same number of candidates are generated in one
batch, so a few people chatting at once cost about one generation, not one each. Several workers (on one or more
machines, against PostgreSQL) can run side by side: a job is claimed by exactly one of them, and a job whose
worker died is claimed again after ``chat_job_timeout_seconds``. Ctrl-C / SIGTERM finishes the current batch,
then stops.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from ..errors import EmpathicError
from . import chat_store
from .config import LabelConfig


def default_policy(runs_dir: str | Path, run: str) -> str:
    """The run's latest policy: ``rl/model``, else ``sft/model``."""
    run_dir = Path(runs_dir) / run
    for stage in ("rl", "sft"):
        if (run_dir / stage / "model").is_dir():
            return str(run_dir / stage / "model")
    raise EmpathicError(f"no policy in {run_dir / 'rl' / 'model'} or {run_dir / 'sft' / 'model'}: train one, or "
                        "name a model with --model (or --label.chat_model)")


def load_sampler(model: str, config: LabelConfig, batch: int):
    from ..generation.config import SamplingConfig
    from ..generation.sampler import Sampler

    params = SamplingConfig(temperature=config.chat_temperature, max_new_tokens=config.chat_max_new_tokens,
                            batch_size=batch)
    return Sampler.load(model, params=params)


class Worker:
    """Claims, generates and writes back until stopped."""

    def __init__(self, store, config: LabelConfig, sampler, name: str, source: str, *, batch: int = 8,
                 poll_s: float = 0.2, log=print):
        self.store, self.config, self.sampler, self.name, self.source = store, config, sampler, name, source
        self.batch, self.poll_s, self.log = batch, poll_s, log
        self.stopping = False
        self.done = 0

    def step(self) -> int:
        """Serve one batch of claimed jobs; returns how many were claimed (0: nothing waited)."""
        timeout = self.config.chat_job_timeout_seconds
        if not chat_store.has_work(self.store, timeout):
            return 0
        jobs = chat_store.claim_jobs(self.store, self.name, self.batch, timeout)
        for k in sorted({job.k for job in jobs}):
            self._generate([job for job in jobs if job.k == k], k)
        return len(jobs)

    def _generate(self, jobs: list, k: int) -> None:
        from ..generation.sampler import derive_seed

        seed = derive_seed("live-chat", jobs[0].id, jobs[0].attempts)
        started = time.perf_counter()
        try:
            replies = self.sampler.sample_batch([job.prompt for job in jobs], k, seed, 0)
        except Exception as e:  # noqa: BLE001 - a failed generation fails its jobs; the page offers a retry
            for job in jobs:
                chat_store.fail_job(self.store, job, f"{type(e).__name__}: {e}")
            self.log(f"worker {self.name}: generation failed for jobs {[j.id for j in jobs]}: {e}")
            return
        sampling = {**self.sampler.settings(), "seed": seed}
        written = sum(chat_store.finish_job(self.store, job, texts, self.source, sampling)
                      for job, texts in zip(jobs, replies))
        self.done += written
        self.log(f"worker {self.name}: {len(jobs)} job(s) x {k} candidate(s) in "
                 f"{time.perf_counter() - started:.2f} s ({written} written; {self.done} in all)")

    def run(self, *, max_jobs: int | None = None) -> int:
        """Serve jobs until stopped (or ``max_jobs`` were written); returns the jobs written."""
        while not self.stopping and (max_jobs is None or self.done < max_jobs):
            if self.step() == 0:
                time.sleep(self.poll_s)
        return self.done

    def stop(self, *_args) -> None:
        self.stopping = True


def run_worker(store, config: LabelConfig, name: str, model: str, *, batch: int = 8, poll_s: float = 0.2,
               threads: int = 0, nice: int = 10) -> int:
    """The ``label worker`` command: load the policy, then serve until SIGTERM / Ctrl-C. ``nice`` lowers the
    worker's CPU priority, so on a machine it shares with the web server the server's short requests run first
    and the labelling page stays fast (generation takes what is left)."""
    import os

    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    if nice > 0:
        os.nice(nice)
    if threads > 0:
        import torch

        torch.set_num_threads(threads)  # leave cores to the web server on a small machine
    print(f"worker {name}: loading {model} ...", file=sys.stderr)
    sampler = load_sampler(model, config, batch)
    worker = Worker(store, config, sampler, name, model, batch=batch, poll_s=poll_s,
                    log=lambda line: print(line, file=sys.stderr, flush=True))
    signal.signal(signal.SIGTERM, worker.stop)
    print(f"worker {name}: ready, serving {config.db}", file=sys.stderr, flush=True)
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    return 0
