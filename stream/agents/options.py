"""options.quotes -> option_surfaces: each chain fitted into its underlying's surface.

A fit takes seconds (the SPX chain of 1,472 quotes, 16 s), so it runs in a process of
its own, where it holds neither the event loop nor the interpreter lock that serving
needs; chains are fitted one at a time, in the order they came. A chain that is not one,
or that no expiry of can be fitted, goes to the topic's dead-letter topic with the
reason, and the agent carries on. A chain older than the symbol's surface is not fitted:
a surface only moves forward in time.
"""
import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from inference.greeks import risk_free_rate
from inference.surface import fit_chain
from schemas import OptionChain, SchemaError, decode
from stream import metrics
from stream.dlq import send_dead_letter
from stream.keys import check_key, check_size
from stream.tables import as_event, contexts, option_surfaces, surfaces
from stream.topics import OPTIONS_QUOTES, options_quotes

log = logging.getLogger(__name__)
MAX_CHAIN_BYTES = 1 << 20  # Kafka's default message limit: 10,000 quotes fit (MAX_CHAIN_QUOTES)


def fitter() -> ProcessPoolExecutor:
    # spawned, not forked: a fork would copy the worker's model, tables and sockets
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))


async def refuse(rt, event, reason: str) -> None:
    await send_dead_letter(rt.delivery, event, OPTIONS_QUOTES, reason)
    metrics.option_chains_total.labels("dead_letter").inc()


def install(rt) -> None:
    @rt.app.agent(options_quotes)
    async def fit_chains(stream):
        await fit_all(rt, stream)


async def fit_all(rt, stream) -> None:
    pool = fitter()
    try:
        async for event in stream.events():
            try:
                check_size(event.value, MAX_CHAIN_BYTES)
                chain = decode(OptionChain, event.value)
                check_key(event.key, chain.symbol)
            except SchemaError as e:
                await refuse(rt, event, str(e))
                continue
            held = surfaces.info(chain.symbol)
            if held is not None and held.as_of > chain.as_of:
                await refuse(rt, event,
                             f"{chain.symbol}'s surface is of {held.as_of}; a chain of {chain.as_of} is older")
                continue
            rate = risk_free_rate(contexts.of(chain.symbol))
            try:
                info = await asyncio.get_running_loop().run_in_executor(pool, fit_chain, chain, rate)
            except BrokenProcessPool:  # the fitting process died (out of memory, say): a new one
                pool.shutdown(wait=False)
                pool = fitter()
                info = None
                reason = "the fitting process died"
            except Exception as e:  # noqa: BLE001 - a chain no expiry of can be fitted, or worse: its own
                info, reason = None, f"no surface: {e}"
            if info is None:
                await refuse(rt, event, reason)
                continue
            with as_event(event):
                option_surfaces[chain.symbol.encode()] = info.model_dump_json().encode()
            metrics.option_chains_total.labels("fitted").inc()
            metrics.option_fit_seconds.observe(info.fit_seconds)
            log.info("%s option surface of %s: %d expiries from %d quotes in %.1f s", chain.symbol, chain.as_of,
                     len(info.smiles), info.quotes_received, info.fit_seconds)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
