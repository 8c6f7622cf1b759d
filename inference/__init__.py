"""From a window of bars to a forecast result: models, micro-batching, risk adjustment."""
