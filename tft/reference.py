"""The variable selection network as the TFT paper draws it (Lim et al. 2021, eqs. 2-8):
one GRN per variable, a GRN over all of them flattened whose softmax is the selection.

The model runs the fused blocks of tft/blocks.py instead, which compute the same thing
without ever holding a (B, T, V, D) tensor. This module exists to be read beside them
and to test them against (tests/tft/test_reference.py): nothing in serving or training
imports it. Variables come last here, (*lead, V, d), with V variables of width d, D
the model's width and *lead any leading dims (B, or B, T).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from tft import blocks


class GatedLinearUnit(nn.Module):
    """GLU(g) = sigmoid(W4 g + b4) * (W5 g + b5) (eq. 5): a gate that can switch its
    path off, with dropout on its input as in the paper."""

    def __init__(self, d_in: int, d_out: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.gate = nn.Linear(d_in, d_out)  # W4, b4
        self.value = nn.Linear(d_in, d_out)  # W5, b5

    def forward(self, g: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        g = self.dropout(g)
        return torch.sigmoid(self.gate(g)) * self.value(g)


class GatedResidualNetwork(nn.Module):
    """GRN(a, c) = LayerNorm(a + GLU(W1 ELU(W2 a + W3 c + b2) + b1)) (eqs. 2-4), the skip
    a projected to d_out where the widths differ."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, dropout: float = 0.0,
                 d_context: int | None = None):
        super().__init__()
        self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
        self.hidden = nn.Linear(d_in, d_hidden)  # W2, b2
        self.context = nn.Linear(d_context, d_hidden, bias=False) if d_context else None  # W3
        self.out = nn.Linear(d_hidden, d_hidden)  # W1, b1
        self.glu = GatedLinearUnit(d_hidden, d_out, dropout)
        self.norm = nn.LayerNorm(d_out)

    def forward(self, a: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        # a: (..., d_in); c: (..., d_context) broadcastable to a -> (..., d_out)
        h = self.hidden(a)
        if self.context is not None and c is not None:
            h = h + self.context(c)
        h = self.out(F.elu(h))
        return self.norm(self.skip(a) + self.glu(h))


class VariableSelectionNetwork(nn.Module):
    """Selection weights softmax(GRN_v(flatten(x), c)) over the V variables (eq. 6), each
    variable through its own GRN (eq. 7), summed under those weights (eq. 8).

    The variables stay d wide through their GRNs and the weighted sum is mapped up to D
    afterwards: `up` on their concatenation is sum_v W_v (w_v h_v) with one d -> D map
    W_v per variable, and since the weights sum to 1 its one bias is every variable's.
    """

    def __init__(self, n_vars: int, d_var: int, d_model: int, dropout: float = 0.0,
                 d_context: int | None = None):
        super().__init__()
        self.weights_grn = GatedResidualNetwork(n_vars * d_var, d_model, n_vars, dropout, d_context)
        self.var_grns = nn.ModuleList(GatedResidualNetwork(d_var, d_var, d_var, dropout)
                                      for _ in range(n_vars))
        self.up = nn.Linear(n_vars * d_var, d_model)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (*lead, V, d); c: (*lead', d_context) broadcastable -> (*lead, D), (*lead, V)
        weights = torch.softmax(self.weights_grn(x.flatten(-2), c), dim=-1)  # (*lead, V)
        h = torch.stack([grn(x[..., v, :]) for v, grn in enumerate(self.var_grns)], dim=-2)  # (*lead, V, d)
        return self.up((weights.unsqueeze(-1) * h).flatten(-2)), weights


@torch.no_grad()
def from_fused(fused: blocks.VariableSelectionNetwork) -> VariableSelectionNetwork:
    """A reference network holding a copy of `fused`'s weights, in its dtype, device and mode."""
    weights_grn, g = fused.weights_grn, fused.var_grns
    V, d = g.w1.shape[:2]
    context = weights_grn.context.in_features if weights_grn.context is not None else None
    ref = VariableSelectionNetwork(V, d, fused.up.out_features, g.dropout.p, context)
    ref.to(fused.up.weight).train(fused.training)
    _copy_grn(ref.weights_grn, weights_grn)
    _set(ref.up, fused.up.weight, fused.up.bias)
    for v, grn in enumerate(ref.var_grns):
        # the fused GRNs keep (V, in, out) weights and (V, 1, out) biases
        _set(grn.hidden, g.w1[v].t(), g.b1[v, 0])
        _set(grn.out, g.w2[v].t(), g.b2[v, 0])
        _copy_glu(grn.glu, g.w_glu[v].t(), g.b_glu[v, 0])
        _set(grn.norm, g.norm_weight[v, 0], g.norm_bias[v, 0])
    return ref


def _copy_grn(ref: GatedResidualNetwork, fused: blocks.GatedResidualNetwork) -> None:
    if isinstance(fused.skip, nn.Linear):
        _set(ref.skip, fused.skip.weight, fused.skip.bias)
    _set(ref.hidden, fused.fc1.weight, fused.fc1.bias)
    if fused.context is not None:
        ref.context.weight.copy_(fused.context.weight)
    _set(ref.out, fused.fc2.weight, fused.fc2.bias)
    _copy_glu(ref.glu, fused.gate.glu.proj.weight, fused.gate.glu.proj.bias)
    _set(ref.norm, fused.gate.norm.weight, fused.gate.norm.bias)


def _copy_glu(ref: GatedLinearUnit, weight: torch.Tensor, bias: torch.Tensor) -> None:
    # weight: (2 * d_out, d_in), the value's rows then the gate's, as F.glu splits them
    (value_w, gate_w), (value_b, gate_b) = weight.chunk(2), bias.chunk(2)
    _set(ref.value, value_w, value_b)
    _set(ref.gate, gate_w, gate_b)


def _set(layer: nn.Linear | nn.LayerNorm, weight: torch.Tensor, bias: torch.Tensor) -> None:
    layer.weight.copy_(weight)
    layer.bias.copy_(bias)
