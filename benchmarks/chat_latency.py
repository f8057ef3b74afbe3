"""Live-chat latency: a few people chatting with the policy while others label, against a real server process and
a real `label worker` process (``python -m empathic_rlhf.label serve --chat`` / ``worker``) on 127.0.0.1.

    python benchmarks/chat_latency.py                              # 4 chats x 4 messages, 4 annotators
    python benchmarks/chat_latency.py --model runs/demo/sft/model --chats 2 --messages 3 --alone-seconds 10

Two phases on one database, the worker started (and idle) in both:
1. labelling alone: ``--annotators`` people label for ``--alone-seconds`` (think time ``--think-ms``);
2. the same labelling (other annotators, same pool of tasks) for as long as ``--chats`` people each send
   ``--messages`` messages (every ``--choice-every``-th reply is a choice between 2 candidates, picked at once).

Reported: the labelling POST latency (p50/p95, with bootstrap 95% intervals and n) in each phase, and the chat
reply latency (message sent -> reply or candidates shown to the person, through the long poll, which looks every
0.25 s) for single replies and for choices. The server never runs the model, so the labelling latency should not
move; the reply latency is the model's generation time plus queueing behind the other chats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from label_load import Connection, label_one, prepare  # noqa: E402 - the labelling load generator's client, reused

MESSAGES = ["I failed my driving test this morning.", "I practised for months and still messed up parking.",
            "My friends all passed on the first try.", "I guess I can book another one next month.",
            "Thanks, that helps a bit.", "What would you do?"]


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] if len(values) > 1 else values[0]


def with_interval(values: list[float], q: float, rng: random.Random, resamples: int = 1000) -> str:
    """``q``-quantile in ms with a bootstrap 95% percentile interval."""
    if not values:
        return "-"
    boots = sorted(quantile([rng.choice(values) for _ in values], q) for _ in range(resamples))
    return (f"{1000 * quantile(values, q):.0f} [{1000 * boots[int(0.025 * resamples)]:.0f}, "
            f"{1000 * boots[int(0.975 * resamples) - 1]:.0f}]")


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def wait_until(check, what: str, proc: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    for _ in range(int(seconds * 10)):
        if proc.poll() is not None:
            sys.exit(f"{what} exited: {log.read_text()[-2000:]}")
        if check():
            return
        time.sleep(0.1)
    sys.exit(f"{what} did not start in {seconds:.0f} s")


def server_up(port: int) -> bool:
    import httpx

    try:
        httpx.get(f"http://127.0.0.1:{port}/guidelines", timeout=1)
        return True
    except httpx.TransportError:
        return False


async def chat(port: int, token: str, messages: int, think_s: float, rng: random.Random, out: dict) -> None:
    """One person: consent, then ``messages`` messages; each reply waited for through the long poll."""
    async with Connection(port, token) as c:
        status, view = await c.request("POST", "/api/chat/start", {"consent": True, "consent_version": "1"})
        if status != 200:
            out["errors"].append(status)
            return
        chat_id = view["chat_id"]
        for text in MESSAGES[:messages]:
            await asyncio.sleep(rng.expovariate(1 / think_s) if think_s else 0)
            t0 = time.perf_counter()
            status, view = await c.request("POST", "/api/chat/messages", {"chat_id": chat_id, "text": text})
            out["chat_requests"].append(time.perf_counter() - t0)
            if status != 200:
                out["errors"].append(status)
                return
            job = view["pending"]
            while view["pending"] and view["pending"]["status"] in ("queued", "running"):
                status, view = await c.request("GET", f"/api/chat/{chat_id}?wait_job={job['job_id']}&wait=20")
            waited = time.perf_counter() - t0
            pending = view["pending"]
            if pending and pending["status"] == "ready":
                out["choice_latency"].append(waited)
                t1 = time.perf_counter()
                status, view = await c.request("POST", "/api/chat/choice", {
                    "chat_id": chat_id, "job_id": pending["job_id"], "best": "c0", "seconds": 2.0})
                out["chat_requests"].append(time.perf_counter() - t1)
            elif pending is None:
                out["reply_latency"].append(waited)
            else:
                out["errors"].append(pending["status"])
                return


async def label_until(port: int, token: str, think_s: float, rng: random.Random, out: dict,
                      stop: asyncio.Event) -> None:
    """One annotator labelling (one POST per label, as the page does) until ``stop`` is set."""
    async with Connection(port, token) as c:
        nxt = (await c.request("GET", "/api/next"))[1]
        while not stop.is_set() and not nxt["done"]:
            if (answer := await label_one(c, nxt, think_s, rng, out)) is None:
                return
            nxt = answer["next"]
        out["ran_dry"] += nxt["done"]


async def phase(port: int, label_tokens: list[str], chat_tokens: list[str], args, seconds: float | None) -> dict:
    """Annotators label while the chats run (or for ``seconds`` when there are none)."""
    out = {"latency": [], "errors": [], "ran_dry": 0, "reply_latency": [], "choice_latency": [],
           "chat_requests": []}
    stop = asyncio.Event()
    labelling = [asyncio.create_task(label_until(port, t, args.think_ms / 1000, random.Random(i), out, stop))
                 for i, t in enumerate(label_tokens)]
    t0 = time.perf_counter()
    chats = [chat(port, t, args.messages, args.chat_think_ms / 1000, random.Random(100 + i), out)
             for i, t in enumerate(chat_tokens)]
    await (asyncio.gather(*chats) if chats else asyncio.sleep(seconds))
    stop.set()
    await asyncio.gather(*labelling)
    out["wall"] = time.perf_counter() - t0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m", help="Policy the worker loads (default smollm2-135m).")
    parser.add_argument("--chats", type=int, default=4, help="People chatting at once (default 4).")
    parser.add_argument("--messages", type=int, default=4, help="Messages per chat (default 4, at most 6).")
    parser.add_argument("--choice-every", type=int, default=2, help="Every n-th reply is a choice (default 2).")
    parser.add_argument("--max-new-tokens", type=int, default=40, help="Longest reply in tokens (default 40).")
    parser.add_argument("--annotators", type=int, default=4, help="People labelling at the same time (default 4).")
    parser.add_argument("--alone-seconds", type=float, default=30, help="Length of the labelling-alone phase "
                                                                         "(default 30 s); phase 2 lasts the chats.")
    parser.add_argument("--tasks", type=int, default=4000, help="Labelling tasks in the database (default 4000).")
    parser.add_argument("--think-ms", type=float, default=250, help="Mean annotator think time (default 250 ms).")
    parser.add_argument("--chat-think-ms", type=float, default=1000, help="Mean pause before a message (1000 ms).")
    parser.add_argument("--worker-threads", type=int, default=1, help="torch threads of the worker (default 1: "
                                                                      "one core left to the server).")
    parser.add_argument("--worker-nice", type=int, default=10, help="The worker's --nice (default 10, its own).")
    parser.add_argument("--json", help="Also write the numbers here.")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="chat-latency-"))
    db_url = f"sqlite:///{folder / 'chat.db'}"
    # fresh annotators for each phase, all on one pool of tasks (prepare adds 10% slack)
    label_tokens, _ = prepare(db_url, args.annotators * 2, args.tasks // (2 * args.annotators), 1)
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.db import Store

    store = Store(db_url)
    chat_tokens = [invite(store, f"chat-{i}") for i in range(args.chats)]
    store.close()
    settings = ["--label.chat_enabled=true", f"--label.chat_choice_every={args.choice_every}",
                f"--label.chat_max_new_tokens={args.max_new_tokens}", "--label.gold_fraction=0"]
    port = __import__("socket").create_server(("127.0.0.1", 0)).getsockname()[1]
    server = start([sys.executable, "-m", "empathic_rlhf.label", "serve", "--db", db_url, "--port", str(port),
                    *settings], folder / "server.log")
    worker = start([sys.executable, "-m", "empathic_rlhf.label", "worker", "--db", db_url, "--model", args.model,
                    "--threads", str(args.worker_threads), "--nice", str(args.worker_nice), *settings],
                   folder / "worker.log")
    try:
        wait_until(lambda: server_up(port), "server", server, folder / "server.log")
        wait_until(lambda: b"ready" in (folder / "worker.log").read_bytes(), "worker", worker, folder / "worker.log")
        alone = asyncio.run(phase(port, label_tokens[:args.annotators], [], args, args.alone_seconds))
        busy = asyncio.run(phase(port, label_tokens[args.annotators:], chat_tokens, args, None))
    finally:
        for proc in (server, worker):
            proc.terminate()
            proc.wait(30)
    report(alone, busy, args)


def report(alone: dict, busy: dict, args) -> None:
    rng = random.Random(0)
    rows = [("labelling POST, alone", alone["latency"]), ("labelling POST, with chats", busy["latency"]),
            ("chat requests (send, choose)", busy["chat_requests"]),
            ("chat reply: 1 reply", busy["reply_latency"]), ("chat reply: 2 candidates", busy["choice_latency"])]
    print(f"\n{args.chats} chats x {args.messages} messages, {args.annotators} annotators (think {args.think_ms:.0f} ms), "
          f"model {args.model}, {args.max_new_tokens} new tokens, worker threads {args.worker_threads}, "
          f"nice {args.worker_nice}")
    print("| what | n | p50 ms [95% CI] | p95 ms [95% CI] |\n|---|---:|---:|---:|")
    for name, values in rows:
        print(f"| {name} | {len(values)} | {with_interval(values, 0.5, rng)} | {with_interval(values, 0.95, rng)} |")
    p50 = [quantile(r, 0.5) for r in (alone["latency"], busy["latency"])]
    print(f"labelling p50 with chats / alone: {p50[1] / p50[0]:.2f}x; errors: alone {alone['errors']}, "
          f"with chats {busy['errors']}; wall {alone['wall']:.0f} s / {busy['wall']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({name: values for name, values in rows}, indent=1))


if __name__ == "__main__":
    main()
