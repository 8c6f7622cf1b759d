import pytest
import torch

from tft.config import TFTConfig
from tft.losses import pinball, tft_loss
from tft.model import TemporalFusionTransformer, TFTInputs

CFG = TFTConfig(hidden_size=16, num_heads=4, encoder_length=10, horizons=(1, 3, 5),
                n_observed=6, n_known=2, n_symbols=4, n_asset_classes=3, dropout=0.0)
B = 3


def inputs(seed=0) -> TFTInputs:
    g = torch.Generator().manual_seed(seed)
    E, H = CFG.encoder_length, CFG.decoder_length
    return TFTInputs(static=torch.tensor([[1, 1], [2, 2], [0, 0]]),
                     observed=torch.randn(B, E, 6, generator=g), observed_mask=torch.ones(B, E, 6),
                     known_past=torch.randn(B, E, 2, generator=g),
                     known_future=torch.randn(B, H, 2, generator=g))


def test_shapes_and_non_crossing_quantiles():
    torch.manual_seed(0)
    model = TemporalFusionTransformer(CFG).eval()
    out = model(inputs())
    Z, Q = len(CFG.horizons), len(CFG.quantiles)
    assert out.quantiles.shape == (B, Z, Q) and out.point.shape == (B, Z)
    assert (out.quantiles.diff(dim=-1) > 0).all()
    assert out.encoder_weights.shape == (B, CFG.encoder_length, 8)
    assert out.decoder_weights.shape == (B, CFG.decoder_length, 2)
    assert out.attention.shape == (B, CFG.decoder_length, CFG.encoder_length + CFG.decoder_length)


def test_a_decoder_step_cannot_see_later_known_inputs():
    torch.manual_seed(0)
    model = TemporalFusionTransformer(CFG).eval()
    x = inputs()
    base = model(x)
    x.known_future[:, 3:] += 3.0  # days after the 3rd forecast day
    changed = model(x)
    # horizons 1 and 3 end at decoder steps 0 and 2: unchanged; horizon 5 (step 4) moves
    torch.testing.assert_close(changed.quantiles[:, :2], base.quantiles[:, :2])
    assert not torch.allclose(changed.quantiles[:, 2], base.quantiles[:, 2])


def test_the_mask_channel_distinguishes_missing_from_zero():
    torch.manual_seed(0)
    model = TemporalFusionTransformer(CFG).eval()
    x = inputs()
    a = model(x).point
    x.observed_mask[:, :, 0] = 0.0
    assert not torch.allclose(model(x).point, a)


def test_loss_decreases_when_fitting_one_batch():
    torch.manual_seed(0)
    model = TemporalFusionTransformer(CFG)
    x, y = inputs(), torch.randn(B, len(CFG.horizons))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        loss, parts = tft_loss(model(x), y, CFG)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first or loss.item()
    assert loss.item() < 0.5 * first
    assert set(parts) == {"pinball", "point", "vol", "dir"}


def test_pinball_is_zero_only_for_a_perfect_forecast():
    y = torch.tensor([[0.5]])
    levels = torch.tensor([0.1, 0.5, 0.9])
    assert pinball(torch.full((1, 1, 3), 0.5), y, levels) == 0
    assert pinball(torch.tensor([[[0.0, 0.5, 1.0]]]), y, levels) > 0


def test_the_device_is_chosen_once_and_cuda_is_refused_where_there_is_none():
    from tft.device import choose
    assert choose("cpu").type == "cpu"
    assert choose("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            choose("cuda")


def test_outputs_come_back_in_full_precision_from_any_autocast():
    out = TemporalFusionTransformer(CFG).eval()(inputs())
    half = type(out)(**{k: v.to(torch.bfloat16) for k, v in vars(out).items()})
    full = half.float()
    assert all(v.dtype == torch.float32 for v in vars(full).values())
    assert torch.allclose(full.quantiles, out.quantiles, rtol=1e-2, atol=1e-2)
