from dataclasses import dataclass

RUNTIMES = ("torch", "onnx", "auto")  # TFT_RUNTIME, what runs the forward pass in serving (tft/runtime.py)


@dataclass(frozen=True)
class TFTConfig:
    # Sizes. The defaults train on the 55-symbol panel on 2 CPU cores in minutes;
    # `full()` is the paper-sized model for a GPU.
    hidden_size: int = 32  # TFT_HIDDEN_SIZE
    num_heads: int = 4  # TFT_NUM_HEADS
    num_layers: int = 1  # TFT_NUM_LAYERS: LSTM layers in encoder and decoder
    variable_size: int = 8  # width of each input variable before selection
    encoder_length: int = 63  # MAX_SEQUENCE_LENGTH: past sessions the model reads
    horizons: tuple[int, ...] = (1, 5, 10, 21)  # sessions ahead; the decoder runs max(horizons)
    quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
    dropout: float = 0.2
    # Inputs, fixed by the data the model is trained on.
    n_observed: int = 0  # past-only features (each comes with a mask)
    n_known: int = 0  # calendar features, known for the decoder's days too
    n_symbols: int = 1  # symbol embedding rows; row 0 is "unknown symbol"
    n_asset_classes: int = 1
    # Loss weights: pinball loss + these times the point, volatility and direction terms.
    point_weight: float = 0.5
    vol_weight: float = 0.1
    direction_weight: float = 0.1

    def __post_init__(self):
        assert self.hidden_size % self.num_heads == 0, "heads must divide the hidden size"
        assert list(self.quantiles) == sorted(self.quantiles) and 0.5 in self.quantiles
        assert self.horizons == tuple(sorted(self.horizons))

    @property
    def decoder_length(self) -> int:
        return self.horizons[-1]

    @classmethod
    def full(cls, **inputs) -> "TFTConfig":
        """The seed's full-size model: hidden 128, 8 heads, a 252-session encoder."""
        return cls(hidden_size=128, num_heads=8, num_layers=2, variable_size=16,
                   encoder_length=252, dropout=0.1, **inputs)


@dataclass(frozen=True)
class GateConfig:
    sessions: int = 63
    # The candidate's pinball loss may exceed the active model's by this share at a horizon ...
    pinball_tolerance: float = 0.0
    # ... and its coverage error |coverage - nominal| the active model's by this much.
    coverage_tolerance: float = 0.02
    symbols: tuple[str, ...] = ()  # scored on these; empty: the whole panel


@dataclass(frozen=True)
class RetrainConfig:
    full_epochs: int = 20  # RETRAIN_FULL_EPOCHS: from scratch, on everything up to the last day
    incremental_epochs: int = 3  # RETRAIN_INCREMENTAL_EPOCHS: from the active model's weights ...
    incremental_years: int = 0  # ... on the origins of the last N years; 0: of every year (an expanding window) ...
    incremental_lr: float = 3e-4  # ... at a smaller step
    # RETRAIN_DEPENDENCE_SESSIONS: the origins of a full retrain's copula fit (an incremental
    # one keeps the served copula, as it keeps the regime book): two years
    dependence_sessions: int = 500
    batch_size: int = 128  # BATCH_SIZE: training origins per step (larger on a GPU)
    # RETRAIN_THREADS: CPU threads a retraining job trains with; 0: every core but one, so
    # that the worker it runs beside keeps a core to serve with.
    threads: int = 0
