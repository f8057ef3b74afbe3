"""Load test of the labelling server: N concurrent annotators x M labels each, against a real server process on
127.0.0.1 (``python -m empathic_rlhf.label serve``), then a check of the database.

    python benchmarks/label_load.py                  # SQLite and PostgreSQL, think 0 and 250 ms, side by side
    python benchmarks/label_load.py --dbs sqlite --labels 100 --admin-poll-s 1    # quicker; an admin polling
    python benchmarks/label_load.py --pg-url postgresql+psycopg://...   # an existing, empty PostgreSQL server

PostgreSQL: without ``--pg-url`` a throw-away server is started from Debian's binaries on a loopback port.

Each annotator opens its own keep-alive connection, fetches a task, then posts labels; every POST answers with
the next task, so one label = one request. Latency is measured per POST at the client. Checks: exactly N*M labels
stored, every acknowledged label present, no (task, annotator) twice, no task past its quota. With think time 0
the annotators form a closed loop, so latency there is mostly queueing (Little's law: latency ~ N / throughput);
the think-time run is the realistic one (people take seconds per label, not zero).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def prepare(db_url: str, annotators: int, labels: int, overlap: int) -> tuple[list[str], str]:
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.config import LabelConfig
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.tasks import import_tasks
    from empathic_rlhf.io import write_jsonl

    n_tasks = int(annotators * labels * 1.1 / overlap) + annotators  # 10% slack so nobody runs dry at the end
    tasks = [{"task_id": f"load{i}", "kind": "policy-samples", "conv_id": f"c{i}", "emotion": "sad",
              "situation": "A situation. " * 8, "history": [{"role": "speaker", "text": "Some story. " * 10}],
              "prompt": [{"role": "user", "content": "Some story. " * 10}],
              "candidates": [{"cand_id": f"c{j}", "text": f"Reply {j}. " * 12, "source": "p"} for j in range(4)],
              "sampling": {}} for i in range(n_tasks)]
    folder = Path(tempfile.mkdtemp(prefix="label-load-"))
    write_jsonl(folder / "tasks.jsonl", tasks)
    store = Store(db_url)
    import_tasks(store, folder / "tasks.jsonl", LabelConfig(overlap=overlap, calibration_fraction=0.0))
    tokens = [invite(store, f"load-{i}") for i in range(annotators)]
    admin = invite(store, "load-admin", admin=True)
    store.close()
    return tokens, admin


def start_server(db_url: str, port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "empathic_rlhf.label", "serve", "--db", db_url, "--port",
                             str(port), "--label.gold_fraction=0"], stdout=subprocess.DEVNULL)
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit("server exited at start")
        try:
            httpx.get(f"http://127.0.0.1:{port}/guidelines", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    sys.exit("server did not start")


class Connection:
    """A minimal HTTP/1.1 keep-alive JSON client on asyncio streams: the load generator shares the 2 cores with
    the server, so it must cost far less per request than the server (httpx cost about half as much)."""

    def __init__(self, port: int, token: str):
        self.port, self.auth = port, f"Authorization: Bearer {token}\r\n"

    async def __aenter__(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def _reconnect(self):
        self.writer.close()
        await self.__aenter__()

    async def __aexit__(self, *exc):
        self.writer.close()

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else b""
        message = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.auth}Content-Type: application/json\r\n"
                   f"Content-Length: {len(data)}\r\n\r\n").encode() + data
        for attempt in (1, 2):
            try:
                self.writer.write(message)
                first = await self.reader.readline()
            except ConnectionError:
                first = b""
            if first:
                break
            # the server closed an idle keep-alive connection (uvicorn: after 5 s); reconnect and resend, as a
            # browser does: safe, since a label POST for the same assignment is idempotent
            if attempt == 2:
                raise ConnectionError("server closed the connection twice")
            await self._reconnect()
        status = int(first.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, json.loads(await self.reader.readexactly(length)) if length else {}


async def label_one(c: Connection, nxt: dict, think_s: float, rng: random.Random, out: dict) -> dict | None:
    """Think, then label the task ``nxt`` (a random best reply, one POST as the page does), timing the request;
    returns the server's answer, or None after recording a non-200 status in ``out["errors"]``."""
    if think_s:
        await asyncio.sleep(rng.expovariate(1 / think_s))
    body = {"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "best",
            "best": rng.choice(nxt["task"]["candidates"])["cand_id"], "seconds": 3.0}
    t0 = time.perf_counter()
    status, answer = await c.request("POST", "/api/labels", body)
    out["latency"].append(time.perf_counter() - t0)
    if status != 200:
        out["errors"].append(status)
        return None
    return answer


