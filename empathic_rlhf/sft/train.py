"""``empathic sft``: fine-tune the base model into π on the prepared samples, with TRL's ``SFTTrainer``.

Read top to bottom:
  1. load the prepared ``train`` / ``valid`` datasets (conversational prompt/completion rows; TRL masks the
     prompt, so the loss -- and the validation perplexity exp(eval_loss) -- covers reply tokens only);
  2. load the base model with its dialogue format; wrap it in LoRA adapters when ``method: lora``;
  3. train, validating and checkpointing every ``eval_steps`` into ``sft/checkpoints/``; an interrupted run
     (Ctrl-C saves a checkpoint first; a kill loses at most ``eval_steps`` steps) resumes from the newest one;
  4. load the best checkpoint (lowest validation loss), merge LoRA adapters, and save a plain Hugging Face folder
     ``sft/model/`` (model + tokenizer, whose chat template keeps the dialogue format) and ``sft/metrics.json``.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from pathlib import Path

from .. import config as cfg
from ..distributed import is_main_process, main_process_only, num_processes
from ..errors import EmpathicError
from ..io import atomic_path, write_json
from ..models.config import ModelConfig
from ..rundir import checkpoints_and_resume, fingerprint
from ..runtime import device_training_args, trl_arguments
from .config import SftConfig


def load_split(samples_dir: Path, split: str, limit: int | None = None, *, seed: int = 0, shuffle: bool = False):
    """A prepared split as a ``datasets.Dataset`` of prompt/completion rows (optionally a subset)."""
    from datasets import load_from_disk

    folder = Path(samples_dir) / split
    if not folder.is_dir():
        raise EmpathicError(f"{folder}: prepared split not found (run `empathic prepare` first)")
    # in memory: TRL's tokenizing maps then write no cache files into the run directory (its fingerprint stays)
    dataset = load_from_disk(str(folder), keep_in_memory=True).select_columns(["prompt", "completion"])
    if shuffle:
        dataset = dataset.shuffle(seed=seed)
    if limit is not None and limit < dataset.num_rows:
        dataset = dataset.select(range(limit))
    return dataset


def train_sft(config: SftConfig, model_config: ModelConfig, samples_dir: Path, out_dir: Path,
              seed: int = 0) -> dict:
    """Train π and write ``out_dir/model`` and ``out_dir/metrics.json``; returns the metrics."""
    import torch

    from ..models.loading import load_model_and_tokenizer

    out_dir = Path(out_dir)
    train_set = load_split(samples_dir, config.train_split, config.max_train_samples, seed=seed, shuffle=True)
    eval_set = load_split(samples_dir, config.eval_split, config.max_eval_samples)
    torch.manual_seed(seed)  # LoRA adapters are initialised at random before the Trainer seeds itself
    model, tokenizer = load_model_and_tokenizer(model_config.base_model, model_config.dialogue_format)

    data = {split: fingerprint(Path(samples_dir) / f"{split}.jsonl") for split in (config.train_split,
                                                                                   config.eval_split)}
    # one process clears stale checkpoints and picks the one to resume; every process resumes from it
    checkpoints, resume = main_process_only(checkpoints_and_resume)(
        out_dir / "checkpoints", {"seed": seed, "model": cfg.to_dict(model_config), "sft": cfg.to_dict(config),
                                  "data": data})
    args = _sft_args(config, checkpoints, seed, resume=resume is not None)
    extras = log_extras_callback()
    trainer = _make_trainer(model, tokenizer, args, train_set, eval_set, config, extras)
    if is_main_process():
        print(f"[sft] {config.method} fine-tuning of {model_config.base_model}: {train_set.num_rows:,} train / "
              f"{eval_set.num_rows:,} valid samples, {num_processes()} process(es)"
              + (f"; resuming from {resume.name}" if resume else ""), file=sys.stderr)

    stop = _GracefulStop()
    trainer.add_callback(stop.callback())
    start = time.perf_counter()
    with stop.installed():
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - start
    if stop.requested:
        raise KeyboardInterrupt  # a checkpoint was saved; rerunning resumes from it

    # The best checkpoint (lowest validation loss) is loaded at the end of training.
    best_loss = trainer.state.best_metric
    if best_loss is None:
        best_loss = trainer.evaluate()["eval_loss"]
    metrics = {**_metrics(trainer, best_loss, seconds, extras.session_tokens(trainer.state)),
               "processes": num_processes()}
    # every process takes part: under DeepSpeed ZeRO-3 / FSDP this gathers the sharded weights (LoRA: merged below)
    state_dict = None if config.method == "lora" else trainer.accelerator.get_state_dict(trainer.model_wrapped)

    @main_process_only  # the final model and metrics are written once; the other processes wait for them
    def save() -> None:
        model = trainer.model
        if config.method == "lora":
            model = model.merge_and_unload()
        with atomic_path(out_dir / "model") as tmp:
            model.save_pretrained(tmp, state_dict=state_dict)
            tokenizer.save_pretrained(tmp)
        write_json(out_dir / "metrics.json", metrics)

    save()
    return metrics


def _sft_args(config: SftConfig, output_dir: Path, seed: int, *, resume: bool):
    from trl import SFTConfig

    return trl_arguments(SFTConfig, "sft", dict(
        output_dir=str(output_dir),
        max_length=config.max_length,
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.per_device_eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        eval_on_start=config.eval_on_start and not resume,  # a resumed run has its step-0 eval on record
        save_strategy="steps",
        save_steps=config.eval_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=True,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        report_to=list(config.report_to) or "none",
        seed=seed,
        data_seed=seed,
        **device_training_args(),
        completion_only_loss=True,
        save_only_model=False,
        include_num_input_tokens_seen="non_padding",  # state.num_input_tokens_seen: what tokens/s counts
    ), config.trainer_args)


def _make_trainer(model, tokenizer, args, train_set, eval_set, config: SftConfig, extras):
    """An ``SFTTrainer`` whose logs also hold what ``extras`` (:func:`log_extras_callback`) adds."""
    from trl import SFTTrainer

    peft_config = None
    if config.method == "lora":
        from peft import LoraConfig

        targets = config.lora_target_modules
        peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                 target_modules=targets if targets == "all-linear" else
                                 [t.strip() for t in targets.split(",") if t.strip()],
                                 task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set,
                         processing_class=tokenizer, peft_config=peft_config)
    # first, so that the reporters (tensorboard, the progress bar) log what it adds
    trainer.callback_handler.callbacks.insert(0, extras)
    trainer.add_callback(_progress_postfix_callback())
    return trainer


def log_extras_callback():
    """A callback adding ``eval_perplexity`` to every evaluation log and ``tokens_per_second`` (reply and prompt
    tokens, padding left out, since the previous training log) to every training log -- in the log the reporters
    get and in ``state.log_history`` -- from the Trainer's public token count, ``state.num_input_tokens_seen``
    (``include_num_input_tokens_seen="non_padding"``). ``session_tokens(state)``: tokens seen since this
    ``train()`` began (a resumed run counts only the steps it trains)."""
    from transformers import TrainerCallback

    class LogExtras(TrainerCallback):
        start_tokens = 0
        clock: tuple[float, int] | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.start_tokens, self.clock = state.num_input_tokens_seen, None

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs:
                return
            extra = {}
            if "eval_loss" in logs:
                extra["eval_perplexity"] = _ppl(logs["eval_loss"])
            elif "loss" in logs:  # a training log: tokens seen since the last one, per second
                tokens, now = state.num_input_tokens_seen, time.perf_counter()
                if self.clock is not None and now > self.clock[0]:
                    extra["tokens_per_second"] = round((tokens - self.clock[1]) / (now - self.clock[0]), 1)
                self.clock = (now, tokens)
            logs.update(extra)
            if state.log_history and state.log_history[-1].get("step") == state.global_step:
                state.log_history[-1].update(extra)

        def session_tokens(self, state) -> int:
            return state.num_input_tokens_seen - self.start_tokens

    return LogExtras()


def _ppl(loss: float) -> float:
    return round(math.exp(min(loss, 50.0)), 3)


def _progress_postfix_callback():
    """Show the latest loss and tokens/s on the training progress bar itself."""
    from transformers import TrainerCallback
    from transformers.trainer_callback import ProgressCallback

    class Postfix(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            bar = next((getattr(c, "training_bar", None) for c in kwargs.get("callbacks", ())
                        if isinstance(c, ProgressCallback)), None)
            if bar is None or not logs:
                return
            shown = {k: logs[k] for k in ("loss", "tokens_per_second", "eval_perplexity") if k in logs}
            if shown:
                bar.set_postfix({k.replace("tokens_per_second", "tok/s"): v for k, v in shown.items()},
                                refresh=False)

    return Postfix()


class _GracefulStop:
    """Ctrl-C (SIGINT) or SIGTERM during training: save a checkpoint at the end of the current step, then stop.

    A second Ctrl-C interrupts at once (the newest periodic checkpoint is then where a rerun resumes).
    """

    def __init__(self):
        self.requested = False

    def callback(self):
        from transformers import TrainerCallback

        outer = self

        class Stop(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if outer.requested:
                    control.should_save = True
                    control.should_training_stop = True

        return Stop()

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\n[sft] stopping: saving a checkpoint after this step (Ctrl-C again to quit now)", file=sys.stderr)

    def installed(self):
        import contextlib

        @contextlib.contextmanager
        def handlers():
            previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)

        return handlers()


def _metrics(trainer, best_loss: float, seconds: float, tokens: int) -> dict:
    """What ``sft/metrics.json`` records: before/after perplexity, the best step, speed and the eval history."""
    history = trainer.state.log_history
    evals = [{"step": h["step"], "eval_loss": round(h["eval_loss"], 4), "eval_perplexity": _ppl(h["eval_loss"])}
             for h in history if "eval_loss" in h]
    train_logs = [h for h in history if "loss" in h]
    best_step = None
    if trainer.state.best_model_checkpoint:
        best_step = int(Path(trainer.state.best_model_checkpoint).name.rsplit("-", 1)[1])
    before = next((e for e in evals if e["step"] == 0), None)
    return {
        "steps": trainer.state.global_step,
        "train_seconds": round(seconds, 1),
        "train_tokens_this_session": tokens,
        "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else None,
        "first_train_loss": train_logs[0]["loss"] if train_logs else None,
        "last_train_loss": train_logs[-1]["loss"] if train_logs else None,
        "valid_perplexity_before": before["eval_perplexity"] if before else None,
        "valid_perplexity_after": _ppl(best_loss),
        "best_step": best_step,
        "evals": evals,
        "train_log": [{"step": h["step"], "loss": round(h["loss"], 4)} for h in train_logs],
    }
