import pytest

from inference.baseline import RandomWalkForecaster
from inference.models import ContractError, check_contract


class Forecaster(RandomWalkForecaster):
    def __init__(self, **changes):
        super().__init__(63)
        self.__dict__.update(changes)


def test_a_worker_refuses_a_model_the_contract_cannot_hold():
    check_contract(Forecaster(), window_bars=512)
    with pytest.raises(ContractError, match="horizons"):
        check_contract(Forecaster(horizons=(1, 5)), 512)
    with pytest.raises(ContractError, match="quantiles"):
        check_contract(Forecaster(quantiles=(0.05, 0.5, 0.95)), 512)
    with pytest.raises(ContractError, match="TFT_WINDOW_BARS=50 is shorter than the 64 bars"):
        check_contract(Forecaster(), 50)
