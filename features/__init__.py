"""One feature pipeline for batch (training, backtests) and streaming (a window of bars)."""
