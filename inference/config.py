from dataclasses import dataclass
from pathlib import Path

from inference.conformal import GAMMA


@dataclass(frozen=True)
class InferenceConfig:
    model: str = "default"  # "baseline", "default" (the committed artifact), a path or a registry version
    max_batch: int = 64  # requests scored in one forward pass
    max_wait_ms: float = 5.0  # a batch closes after this long even if not full
    baseline_vol_window: int = 63  # trading days of returns behind the random walk's sigma
    # RISK_RULES: the risk rules (inference/risk.py) whose factors widen a forecast; the
    # others are reported beside them. The kept ones are those the walk-forward showed help.
    risk_rules: tuple[str, ...] = ("vix_inversion", "drawdown")
    device: str = "cpu"
    # TFT_RUNTIME: torch, onnx (onnxruntime on the graph beside the artifact, exported if
    # missing) or auto (onnx on the CPU where the graph is there; tft/runtime.py says why).
    runtime: str = "auto"
    # TFT_CUDA_GRAPHS: on a GPU under torch, replay the forward pass from CUDA graphs, one
    # per batch-size bucket (tft/graphs.py). Off until measured on a GPU.
    cuda_graphs: bool = False
    # ADAPTIVE_INTERVALS: serve intervals scaled by what live validation learnt
    # (inference/conformal.py); ADAPTIVE_GAMMA its step per outcome day.
    adaptive_intervals: bool = True
    adaptive_gamma: float = GAMMA
    # What TFT_MODEL=default serves: the committed artifact of a checkout, or wherever an
    # install put it (TFT_DEFAULT_ARTIFACT; the image's is /app/artifacts/default.pt).
    default_artifact: Path = Path(__file__).resolve().parents[1] / "artifacts" / "default.pt"
    # Where registered artifacts are kept (a volume or bucket mount every worker reads),
    # and how often a worker looks for a newly active version.
    model_store: Path = Path(".run/models")
    model_check_s: float = 2.0
    model_cache_size: int = 2  # MODEL_CACHE_SIZE: versions kept loaded, the served one included
