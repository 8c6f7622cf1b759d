"""Toxiproxy between a worker and its broker, PostgreSQL and Redis: its own process on a
free port, a proxy per service, and the faults the network tests inject through its HTTP
API (github.com/Shopify/toxiproxy, built by `make setup`)."""
import subprocess
import time
from pathlib import Path

import httpx

from tests.workers import free_port

TOOLS = Path(__file__).resolve().parents[2] / ".tools"


def binary() -> Path:
    found = sorted(TOOLS.glob("toxiproxy-v*"))
    if not found:
        raise FileNotFoundError(f"no Toxiproxy in {TOOLS}: run make setup")
    return found[-1]


class Toxiproxy:
    def __init__(self, log_path: Path):
        self.port = free_port()
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5)
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(binary()), "-host", "127.0.0.1", "-port", str(self.port)],
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.api.get("/version").raise_for_status()
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.api.close()

    def proxy(self, name: str, upstream_port: int, listen_port: int | None = None) -> int:
        """A proxy named `name` to 127.0.0.1:`upstream_port`; returns the port it listens on."""
        listen_port = listen_port or free_port()
        self.api.post("/proxies", json={"name": name, "listen": f"127.0.0.1:{listen_port}",
                                        "upstream": f"127.0.0.1:{upstream_port}", "enabled": True}).raise_for_status()
        return listen_port

    def toxic(self, proxy: str, kind: str, stream: str = "downstream", **attributes) -> None:
        """Adds a toxic (latency, reset_peer, ...) to every connection through `proxy`."""
        self.api.post(f"/proxies/{proxy}/toxics", json={"name": f"{kind}_{stream}", "type": kind, "stream": stream,
                                                        "toxicity": 1.0, "attributes": attributes}
                      ).raise_for_status()

    def clear(self, proxy: str) -> None:
        for t in self.api.get(f"/proxies/{proxy}/toxics").raise_for_status().json():
            self.api.delete(f"/proxies/{proxy}/toxics/{t['name']}").raise_for_status()

    def enable(self, proxy: str, enabled: bool) -> None:
        """A disabled proxy closes its connections and refuses new ones: a network partition."""
        self.api.post(f"/proxies/{proxy}", json={"enabled": enabled}).raise_for_status()
