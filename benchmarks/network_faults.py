"""Network faults, longer than CI can wait for: a worker behind Toxiproxy, requests flowing.

    .venv/bin/python benchmarks/network_faults.py --data-dir ../shared/data

Starts services of its own (as the fault tests do), puts Toxiproxy between one worker
and its broker, PostgreSQL and Redis, and injects 200 ms of latency, then connection
resets, then a partition from the broker, each for as long as asked, with clean seconds
between (tests/faults/test_network.py runs the same faults for 8, 6 and 30 s, 5 s
apart). Prints and writes to docs/results/network/network_faults.json, per fault: the
requests sent during it and their p50 and longest wait, what /health said meanwhile, and
how long after the fault it said ok again; and the requests lost (none, or it raises).
"""
import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.kit import FAILOVER_SYMBOLS, Services  # noqa: E402
from tests.faults.network import FAULTS, LATENCY_MS, network_faults, proxied_worker  # noqa: E402
from tests.faults.toxiproxy import Toxiproxy  # noqa: E402
from tests.workers import regimes_seen, seed_bars  # noqa: E402


async def measure(args) -> dict:
    seconds = {"latency": args.latency_s, "resets": args.resets_s, "partition": args.partition_s}
    services, tmp = Services(), Path(tempfile.mkdtemp(prefix="tft-network-"))
    services.call("up")
    proxy = Toxiproxy(tmp / "toxiproxy.log")
    proxy.start()
    worker = proxied_worker(services, proxy, tmp, uuid.uuid4().hex[:8])
    try:
        worker.start()
        await seed_bars(args.data_dir, [worker], [*FAILOVER_SYMBOLS, "VIX"])
        await regimes_seen([worker], FAILOVER_SYMBOLS)
        run = await network_faults(services, proxy, worker, args.rate, seconds, args.between_s, tag="netbench")
    finally:
        worker.stop()
        proxy.stop()
        services.call("down")
        shutil.rmtree(services.run_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(run.summary())
    faults = {}
    for fault in FAULTS:
        waits = run.waits(fault)
        faults[fault] = {"seconds": seconds[fault], "requests": len(waits),
                         "wait_p50_s": round(waits[len(waits) // 2], 3), "longest_wait_s": round(waits[-1], 3),
                         "health_ok_again_after_s": round(run.recovered_s(fault), 2),
                         "health": dict(Counter(p.status for p in run.probes_in(fault, grace_s=0)))}
    return {"rate_per_s": args.rate, "latency_ms": LATENCY_MS, "clean_s_between": args.between_s,
            "requests": len(run.flow.sent), "lost": 0, "faults": faults}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--rate", type=float, default=20.0, help="requests a second")
    p.add_argument("--latency-s", type=float, default=60.0)
    p.add_argument("--resets-s", type=float, default=30.0)
    p.add_argument("--partition-s", type=float, default=120.0)
    p.add_argument("--between-s", type=float, default=20.0, help="clean seconds before, between and after the faults")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "network" / "network_faults.json")
    args = p.parse_args()
    result = asyncio.run(measure(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