async def annotate(port: int, token: str, labels: int, think_s: float, rng: random.Random, out: dict) -> None:
    async with Connection(port, token) as c:
        nxt = (await c.request("GET", "/api/next"))[1]
        for _ in range(labels):
            if nxt["done"]:
                out["ran_dry"] += 1
                return
            if (answer := await label_one(c, nxt, think_s, rng, out)) is None:
                return
            out["acked"].add(answer["label_id"])
            nxt = answer["next"]


async def poll_admin(port: int, token: str, every_s: float, out: dict, stop: asyncio.Event) -> None:
    """An admin with the dashboard open, refreshing every ``every_s`` seconds."""
    async with Connection(port, token) as c:
        while not stop.is_set():
            t0 = time.perf_counter()
            status, _ = await c.request("GET", "/api/admin/stats")
            out["admin_latency"].append(time.perf_counter() - t0)
            if status != 200:
                out["errors"].append(status)
            try:
                await asyncio.wait_for(stop.wait(), every_s)
            except asyncio.TimeoutError:
                pass


async def run_load(port: int, tokens: list[str], labels: int, think_s: float, deadline_s: float,
                   admin: str | None = None, admin_poll_s: float = 0.0) -> dict:
    out = {"latency": [], "acked": set(), "errors": [], "ran_dry": 0, "admin_latency": []}
    jobs = [annotate(port, t, labels, think_s, random.Random(i), out) for i, t in enumerate(tokens)]
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_admin(port, admin, admin_poll_s, out, stop)) if admin_poll_s else None
    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*jobs), deadline_s)
    out["wall"] = time.perf_counter() - t0
    stop.set()
    if poller:
        await poller
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): the server's cost per label, whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check(db_url: str) -> dict:
    from empathic_rlhf.label.db import Store

    store = Store(db_url, upgrade=False)
    with store.engine.connect() as conn:
        def q(sql):
            return conn.exec_driver_sql(sql).scalar()
        result = {
            "labels": q("SELECT count(*) FROM labels"),
            "label_ids": {r[0] for r in conn.exec_driver_sql("SELECT id FROM labels")},
            "dup_task_annotator": q("SELECT count(*) FROM (SELECT task_id, annotator_id FROM assignments "
                                    "GROUP BY task_id, annotator_id HAVING count(*) > 1) d"),
            "over_quota": q("SELECT count(*) FROM tasks t WHERE (SELECT count(*) FROM labels l "
                            "WHERE l.task_id = t.id) > t.quota"),
            "negative_remaining": q("SELECT count(*) FROM tasks WHERE remaining < 0"),
        }
    store.close()
    return result


def time_stats(db_url: str) -> float:
    """What one computation of the admin page's numbers costs on the finished database (the cache aside)."""
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.progress import stats

    store = Store(db_url, upgrade=False)
    stats(store)  # imports and connection set-up are not the query's cost
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        stats(store)
        times.append(1000 * (time.perf_counter() - t0))
    store.close()
    return statistics.median(times)


def start_postgres() -> tuple[str, callable]:
    """A throw-away PostgreSQL server on a loopback port (Debian's binaries), and how to stop it."""
    from empathic_rlhf.label.local_postgres import PostgresUnavailable, start_local_postgres

    try:
        return start_local_postgres("max_connections=200")
    except PostgresUnavailable as e:
        sys.exit(f"PostgreSQL unavailable: {e}; or pass --pg-url")


