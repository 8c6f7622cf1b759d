"""The TFT's building blocks, one class per concept of the paper, composed upward:
GLU -> GateAddNorm -> GRN -> VariableSelectionNetwork; InterpretableMultiHeadAttention.

Constructors take plain sizes and rates, so each block is testable with random tensors.
Shapes use B batch, T time, V variables, D hidden; per-variable blocks take their
input variable-major, (V, d, *lead), and the rest (*lead, D).
"""
import math
from collections.abc import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F


class GatedLinearUnit(nn.Module):
    """GLU(x) = sigmoid(W1 x) * (W2 x): lets the network switch a path off (eq. 5)."""

    def __init__(self, d_in: int, d_out: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(d_in, 2 * d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        return F.glu(self.proj(self.dropout(x)), dim=-1)


class GateAddNorm(nn.Module):
    """LayerNorm(skip + GLU(x)): the gated residual connection used throughout."""

    def __init__(self, d_in: int, d_out: int, dropout: float = 0.0):
        super().__init__()
        self.glu = GatedLinearUnit(d_in, d_out, dropout)
        self.norm = nn.LayerNorm(d_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.norm(skip + self.glu(x))


class GatedResidualNetwork(nn.Module):
    """GRN(a, c) = LayerNorm(a + GLU(W1 ELU(W2 a + W3 c))) (eqs. 2-4), with an optional
    static context c and a projection of the skip when sizes differ."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, dropout: float = 0.0,
                 d_context: int | None = None):
        super().__init__()
        self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.context = nn.Linear(d_context, d_hidden, bias=False) if d_context else None
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.gate = GateAddNorm(d_hidden, d_out, dropout)

    def forward(self, a: "torch.Tensor | EmbeddedVariables", c: torch.Tensor | None = None) -> torch.Tensor:
        # a: (..., d_in); c: (..., d_context) broadcastable to a's leading dims
        h = _linear(self.fc1, a)
        if self.context is not None and c is not None:
            h = h + self.context(c)
        h = self.fc2(F.elu(h))
        return self.gate(h, _linear(self.skip, a))


def _linear(layer: nn.Module, a: "torch.Tensor | EmbeddedVariables") -> torch.Tensor:
    return a.linear(layer) if isinstance(a, EmbeddedVariables) else layer(a)


class VariableWiseLinear(nn.Module):
    """V independent linear maps applied at once: (V, d_in, *lead) -> (V, d_out, *lead).

    Variable-major, positions last: see VariableWiseGRN for why. `variables` applies
    the maps of a slice of the V variables only.
    """

    def __init__(self, n_vars: int, d_in: int, d_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_vars, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(n_vars, d_out))
        bound = 1 / math.sqrt(d_in)
        nn.init.uniform_(self.weight, -bound, bound)  # nn.Linear's default, per variable

    def forward(self, x: torch.Tensor, variables: slice = slice(None)) -> torch.Tensor:
        V, d_in, *lead = x.shape
        w, b = self.weight[variables], self.bias[variables]
        y = torch.baddbmm(b.unsqueeze(-1), w.transpose(1, 2), x.reshape(V, d_in, -1))
        return y.view(V, -1, *lead)


Pieces = Iterator[tuple[slice, torch.Tensor]]  # (which variables, their (v, d, N) values)


class EmbeddedVariables:
    """Variables embedded one by one, kept beside the raw inputs they came from.

    Two things follow from keeping the raw inputs. A selection network's weight GRN
    starts with linear maps of all embedded variables side by side, V * d wide; each
    embedding is linear in its variable's raw input (a value, and a mask), so such a
    map equals one of the raw inputs, 1 or 2 wide per variable, with the embedding
    folded into its weights: 4x fewer multiply-adds for the same result, and gradients
    reach both layers as before. And the per-variable GRNs can take the embeddings a
    few variables at a time (`pieces`), so the whole (V, d, N) tensor is never stored.
    """

    def __init__(self, *groups: tuple[VariableWiseLinear, torch.Tensor]):
        # groups: (embedding, raw (V_g, d_in_g, *lead)), in the variables' order
        self.groups = [(emb, raw.contiguous()) for emb, raw in groups]

    @property
    def values(self) -> torch.Tensor:  # (V, d, *lead)
        return torch.cat([emb(raw) for emb, raw in self.groups])

    def pieces(self, size: int) -> Pieces:
        """The embedded variables, `size` at a time (fewer at the end of a group)."""
        first = 0
        for emb, raw in self.groups:
            n, d_in = raw.shape[:2]
            flat = raw.view(n, d_in, -1)
            for i in range(0, n, size):
                part = slice(i, min(i + size, n))
                yield slice(first + part.start, first + part.stop), emb(flat[part], part)
            first += n

    def linear(self, layer: nn.Linear) -> torch.Tensor:
        """layer(the embedded variables side by side): (*lead, out)."""
        if isinstance(layer, nn.Identity):  # the skip of a GRN whose widths match
            return _concat_variables(self.values)
        lead = self.groups[0][1].shape[2:]
        d = self.groups[0][0].weight.shape[-1]
        weight = layer.weight.view(layer.out_features, -1, d)  # (out, V, d)
        y, first = layer.bias, 0
        for emb, raw in self.groups:
            n, d_in = raw.shape[:2]
            w = weight[:, first:first + n]  # (out, n, d)
            folded = torch.einsum("ovd,vid->ovi", w, emb.weight).flatten(1)  # (out, n * d_in)
            y = y + torch.einsum("ovd,vd->o", w, emb.bias) + raw.view(n * d_in, -1).t() @ folded.t()
            first += n
        return y.view(*lead, -1)


def _pieces(x: torch.Tensor, size: int) -> Pieces:
    """(V, d, *lead) -> its variables `size` at a time, as (v, d, N)."""
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    for v in range(0, x.shape[0], size):
        yield slice(v, v + size), flat[v:v + size]


class VariableWiseGRN(nn.Module):
    """A separate GRN (no context) for each of V variables: (V, d, *lead) -> (V, d, *lead).

    This is where a selection network over many variables spends its time: every
    variable at every position of every sample, at a width d of 8 or so. Laid out
    (V, d, N), each GRN is (d x d) @ (d x N) matmuls and element-wise work along N,
    the long contiguous axis, 4x faster on 2 CPU cores than (N, V, d). Done a few
    variables at a time, no intermediate ever holds all V.
    """

    CHUNK = 8  # variables per pass; 2 to 16 time the same on 2 cores

    def __init__(self, n_vars: int, d: int, dropout: float = 0.0):
        super().__init__()
        bound = 1 / math.sqrt(d)
        self.w1 = nn.Parameter(torch.empty(n_vars, d, d).uniform_(-bound, bound))
        self.w2 = nn.Parameter(torch.empty(n_vars, d, d).uniform_(-bound, bound))
        self.w_glu = nn.Parameter(torch.empty(n_vars, d, 2 * d).uniform_(-bound, bound))
        self.b1 = nn.Parameter(torch.zeros(n_vars, 1, d))
        self.b2 = nn.Parameter(torch.zeros(n_vars, 1, d))
        self.b_glu = nn.Parameter(torch.zeros(n_vars, 1, 2 * d))
        self.norm_weight = nn.Parameter(torch.ones(n_vars, 1, d))
        self.norm_bias = nn.Parameter(torch.zeros(n_vars, 1, d))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        V, d, *lead = x.shape
        gain, shift = (p.transpose(1, 2) for p in (self.norm_weight, self.norm_bias))  # (V, d, 1)
        normed = []
        for c, y in self.residuals(_pieces(x, self.CHUNK)):
            centred, rstd = _standardise_dim1(y)
            normed.append(centred * rstd * gain[c] + shift[c])
        return torch.cat(normed).view(V, d, *lead)

    def residuals(self, pieces: Pieces) -> Pieces:
        """Each GRN up to its LayerNorm, a piece at a time: (variables, a + GLU(...)),
        (v, d, N). The caller normalises, so it can fold the norm into what follows."""
        # (V, in, out) parameters act as (V, out, in) on column vectors
        w1, w2, w_glu = (w.transpose(1, 2) for w in (self.w1, self.w2, self.w_glu))
        b1, b2, b_glu = (b.transpose(1, 2) for b in (self.b1, self.b2, self.b_glu))
        folded = not (self.training and self.dropout.p > 0)
        if folded:  # nothing between the second layer and the GLU's: one (2d x d) map does both
            w_glu, b_glu = w_glu @ w2, torch.baddbmm(b_glu, w_glu, b2)
        for c, x in pieces:  # x: (v, d, N)
            h = F.elu(torch.baddbmm(b1[c], w1[c], x))  # (v, d, N)
            if not folded:
                h = self.dropout(torch.baddbmm(b2[c], w2[c], h))
            h = F.glu(torch.baddbmm(b_glu[c], w_glu[c], h), dim=1)  # (v, d, N)
            yield c, h.add_(x)


def _standardise_dim1(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """A LayerNorm over dim 1 of (V, d, N) without moving d last, short of its gain and
    shift: x minus its mean, and 1 / its standard deviation, (V, 1, N)."""
    centred = x - _mean_dim1(x)
    return centred, torch.rsqrt(_mean_dim1(centred * centred) + eps)


def _mean_dim1(x: torch.Tensor) -> torch.Tensor:
    """(V, d, N) -> (V, 1, N). As a matmul with a row of 1/d, since reductions over a
    middle dimension run 2-100x slower on a CPU (torch.var_mean the slowest)."""
    return torch.matmul(x.new_full((1, x.shape[1]), 1 / x.shape[1]), x)


# Fused because variable selection dominates the model on a CPU (even fused, about 70% of
# a forward pass at the default sizes). At the default model's encoder selection (82
# variables 8 wide, hidden 32, 63 days, batch 128, 2 cores) this is 3x faster than the
# paper's layout in tft/reference.py forward (55 vs 170 ms) and 3.5x forward+backward
# (190 vs 640 ms): benchmarks/vsn_speed.py, medians of paired rounds, 2.9-3.3x and
# 3.1-3.6x over runs on a shared machine. tests/tft/test_reference.py holds the two equal.
class VariableSelectionNetwork(nn.Module):
    """Weights each input variable by a softmax over variables, conditioned on the static
    context, after passing each through its own GRN (eqs. 6-8).

    Variables arrive embedded to a small width d_var, variable-major: (V, d_var, *lead).
    Each variable's GRN works at that width, and what follows its last sum is linear
    per position, so it is folded into as few passes as it takes: the LayerNorm's
    scaling and the selection weight into one multiply, and the norm's gain and shift with the map up to d_model into the weighted sum, one matmul
    per chunk of variables: sum_v w_v W_v h_v == concat_v(w_v h_v) @ W. The result is
    the paper's, without ever holding a (B, T, V, d_model) tensor, which is what makes
    a wide panel of features affordable on a CPU.
    """

    def __init__(self, n_vars: int, d_var: int, d_model: int, dropout: float = 0.0,
                 d_context: int | None = None):
        super().__init__()
        self.n_vars = n_vars
        self.weights_grn = GatedResidualNetwork(n_vars * d_var, d_model, n_vars, dropout, d_context)
        self.var_grns = VariableWiseGRN(n_vars, d_var, dropout)
        self.up = nn.Linear(n_vars * d_var, d_model)

    def forward(self, x: torch.Tensor | EmbeddedVariables, c: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (V, d_var, *lead); c: (*lead', d_context) broadcastable -> (*lead, d_model), (*lead, V)
        size = self.var_grns.CHUNK
        if isinstance(x, EmbeddedVariables):
            flat, pieces = x, x.pieces(size)
        else:
            flat, pieces = _concat_variables(x), _pieces(x, size)
        weights = torch.softmax(self.weights_grn(flat, c), dim=-1)  # (*lead, V)
        V, lead = self.n_vars, weights.shape[:-1]
        w = weights.reshape(-1, V).t().contiguous().unsqueeze(1)  # (V, 1, N): read by rows of N below
        up = self.up.weight.view(-1, V, self.up.in_features // V)  # (d_model, V, d_var)
        gain, shift = self.var_grns.norm_weight.squeeze(1), self.var_grns.norm_bias.squeeze(1)  # (V, d_var)
        # sum_v w_v up_v (gain_v * normed_v + shift_v): the shifts add up to w @ (up_v . shift_v)
        out = torch.addmm(self.up.bias, w.flatten(1).t(), torch.einsum("ovd,vd->vo", up, shift))  # (N, d_model)
        up = up * gain  # (d_model, V, d_var)
        for vars_, y in self.var_grns.residuals(pieces):  # y: (v, d_var, N)
            centred, rstd = _standardise_dim1(y)  # (v, d_var, N), (v, 1, N)
            selected = (centred * (w[vars_] * rstd)).flatten(0, 1)  # (v * d_var, N)
            out = torch.addmm(out, selected.t(), up[:, vars_].flatten(1).t())  # (N, d_model)
        return out.view(*lead, -1), weights


def _concat_variables(x: torch.Tensor) -> torch.Tensor:
    """(V, d, *lead) -> (*lead, V * d), variable v at v*d..v*d+d-1: a view, no copy."""
    V, d, *lead = x.shape
    return x.reshape(V * d, -1).t().unflatten(0, tuple(lead))


class InterpretableMultiHeadAttention(nn.Module):
    """Multi-head attention whose heads share one value projection and are averaged
    (eqs. 14-16), so a single attention pattern explains the output."""

    def __init__(self, d: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        assert d % n_heads == 0
        self.n_heads, self.d_head = n_heads, d // n_heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, self.d_head)
        self.out = nn.Linear(self.d_head, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # q: (B, Tq, D); k, v: (B, Tk, D); mask: (Tq, Tk) True where attention is allowed
        B, Tq, D = q.shape
        Tk = k.shape[1]
        qh = self.q(q).view(B, Tq, self.n_heads, self.d_head).transpose(1, 2)  # (B, nh, Tq, hs)
        kh = self.k(k).view(B, Tk, self.n_heads, self.d_head).transpose(1, 2)  # (B, nh, Tk, hs)
        scores = qh @ kh.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, nh, Tq, Tk)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        attn = self.dropout(torch.softmax(scores, dim=-1))
        head_mean = attn.mean(dim=1)  # (B, Tq, Tk): the one pattern all heads share
        out = head_mean @ self.v(v)  # (B, Tq, hs)
        return self.out(out), head_mean
