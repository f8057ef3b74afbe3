"""The one config of the labelling stage; every field documents itself here (shown by ``empathic label --help``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

CRITERIA = ("empathy", "relevance", "fluency")
# Simulated annotators (`empathic label simulate`, rounds.labeller=simulated): how many, the Cohen's kappa two of them
# reach (people reached ~0.4 on this task) and the logit bonus of the reply shown first.
SIMULATED_ANNOTATORS = 5
SIMULATED_KAPPA = 0.4
SIMULATED_POSITION_BIAS = 0.3


@dataclass
class LabelConfig:
    db: str = field(default="", metadata={
        "help": "SQLAlchemy URL of the label database; empty means sqlite:///runs/<run>/label/label.db. "
                "PostgreSQL works too, e.g. postgresql+psycopg://user:pw@host/db."})
    host: str = field(default="127.0.0.1", metadata={"help": "Address `label serve` listens on (0.0.0.0 for a LAN)."})
    port: int = field(default=8765, metadata={"help": "Port `label serve` listens on."})
    public_url: str = field(default="", metadata={
        "help": "Base URL printed in invite links; empty means http://<host>:<port>."})
    overlap: int = field(default=1, metadata={"help": "Distinct annotators per ordinary task."})
    calibration_overlap: int = field(default=3, metadata={
        "help": "Distinct annotators per calibration task (the subset used to measure agreement)."})
    calibration_fraction: float = field(default=0.1, metadata={
        "help": "Share of imported tasks chosen (by a stable hash of task_id) as calibration tasks; served first."})
    gold_fraction: float = field(default=0.05, metadata={
        "help": "Chance that the next task is a gold task (one imported with a known `answer`) not yet seen."})
    criteria: list[str] = field(default_factory=lambda: list(CRITERIA), metadata={
        "help": "Rating criteria shown (subset of empathy, relevance, fluency); empty list hides ratings."})
    ratings_required: bool = field(default=False, metadata={
        "help": "Whether a best-reply label must carry a 1-5 rating for every criterion of the chosen reply."})
    rate_all: bool = field(default=False, metadata={
        "help": "Rate every candidate instead of only the chosen one (model-comparison tasks always rate all)."})
    show_situation: bool = field(default=True, metadata={
        "help": "Show the speaker's situation text above the dialogue (annotators can still toggle it)."})
    reservation_minutes: float = field(default=30.0, metadata={
        "help": "An unlabelled assignment older than this is released so another annotator can take the task."})
    sqlite_synchronous: Literal["NORMAL", "FULL"] = field(default="NORMAL", metadata={
        "help": "SQLite durability. NORMAL (WAL): a killed server process loses no committed label; a power cut or "
                "OS crash may lose the last few. FULL: fsync at every commit, safe against power loss, ~2 ms slower "
                "per label."})
    db_wait_seconds: float = field(default=5.0, metadata={
        "help": "Longest a request waits for the database (another process holding SQLite's write lock, a busy "
                "pool, a PostgreSQL row lock); past it the request fails with 503 and the page asks to retry."})
    done_poll_seconds: float = field(default=30.0, metadata={
        "help": "An annotator's \"All done\" page looks for freed work (a skip, an expired reservation) this often "
                "while it is open and visible (it says so on the page)."})
    admin_refresh_seconds: float = field(default=10.0, metadata={
        "help": "The admin page's statistics are computed at most once per this many seconds and shared by "
                "every admin poll, so watching the dashboard does not slow annotators down."})
    chat_enabled: bool = field(default=False, metadata={
        "help": "Serve the live-chat page (/chat/<token>): invited people talk with the policy and now and then pick "
                "the better of its replies. Needs `empathic label worker` running (`label serve --chat` sets this)."})
    chat_choice_every: int = field(default=3, metadata={
        "help": "Every n-th policy reply of a conversation is a choice between chat_candidates replies (1: every "
                "reply); the others are one reply each."})
    chat_candidates: int = field(default=2, metadata={"help": "Candidate replies shown at a choice (2-4)."})
    chat_model: str = field(default="", metadata={
        "help": "Policy the chat worker loads (folder, embedded name or Hub id); empty: the run's latest policy, "
                "<run>/rl/model, else <run>/sft/model."})
    chat_max_turns: int = field(default=5, metadata={
        "help": "Turns of the conversation the policy sees (the newest; as `empathic chat --max-turns`); the "
                "stored comparison task carries exactly this context as its prompt."})
    chat_max_messages: int = field(default=40, metadata={
        "help": "Messages a person may send in one conversation (they can start a new one)."})
    chat_message_chars: int = field(default=1000, metadata={"help": "Longest message a person may send, in characters."})
    chat_max_new_tokens: int = field(default=60, metadata={"help": "Longest policy reply in the chat, in tokens."})
    chat_temperature: float = field(default=0.7, metadata={
        "help": "Sampling temperature of the chat replies (with top_p 0.9, as `sample`); > 0, so candidates differ."})
    chat_job_timeout_seconds: float = field(default=120.0, metadata={
        "help": "A reply job a worker claimed but did not finish within this time (the worker died) is queued again."})

    def __post_init__(self):
        unknown = [c for c in self.criteria if c not in CRITERIA]
        if unknown:
            raise ValueError(f"criteria: unknown {unknown}, choose from {list(CRITERIA)}")
        if not 0.1 <= self.db_wait_seconds <= 120 or self.admin_refresh_seconds < 0:
            raise ValueError("db_wait_seconds must lie in [0.1, 120] and admin_refresh_seconds be >= 0")
        if not 1 <= self.done_poll_seconds <= 3600:
            raise ValueError("done_poll_seconds must lie in [1, 3600]")
        if self.overlap < 1 or self.calibration_overlap < 1:
            raise ValueError("overlap and calibration_overlap must be at least 1")
        if not 2 <= self.chat_candidates <= 4 or self.chat_choice_every < 1 or self.chat_max_turns < 1:
            raise ValueError("chat_candidates must lie in [2, 4], chat_choice_every and chat_max_turns be >= 1")
        if self.chat_max_messages < 1 or not 1 <= self.chat_message_chars <= 20_000 or self.chat_max_new_tokens < 1:
            raise ValueError("chat_max_messages, chat_max_new_tokens >= 1 and chat_message_chars in [1, 20000]")
        if self.chat_temperature <= 0 or self.chat_job_timeout_seconds <= 0:
            raise ValueError("chat_temperature and chat_job_timeout_seconds must be > 0")
        for name in ("calibration_fraction", "gold_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")


def database_url(config: LabelConfig, run_path: str | Path) -> str:
    """The label database of the run at ``run_path``: ``label.db`` when set, else ``<run>/label/label.db``."""
    return config.db or f"sqlite:///{Path(run_path) / 'label' / 'label.db'}"
