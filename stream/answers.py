"""Asks served, and what every served ask leaves on Kafka: its result (for a request
that came over Kafka), its ledger record for the metrics sink and any risk events."""
from inference.service import Outcome
from inference.serving import Ask
from schemas import ServedForecast, encode
from stream import metrics
from stream.topics import forecast_ledger, forecast_results, send_risk_events


async def serve(rt, asks: list[Ask], source: str, events: list | None = None,
                publish: bool = True) -> tuple[list[Outcome], list]:
    """Serves the asks, answering on forecast.results those that came over Kafka (each
    from `events[i]`; not a book's members, whose answer is the book's), and hands each
    one's ledger record and risk events to the runtime's delivery: (the outcomes, the
    ledger sends' futures, for a caller that must wait until its rows cannot be lost)."""
    outcomes = await (await rt.opened()).serve(asks)
    sent = []
    for i, (ask, outcome) in enumerate(zip(asks, outcomes)):
        key, result, event = ask.request.symbol.encode(), outcome.result, events[i] if events else None
        if source == "kafka" and publish:
            await rt.delivery.send(forecast_results, key, encode(result), event)
        sent.append(await rt.delivery.send(forecast_ledger, key, encode(ServedForecast(
            request=ask.request, result=result, source=source, last_close=last_close(ask.window))), event))
        await send_risk_events(rt.delivery, key, outcome.risk_events, event)
        metrics.count_result(source, result)
    return outcomes, sent


def last_close(window) -> float | None:
    return float(window.close[-1]) if window is not None and len(window) else None
