"""The TFT's building blocks, one class per concept of the paper, composed upward:
GLU -> GateAddNorm -> GRN -> VariableSelectionNetwork; InterpretableMultiHeadAttention.

Constructors take plain sizes and rates, so each block is testable with random tensors.
Shapes use B batch, T time, V variables, D hidden; per-variable blocks take their
input variable-major, (V, d, *lead), and the rest (*lead, D).
"""
import math

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

    Variable-major, positions last: see VariableWiseGRN for why.
    """

    def __init__(self, n_vars: int, d_in: int, d_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_vars, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(n_vars, d_out))
        bound = 1 / math.sqrt(d_in)
        nn.init.uniform_(self.weight, -bound, bound)  # nn.Linear's default, per variable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        V, d_in, *lead = x.shape
        y = torch.baddbmm(self.bias.unsqueeze(-1), self.weight.transpose(1, 2), x.reshape(V, d_in, -1))
        return y.view(V, -1, *lead)


class EmbeddedVariables:
    """Variables embedded one by one, kept beside the raw inputs they came from.

    A selection network's weight GRN starts with linear maps of all embedded variables
    side by side, V * d wide. Each embedding is linear in its variable's raw input (a
    value, and a mask), so such a map equals one of the raw inputs, 1 or 2 wide per
    variable, with the embedding folded into its weights: 4x fewer multiply-adds for
    the same result, and gradients reach both layers as before.
    """

    def __init__(self, *groups: tuple[VariableWiseLinear, torch.Tensor]):
        # groups: (embedding, raw (V_g, d_in_g, *lead)), in the variables' order
        self.groups = [(emb, raw.contiguous()) for emb, raw in groups]
        self.values = torch.cat([emb(raw) for emb, raw in self.groups])  # (V, d, *lead)

    def linear(self, layer: nn.Linear) -> torch.Tensor:
        """layer(the embedded variables side by side): (*lead, out)."""
        if isinstance(layer, nn.Identity):  # the skip of a GRN whose widths match
            return _concat_variables(self.values)
        V, d, *lead = self.values.shape
        weight = layer.weight.view(-1, V, d)  # (out, V, d)
        y, first = layer.bias, 0
        for emb, raw in self.groups:
            n, d_in = raw.shape[:2]
            w = weight[:, first:first + n]  # (out, n, d)
            folded = torch.einsum("ovd,vid->ovi", w, emb.weight).flatten(1)  # (out, n * d_in)
            y = y + torch.einsum("ovd,vd->o", w, emb.bias) + raw.view(n * d_in, -1).t() @ folded.t()
            first += n
        return y.view(*lead, -1)


class VariableWiseGRN(nn.Module):
    """A separate GRN (no context) for each of V variables: (V, d, *lead) -> (V, d, *lead).

    This is where a selection network over many variables spends its time: every
    variable at every position of every sample, at a width d of 8 or so. Laid out
    (V, d, N), each GRN is three (d x d) @ (d x N) matmuls and element-wise work
    along N, the long contiguous axis; done a few variables at a time, the
    intermediates stay in cache. On 2 CPU cores that is 4x faster than (N, V, d).
    """

    CHUNK = 8  # variables per pass: (8, 8, 8064) floats is 2 MB, about an L2 cache

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
        return torch.cat([y for _, y in self.chunks(x)]).view(V, d, *lead)

    def chunks(self, x: torch.Tensor):
        """Yields (variables, output): a slice of the V variables and their (v, d, N)
        GRN output, so a caller can use each before the next is computed."""
        V = x.shape[0]
        xv = x.reshape(V, x.shape[1], -1)  # (V, d, N)
        # (V, in, out) parameters act as (V, out, in) on column vectors
        w1, w2, w_glu = (w.transpose(1, 2) for w in (self.w1, self.w2, self.w_glu))
        b1, b2, b_glu, gain, shift = (b.transpose(1, 2) for b in (
            self.b1, self.b2, self.b_glu, self.norm_weight, self.norm_bias))
        for v in range(0, V, self.CHUNK):
            c = slice(v, v + self.CHUNK)
            h = F.elu(torch.baddbmm(b1[c], w1[c], xv[c]))  # (v, d, N)
            h = self.dropout(torch.baddbmm(b2[c], w2[c], h))
            h = F.glu(torch.baddbmm(b_glu[c], w_glu[c], h), dim=1)  # (v, d, N)
            yield c, torch.addcmul(shift[c], _layer_norm_dim1(xv[c] + h), gain[c])


def _layer_norm_dim1(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """F.layer_norm over dim 1 of (V, d, N), without moving d last."""
    centred = x - x.mean(dim=1, keepdim=True)
    return centred * torch.rsqrt(centred.square().mean(dim=1, keepdim=True) + eps)


class VariableSelectionNetwork(nn.Module):
    """Weights each input variable by a softmax over variables, conditioned on the static
    context, after passing each through its own GRN (eqs. 6-8).

    Variables arrive embedded to a small width d_var, variable-major: (V, d_var, *lead).
    Each variable's GRN works at that width and its map up to d_model is fused with the
    weighted sum, one matmul per chunk of variables: sum_v w_v W_v h_v == concat_v(w_v h_v) @ W.
    The result is the paper's, without ever holding a (B, T, V, d_model) tensor, which
    is what makes a wide panel of features affordable on a CPU.
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
        if isinstance(x, EmbeddedVariables):
            x, flat = x.values, x
        else:
            flat = _concat_variables(x)
        V, d, *lead = x.shape
        weights = torch.softmax(self.weights_grn(flat, c), dim=-1)  # (*lead, V)
        w = weights.reshape(-1, V).t().unsqueeze(1)  # (V, 1, N)
        up = self.up.weight.view(-1, V, d)  # (d_model, V, d_var)
        out = self.up.bias
        for vars_, h in self.var_grns.chunks(x):  # h: (v, d_var, N)
            selected = (h * w[vars_]).flatten(0, 1)  # (v * d_var, N)
            out = out + selected.t() @ up[:, vars_].flatten(1).t()  # (N, d_model)
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
