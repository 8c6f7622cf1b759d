import pytest
import torch
import torch.nn.functional as F

from tft.blocks import (EmbeddedVariables, GatedLinearUnit, GatedResidualNetwork,
                        InterpretableMultiHeadAttention, VariableSelectionNetwork, VariableWiseGRN,
                        VariableWiseLinear)

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
    x = torch.randn(V, 3, B, T)  # variable-major: (V, d_in, *lead)
    y = lin(x)
    assert y.shape == (V, D, B, T)
    x2 = x.clone()
    x2[2] += 1.0  # change variable 2 only
    changed = (lin(x2) - y).abs().sum(dim=(1, 2, 3)) > 0
    assert changed.tolist() == [False, False, True, False, False]
    grn = VariableWiseGRN(V, D)
    z = torch.randn(V, D, B, T)
    z2 = z.clone()
    z2[0] += 1.0
    changed = (grn(z2) - grn(z)).abs().sum(dim=(1, 2, 3)) > 0
    assert changed.tolist() == [True, False, False, False, False]


@pytest.mark.parametrize("training", [False, True])
def test_variable_wise_grn_is_the_papers_grn_for_each_variable(training):
    """The batched, chunked layout computes eqs. 2-4 for each variable exactly, both with
    the second layer folded into the GLU's (inference) and apart (training, where
    dropout sits between them; a rate this small drops nothing)."""
    torch.manual_seed(0)
    n_vars, d = 11, 8  # more variables than one chunk, and not a multiple of it
    grn = VariableWiseGRN(n_vars, d, dropout=1e-12 if training else 0.0).train(training)
    for p in grn.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(n_vars, d, B, T)
    y = grn(x)
    for v in range(n_vars):
        a = x[v].permute(1, 2, 0)  # (B, T, d)
        h = F.elu(a @ grn.w1[v] + grn.b1[v])
        h = h @ grn.w2[v] + grn.b2[v]
        h = F.glu(h @ grn.w_glu[v] + grn.b_glu[v], dim=-1)
        want = F.layer_norm(a + h, (d,), grn.norm_weight[v, 0], grn.norm_bias[v, 0])
        torch.testing.assert_close(y[v].permute(1, 2, 0), want, rtol=1e-5, atol=1e-5)


def test_variable_selection_weights_are_a_distribution_over_variables():
    torch.manual_seed(0)
    vsn = VariableSelectionNetwork(V, 4, D, d_context=D).eval()
    x = torch.randn(V, 4, B, T)
    out, w = vsn(x, torch.randn(B, 1, D))
    assert out.shape == (B, T, D) and w.shape == (B, T, V)
    torch.testing.assert_close(w.sum(-1), torch.ones(B, T))
    assert (w >= 0).all()
    # the output is the weighted sum of the variables' GRN outputs, mapped up
    selected = vsn.var_grns(x) * w.permute(2, 0, 1).unsqueeze(1)  # (V, 4, B, T)
    torch.testing.assert_close(out, vsn.up(selected.permute(2, 3, 0, 1).flatten(-2)), rtol=1e-5, atol=1e-5)


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


def test_a_linear_map_of_embedded_variables_equals_the_folded_map_of_raw_inputs():
    torch.manual_seed(0)
    observed, known = VariableWiseLinear(V, 2, 4), VariableWiseLinear(3, 1, 4)
    raw_o, raw_k = torch.randn(V, 2, B, T), torch.randn(3, 1, B, T)
    emb = EmbeddedVariables((observed, raw_o), (known, raw_k))
    assert emb.values.shape == (V + 3, 4, B, T)
    torch.testing.assert_close(emb.values, torch.cat([observed(raw_o), known(raw_k)]))
    pieces = list(emb.pieces(2))  # the GRNs' way in: a few variables at a time, never across groups
    assert [(c.start, c.stop) for c, _ in pieces] == [(0, 2), (2, 4), (4, 5), (5, 7), (7, 8)]
    torch.testing.assert_close(torch.cat([p for _, p in pieces]), emb.values.reshape(V + 3, 4, -1))
    layer = torch.nn.Linear((V + 3) * 4, D)
    side_by_side = emb.values.permute(2, 3, 0, 1).flatten(-2)  # (B, T, (V+3) * 4)
    torch.testing.assert_close(emb.linear(layer), layer(side_by_side), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(emb.linear(torch.nn.Identity()), side_by_side)
    # and gradients reach the embeddings through the folded weights
    emb.linear(layer).sum().backward()
    assert observed.weight.grad.abs().sum() > 0 and known.bias.grad.abs().sum() > 0
