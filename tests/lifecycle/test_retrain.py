"""The retrain pipeline's process: its steps come back over a queue as they happen, and a
job that cannot run says why, with no broker and no worker."""
import pandas as pd
import pytest

from features.data import COLUMNS
from lifecycle.retrain import ENDS, RetrainJob, run_in_process
from lifecycle.settings import load_lifecycle_settings


def no_bars() -> pd.DataFrame:
    """What market.ticks adds when it holds nothing newer than the data folder."""
    return pd.DataFrame(columns=COLUMNS)


def broken_feed() -> pd.DataFrame:
    raise ConnectionError("the broker is away")


@pytest.mark.parametrize("bars, data, message", [
    (no_bars, "empty", "DataNotFound"),  # the data folder holds no panel
    (broken_feed, "real", "ConnectionError: the broker is away"),
])
async def test_a_job_that_cannot_run_ends_failed_with_its_reason(tmp_path, data_dir, bars, data, message):
    (tmp_path / "empty").mkdir()
    folder = tmp_path / "empty" if data == "empty" else data_dir
    settings = load_lifecycle_settings({"MARKET_DATA_DIR": str(folder), "TFT_MODEL_STORE": str(tmp_path / "store")})
    steps = [s async for s in run_in_process(settings, RetrainJob(job_id="t-1"), bars)]
    assert [s["kind"] for s in steps] == ["failed"], steps
    assert message in steps[0]["message"] and steps[0]["kind"] in ENDS


def dies() -> pd.DataFrame:
    import os
    os._exit(7)  # as an out-of-memory kill would: no word on the queue


async def test_a_job_process_that_dies_is_told_as_failed_with_its_exit_status(tmp_path):
    settings = load_lifecycle_settings({"MARKET_DATA_DIR": str(tmp_path)})
    steps = [s async for s in run_in_process(settings, RetrainJob(job_id="t-2"), dies)]
    assert steps == [{"kind": "failed", "message": "the retrain process ended with exit status 7", "progress": 0.0}]


def tells_its_threads() -> pd.DataFrame:
    import torch
    raise RuntimeError(f"trains with {torch.get_num_threads()} threads")


@pytest.mark.parametrize("configured", ["1", "0"])
async def test_a_job_trains_with_the_threads_asked_or_every_core_but_one(tmp_path, configured):
    import os
    settings = load_lifecycle_settings({"MARKET_DATA_DIR": str(tmp_path), "RETRAIN_THREADS": configured})
    steps = [s async for s in run_in_process(settings, RetrainJob(job_id="t-3"), tells_its_threads)]
    expected = int(configured) or max(1, os.cpu_count() - 1)
    assert steps[-1]["message"] == f"RuntimeError: trains with {expected} threads", steps
