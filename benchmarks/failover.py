"""Failover of two workers: how long a request waits when one of them is killed -9.

    .venv/bin/python benchmarks/failover.py --data-dir ../shared/data

Each variant starts services of its own (Kafka, PostgreSQL, Redis, as the fault tests
do), two workers of one group over 4 partitions, seeds their windows, and sends a steady
flow of requests; one worker is killed -9 and started again later, `--kills` times. It
prints, per variant, the longest wait of any request (publish to first result) and the
longest of those sent while a worker was down, and writes them to
docs/results/failover/failover.json. The variants: standby replicas 0 and 1 (whether
the survivor holds the dead worker's windows before it needs them), at the session
timeout given (how long the group waits for a worker that stopped answering), under
the guarantee given (read read_committed under exactly once).
"""
import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.kit import FAILOVER_SYMBOLS, Services, failover, subscriber_isolation  # noqa: E402
from tests.workers import new_worker, regimes_seen, seed_bars, start_all, stop_all  # noqa: E402


async def variant(data_dir: Path, standby: int, session_s: float, kills: int, rate: float, guarantee: str) -> dict:
    services, tmp = Services(), Path(tempfile.mkdtemp(prefix="tft-failover-"))
    services.call("up")
    run = uuid.uuid4().hex[:8]
    workers = []
    for i in range(2):
        (tmp / f"w{i}").mkdir()
        workers.append(new_worker(tmp / f"w{i}", run, services.database_url, bootstrap=services.bootstrap,
                                  redis_at=("127.0.0.1", services.ports["REDIS_PORT"], 0),
                                  KAFKA_SESSION_TIMEOUT_S=str(session_s), TFT_STANDBY_REPLICAS=str(standby),
                                  TFT_PROCESSING_GUARANTEE=guarantee))
    try:
        start_all(workers)
        await seed_bars(data_dir, workers, [*FAILOVER_SYMBOLS, "VIX"])
        await regimes_seen(workers, FAILOVER_SYMBOLS)
        rounds = []
        for k in range(kills):
            flow = await failover(services.bootstrap, workers, workers[k % 2], rate=rate, kill_at=10,
                                  back_at=10 + 3 * session_s, end=20 + 4 * session_s, tag=f"bench{k}",
                                  isolation_level=subscriber_isolation(guarantee))
            print(f"{guarantee}, standby {standby}, session {session_s:g} s, kill {k + 1}: {flow.summary()}",
                  flush=True)
            down = [flow.waits[r] for r in flow.sent_between("kill", "back")]
            rounds.append({"requests": len(flow.sent), "longest_wait_s": round(flow.longest_wait(), 3),
                           "longest_wait_sent_while_down_s": round(max(down), 3),
                           "served_by_the_killed_worker_once_back": flow.served_after_return})
    finally:
        stop_all(workers)
        services.call("down")
        shutil.rmtree(services.run_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"guarantee": guarantee, "standby_replicas": standby, "session_timeout_s": session_s, "rate_per_s": rate,
            "kills": rounds,
            "longest_wait_s": max(r["longest_wait_s"] for r in rounds)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--session-timeout", type=float, default=10.0)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--rate", type=float, default=20.0, help="requests a second")
    p.add_argument("--guarantee", choices=("at_least_once", "exactly_once"),
                   default="at_least_once")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "failover" / "failover.json")
    args = p.parse_args()
    results = [asyncio.run(variant(args.data_dir, standby, args.session_timeout, args.kills, args.rate,
                                   args.guarantee))
               for standby in (0, 1)]
    for r in results:
        print(f"standby replicas {r['standby_replicas']}: longest wait {r['longest_wait_s']:.2f} s "
              f"over {args.kills} kills at {r['session_timeout_s']:g} s session timeout")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
