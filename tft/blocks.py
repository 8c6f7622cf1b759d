"""The TFT's building blocks, one class per concept of the paper, composed upward:
GLU -> GateAddNorm -> GRN -> VariableSelectionNetwork; InterpretableMultiHeadAttention.

Constructors take plain sizes and rates, so each block is testable with random tensors.
Shapes use B batch, T time, V variables, D hidden.
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

    def forward(self, a: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        # a: (..., d_in); c: (..., d_context) broadcastable to a's leading dims
        h = self.fc1(a)
        if self.context is not None and c is not None:
            h = h + self.context(c)
        h = self.fc2(F.elu(h))
        return self.gate(h, self.skip(a))


class VariableWiseLinear(nn.Module):
    """V independent linear maps applied at once: (..., V, d_in) -> (..., V, d_out).

    One einsum instead of a loop over V small layers; the paper's per-variable GRNs
    are built from these, which is what keeps a wide selection network fast.
    """

    def __init__(self, n_vars: int, d_in: int, d_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_vars, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(n_vars, d_out))
        bound = 1 / math.sqrt(d_in)
        nn.init.uniform_(self.weight, -bound, bound)  # nn.Linear's default, per variable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...vi,vio->...vo", x, self.weight) + self.bias


class VariableWiseGRN(nn.Module):
    """A separate GRN (no context) for each of V variables, computed together.

    Works variable-major, (V, N, d): three batched matmuls with no reshuffling between
    them, which is where a selection network over many variables spends its time.
    """

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., V, d) -> (..., V, d)
        lead, (V, d) = x.shape[:-2], x.shape[-2:]
        xv = x.reshape(-1, V, d).transpose(0, 1)  # (V, N, d)
        h = F.elu(torch.baddbmm(self.b1, xv, self.w1))
        h = self.dropout(torch.baddbmm(self.b2, h, self.w2))
        h = F.glu(torch.baddbmm(self.b_glu, h, self.w_glu), dim=-1)
        y = F.layer_norm(xv + h, (d,)) * self.norm_weight + self.norm_bias
        return y.transpose(0, 1).reshape(*lead, V, d)


class VariableSelectionNetwork(nn.Module):
    """Weights each input variable by a softmax over variables, conditioned on the static
    context, after passing each through its own GRN (eqs. 6-8).

    Variables arrive embedded to a small width d_var; each variable's GRN works at that
    width and its map up to d_model is fused with the weighted sum, one matmul over
    all variables: sum_v w_v W_v h_v == concat_v(w_v h_v) @ W. The result is the
    paper's, without ever holding a (B, T, V, d_model) tensor, which is what makes a
    wide panel of features affordable on a CPU.
    """

    def __init__(self, n_vars: int, d_var: int, d_model: int, dropout: float = 0.0,
                 d_context: int | None = None):
        super().__init__()
        self.n_vars = n_vars
        self.weights_grn = GatedResidualNetwork(n_vars * d_var, d_model, n_vars, dropout, d_context)
        self.var_grns = VariableWiseGRN(n_vars, d_var, dropout)
        self.up = nn.Linear(n_vars * d_var, d_model)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (..., V, d_var); c: (..., d_context) -> out (..., d_model), weights (..., V)
        weights = torch.softmax(self.weights_grn(x.flatten(-2), c), dim=-1)
        selected = weights.unsqueeze(-1) * self.var_grns(x)  # (..., V, d_var)
        return self.up(selected.flatten(-2)), weights


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
