import torch

from tft.blocks import (GatedLinearUnit, GatedResidualNetwork, InterpretableMultiHeadAttention,
                        VariableSelectionNetwork, VariableWiseGRN, VariableWiseLinear)

B, T, V, D = 4, 7, 5, 16


def test_glu_and_grn_shapes_and_context():
    x = torch.randn(B, T, 8)
    assert GatedLinearUnit(8, D)(x).shape == (B, T, D)
    grn = GatedResidualNetwork(8, D, D, d_context=D)
    c = torch.randn(B, 1, D)
    out = grn(x, c)
    assert out.shape == (B, T, D)
    assert not torch.allclose(out, grn(x, torch.zeros_like(c)))  # the context is used


def test_variable_wise_layers_are_independent_per_variable():
    torch.manual_seed(0)
    lin = VariableWiseLinear(V, 3, D)
    x = torch.randn(B, T, V, 3)
    y = lin(x)
    assert y.shape == (B, T, V, D)
    x2 = x.clone()
    x2[..., 2, :] += 1.0  # change variable 2 only
    changed = (lin(x2) - y).abs().sum(dim=(0, 1, 3)) > 0
    assert changed.tolist() == [False, False, True, False, False]
    grn = VariableWiseGRN(V, D)
    z = torch.randn(B, T, V, D)
    z2 = z.clone()
    z2[..., 0, :] += 1.0
    changed = (grn(z2) - grn(z)).abs().sum(dim=(0, 1, 3)) > 0
    assert changed.tolist() == [True, False, False, False, False]


def test_variable_selection_weights_are_a_distribution_over_variables():
    vsn = VariableSelectionNetwork(V, 4, D, d_context=D)
    out, w = vsn(torch.randn(B, T, V, 4), torch.randn(B, 1, D))
    assert out.shape == (B, T, D) and w.shape == (B, T, V)
    torch.testing.assert_close(w.sum(-1), torch.ones(B, T))
    assert (w >= 0).all()


def test_attention_respects_the_mask_and_averages_heads():
    attn = InterpretableMultiHeadAttention(D, 4).eval()
    q, k = torch.randn(B, 3, D), torch.randn(B, 6, D)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[:, 4:] = False  # keys 4 and 5 are in the future
    out, pattern = attn(q, k, k, mask)
    assert out.shape == (B, 3, D) and pattern.shape == (B, 3, 6)
    assert (pattern[..., 4:] == 0).all()
    torch.testing.assert_close(pattern.sum(-1), torch.ones(B, 3))
    k2 = k.clone()
    k2[:, 4:] += 5.0
    torch.testing.assert_close(attn(q, k2, k2, mask)[0], out)  # masked keys cannot matter
