"""Network faults between a worker and its services, through Toxiproxy, while requests
flow and /health is asked twice a second: 200 ms of latency on every connection, then
connection resets, then a partition from the broker. The subscriber and the client that
sends requests reach the broker directly; only the worker's connections are faulted."""
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.faults.kit import Flow, Services, flow
from tests.faults.toxiproxy import Toxiproxy
from tests.helpers import until
from tests.workers import Worker, new_worker

PROXIED = ("kafka", "postgres", "redis")
LATENCY_MS = 200
FAULTS = ("latency", "resets", "partition")  # a partition: cut off from the broker


def proxied_worker(services: Services, proxy: Toxiproxy, tmp: Path, run: str, **env) -> Worker:
    """A worker whose broker, PostgreSQL and Redis are each behind a proxy of `proxy`."""
    kafka = proxy.proxy("kafka", services.ports["KAFKA_PROXIED_PORT"], services.ports["KAFKA_PROXY_PORT"])
    postgres = proxy.proxy("postgres", services.ports["PG_PORT"])
    redis = proxy.proxy("redis", services.ports["REDIS_PORT"])
    return new_worker(tmp, run, f"postgresql://postgres@127.0.0.1:{postgres}/test", bootstrap=f"127.0.0.1:{kafka}",
                      redis_at=("127.0.0.1", redis, 0), **env)


@dataclass
class Probe:
    at: float
    status: str  # /health's status, or "no answer"
    checks: dict


@dataclass
class NetworkRun:
    flow: Flow
    probes: list[Probe]

    def probes_in(self, fault: str, grace_s: float) -> list[Probe]:
        """The probes from `grace_s` into `fault` until it ended."""
        start, end = self.flow.happened[fault] + grace_s, self.flow.happened[f"{fault} ends"]
        return [p for p in self.probes if start <= p.at < end]

    def waits(self, fault: str) -> list[float]:
        """The waits of the requests sent during `fault`, shortest first."""
        return sorted(self.flow.waits[r] for r in self.flow.sent_between(fault, f"{fault} ends"))

    def recovered_s(self, fault: str) -> float:
        """From the end of `fault` until /health said ok."""
        end = self.flow.happened[f"{fault} ends"]
        return next(p.at for p in self.probes if p.at > end and p.status == "ok") - end

    def summary(self) -> str:
        said = []
        for fault in FAULTS:
            w = self.waits(fault)
            said.append(f"{fault}: {len(w)} sent, wait p50 {w[len(w) // 2]:.2f} s, longest {w[-1]:.2f} s, "
                        f"/health ok {self.recovered_s(fault):.1f} s after")
        return f"{len(self.flow.sent)} requests, 0 lost; " + "; ".join(said)


async def probe_health(url: str, probes: list[Probe], stop: asyncio.Event, every_s: float = 0.5) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while not stop.is_set():
            at = time.monotonic()
            try:
                body = (await client.get(url + "/health")).json()
                probes.append(Probe(at, body["status"], body["checks"]))
            except httpx.HTTPError:
                probes.append(Probe(at, "no answer", {}))
            await asyncio.sleep(every_s)


async def network_faults(services: Services, proxy: Toxiproxy, worker: Worker, rate: float,
                         seconds: dict[str, float], between_s: float, tag: str) -> NetworkRun:
    """Requests at `rate` a second while each fault of FAULTS lasts its `seconds`, with
    `between_s` clean seconds before, between and after them; returns once every request
    has a result and /health says ok."""
    def toxic(kind: str, **attributes):
        def add():
            for name in PROXIED:
                proxy.toxic(name, kind, **attributes)
        return add

    def clear():
        for name in PROXIED:
            proxy.clear(name)

    faults = {"latency": (toxic("latency", latency=LATENCY_MS), clear),
              # every connection is reset as soon as data crosses it
              "resets": (toxic("reset_peer", timeout=0), clear),
              "partition": (lambda: proxy.enable("kafka", False), lambda: proxy.enable("kafka", True))}
    events, t = [], between_s
    for fault in FAULTS:
        begin, end = faults[fault]
        events += [(t, fault, begin), (t + seconds[fault], f"{fault} ends", end)]
        t += seconds[fault] + between_s
    probes: list[Probe] = []
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_health(worker.url, probes, stop))
    try:
        f = await flow(services.bootstrap, [worker], rate, t, tag, events)
        healed = f.happened["partition ends"]

        async def healthy() -> bool:
            return probes[-1].status == "ok" and probes[-1].at > healed
        await until(healthy, 60, "/health ok after the partition")
    finally:
        stop.set()
        await prober
    return NetworkRun(f, probes)