def fresh_pg_database(server_url: str, name: str) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def one_run(db_url: str, args, think_ms: float, admin_poll_s: float) -> dict:
    """One load run against a fresh database; the numbers for one column of the table."""
    tokens, admin = prepare(db_url, args.annotators, args.labels, args.overlap)
    port = __import__("socket").create_server(("127.0.0.1", 0)).getsockname()[1]
    server = start_server(db_url, port)
    try:
        cpu0, client0 = cpu_seconds(server.pid), cpu_seconds(os.getpid())
        out = asyncio.run(run_load(port, tokens, args.labels, think_ms / 1000, args.deadline, admin, admin_poll_s))
        out["server_cpu"] = cpu_seconds(server.pid) - cpu0
        out["client_cpu"] = cpu_seconds(os.getpid()) - client0
    finally:
        server.terminate()
        server.wait(30)
    db = check(db_url)
    stats_ms = time_stats(db_url)
    lat = sorted(out["latency"])
    def pct(xs, p):
        return 1000 * xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")
    want = args.annotators * args.labels
    ok = (db["labels"] == want and out["acked"] <= db["label_ids"] and len(out["acked"]) == want
          and db["dup_task_annotator"] == 0 and db["over_quota"] == 0 and db["negative_remaining"] == 0
          and not out["errors"])
    admin_lat = sorted(out["admin_latency"])
    return {"ok": ok, "rows": [
        ("labels stored / expected", f"{db['labels']} / {want}"),
        ("acknowledged labels missing from DB", len(out["acked"] - db["label_ids"])),
        ("duplicate (task, annotator) / over quota", f"{db['dup_task_annotator']} / {db['over_quota']}"),
        ("HTTP errors", len(out["errors"])), ("annotators that ran out of tasks", out["ran_dry"]),
        ("throughput (labels/s)", f"{len(lat) / out['wall']:.0f}"),
        ("latency p50 (ms)", f"{pct(lat, 50):.1f}"), ("latency p90 (ms)", f"{pct(lat, 90):.1f}"),
        ("latency p99 (ms)", f"{pct(lat, 99):.1f}"), ("latency max (ms)", f"{1000 * lat[-1]:.1f}"),
        ("server CPU per label (ms)", f"{1000 * out['server_cpu'] / max(1, len(lat)):.2f}"),
        ("load generator CPU per label (ms)", f"{1000 * out['client_cpu'] / max(1, len(lat)):.2f}"),
        ("admin stats polls / p50 / max (ms)", f"{len(admin_lat)} / {pct(admin_lat, 50):.0f} / "
                                               f"{1000 * admin_lat[-1]:.0f}" if admin_lat else "-"),
        ("admin stats computation after the run (ms, median of 3)", f"{stats_ms:.0f}"),
        ("load average at end (1 min)", f"{os.getloadavg()[0]:.2f}"),
        ("p99 < 50 ms", "met" if pct(lat, 99) < 50 else "NOT met")]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--labels", type=int, default=200, help="labels per annotator")
    ap.add_argument("--overlap", type=int, default=2)
    ap.add_argument("--think-ms", type=float, nargs="+", default=[0.0, 250.0],
                    help="mean (exponential) pauses before each label, one run each (default 0 and 250)")
    ap.add_argument("--dbs", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--pg-url", help="an existing PostgreSQL server (default: start a throw-away one)")
    ap.add_argument("--admin-poll-s", type=float, default=0.0,
                    help="also poll the admin stats every this many seconds during each run (0: no admin)")
    ap.add_argument("--deadline", type=float, default=540.0, help="give up a run after this many seconds of load")
    args = ap.parse_args()

    columns, stop_pg = {}, None
    try:
        for db in args.dbs.split(","):
            for think in args.think_ms:
                if db == "sqlite":
                    url = f"sqlite:///{tempfile.mkdtemp(prefix='label-load-db-')}/label.db"
                else:
                    if args.pg_url is None and stop_pg is None:
                        args.pg_url, stop_pg = start_postgres()
                    url = fresh_pg_database(args.pg_url, f"label_load_{int(think)}")
                print(f"running {db}, think {think:g} ms ...", file=sys.stderr, flush=True)
                columns[f"{db}, think {think:g} ms"] = one_run(url, args, think, args.admin_poll_s)
    finally:
        if stop_pg:
            stop_pg()
    print(f"\nlabel load: {args.annotators} annotators x {args.labels} labels each, overlap {args.overlap}, "
          f"{os.cpu_count()} CPUs shared by client and server"
          + (f", an admin polling stats every {args.admin_poll_s:g} s" if args.admin_poll_s else "") + "\n")
    names = list(columns)
    print("| metric | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for i, (metric, _) in enumerate(columns[names[0]]["rows"]):
        print(f"| {metric} | " + " | ".join(str(columns[n]["rows"][i][1]) for n in names) + " |")
    ok = all(c["ok"] for c in columns.values())
    print(f"\nresult: {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
