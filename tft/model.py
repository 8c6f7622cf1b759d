"""The Temporal Fusion Transformer, built bottom-up from tft/blocks.py.

Inputs are a typed batch (TFTInputs); outputs come back with the selection weights
and the attention pattern, so interpretation needs no hooks. Targets are log returns
divided by a per-sample scale (recent daily volatility times sqrt(horizon)): the model
learns in units of "typical moves", which is what lets one network serve calm and
turbulent symbols alike. Shapes: B batch, E encoder length, H decoder length (the
longest horizon), Z forecast horizons, O observed and K known variables, Q quantiles,
D hidden.
"""
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

from tft.blocks import (EmbeddedVariables, GateAddNorm, GatedResidualNetwork,
                        InterpretableMultiHeadAttention, VariableSelectionNetwork, VariableWiseLinear)
from tft.config import TFTConfig


@dataclass
class TFTInputs:
    static: torch.Tensor  # (B, 2) long: symbol id, asset class id
    observed: torch.Tensor  # (B, E, O) scaled past-only features, 0 where missing
    observed_mask: torch.Tensor  # (B, E, O) 1 where the feature was available
    known_past: torch.Tensor  # (B, E, K) calendar features of the encoder's days
    known_future: torch.Tensor  # (B, H, K) calendar features of the decoder's days

    def to(self, device: torch.device | str) -> "TFTInputs":
        return TFTInputs(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


@dataclass
class TFTOutput:
    quantiles: torch.Tensor  # (B, Z, Q) normalised log-return quantiles, non-decreasing in Q
    point: torch.Tensor  # (B, Z) normalised expected log return
    log_vol: torch.Tensor  # (B, Z) log of the normalised standard deviation
    direction_logit: torch.Tensor  # (B, Z) logit of P(return > 0)
    static_weights: torch.Tensor  # (B, 2)
    encoder_weights: torch.Tensor  # (B, E, O + K)
    decoder_weights: torch.Tensor  # (B, H, K)
    attention: torch.Tensor  # (B, H, E + H) mean over heads

    def float(self) -> "TFTOutput":
        """In float32, whatever precision autocast ran the model in."""
        return TFTOutput(**{f.name: getattr(self, f.name).float() for f in fields(self)})


class TemporalFusionTransformer(nn.Module):
    def __init__(self, config: TFTConfig):
        super().__init__()
        self.config = c = config
        D, V, p = c.hidden_size, c.variable_size, c.dropout
        assert c.n_observed > 0 and c.n_known > 0, "input sizes come from the training data"
        # input embeddings: every variable becomes a D-vector before selection
        self.symbol_embedding = nn.Embedding(c.n_symbols, D)
        self.class_embedding = nn.Embedding(c.n_asset_classes, D)
        self.observed_embedding = VariableWiseLinear(c.n_observed, 2, V)  # (value, mask)
        self.known_embedding = VariableWiseLinear(c.n_known, 1, V)
        # static covariate encoders: selection, enrichment, LSTM hidden and cell contexts
        self.static_selection = VariableSelectionNetwork(2, D, D, p)
        self.static_contexts = nn.ModuleList(GatedResidualNetwork(D, D, D, p) for _ in range(4))
        self.encoder_selection = VariableSelectionNetwork(c.n_observed + c.n_known, V, D, p, D)
        self.decoder_selection = VariableSelectionNetwork(c.n_known, V, D, p, D)
        lstm_dropout = p if c.num_layers > 1 else 0.0
        self.encoder_lstm = nn.LSTM(D, D, c.num_layers, batch_first=True, dropout=lstm_dropout)
        self.decoder_lstm = nn.LSTM(D, D, c.num_layers, batch_first=True, dropout=lstm_dropout)
        self.lstm_gate = GateAddNorm(D, D, p)
        self.enrichment = GatedResidualNetwork(D, D, D, p, d_context=D)
        self.attention = InterpretableMultiHeadAttention(D, c.num_heads, p)
        self.attention_gate = GateAddNorm(D, D, p)
        self.positionwise = GatedResidualNetwork(D, D, D, p)
        self.output_gate = GateAddNorm(D, D, 0.0)
        Q = len(c.quantiles)
        self.quantile_head = nn.Linear(D, Q)
        self.point_head = nn.Linear(D, 1)
        self.vol_head = nn.Linear(D, 1)
        self.direction_head = nn.Linear(D, 1)
        self.register_buffer("horizon_index", torch.tensor(c.horizons) - 1, persistent=False)
        self.register_buffer("causal_mask", self._causal_mask(c.encoder_length, c.decoder_length),
                             persistent=False)
        self._median = list(c.quantiles).index(0.5)

    @staticmethod
    def _causal_mask(E: int, H: int) -> torch.Tensor:
        # (H, E + H): decoder step i sees the whole encoder and decoder steps 0..i
        keys = torch.arange(E + H)
        return keys[None, :] <= (E + torch.arange(H))[:, None]

    def forward(self, x: TFTInputs) -> TFTOutput:
        B, E, O = x.observed.shape
        H = x.known_future.shape[1]
        assert E == self.config.encoder_length and H == self.config.decoder_length

        # Per-variable inputs go variable-major, (vars, width, B, T): see VariableWiseGRN.
        static = torch.stack([self.symbol_embedding(x.static[:, 0]),
                              self.class_embedding(x.static[:, 1])]).transpose(1, 2)  # (2, D, B)
        static_vec, static_weights = self.static_selection(static)  # (B, D), (B, 2)
        c_select, c_enrich, c_hidden, c_cell = (grn(static_vec) for grn in self.static_contexts)

        past = EmbeddedVariables(
            (self.observed_embedding, torch.stack([x.observed, x.observed_mask]).permute(3, 0, 1, 2)),  # (O, 2, B, E)
            (self.known_embedding, x.known_past.permute(2, 0, 1).unsqueeze(1)))  # (K, 1, B, E)
        future = EmbeddedVariables((self.known_embedding, x.known_future.permute(2, 0, 1).unsqueeze(1)))
        past, encoder_weights = self.encoder_selection(past, c_select.unsqueeze(1))  # (B, E, D), (B, E, O+K)
        future, decoder_weights = self.decoder_selection(future, c_select.unsqueeze(1))  # (B, H, D)

        layers = self.config.num_layers
        state = (c_hidden.unsqueeze(0).expand(layers, -1, -1).contiguous(),
                 c_cell.unsqueeze(0).expand(layers, -1, -1).contiguous())
        encoded, state = self.encoder_lstm(past, state)  # (B, E, D)
        decoded, _ = self.decoder_lstm(future, state)  # (B, H, D)
        temporal = self.lstm_gate(torch.cat([encoded, decoded], 1), torch.cat([past, future], 1))  # (B, E+H, D)

        enriched = self.enrichment(temporal, c_enrich.unsqueeze(1))  # (B, E+H, D)
        queries = enriched[:, E:]  # (B, H, D): only the decoder's steps are forecast
        attended, attention = self.attention(queries, enriched, enriched, self.causal_mask)
        y = self.attention_gate(attended, queries)  # (B, H, D)
        y = self.output_gate(self.positionwise(y), temporal[:, E:])  # (B, H, D)

        z = y[:, self.horizon_index]  # (B, Z, D)
        return TFTOutput(
            quantiles=self._ordered(self.quantile_head(z)),
            point=self.point_head(z).squeeze(-1),
            log_vol=self.vol_head(z).squeeze(-1),
            direction_logit=self.direction_head(z).squeeze(-1),
            static_weights=static_weights, encoder_weights=encoder_weights,
            decoder_weights=decoder_weights, attention=attention,
        )

    def _ordered(self, raw: torch.Tensor) -> torch.Tensor:
        """(B, Z, Q) raw -> quantiles that cannot cross: the median plus positive steps
        outward, so monotonicity holds by construction rather than by a penalty."""
        m = self._median
        median = raw[..., m:m + 1]
        up = median + torch.cumsum(F.softplus(raw[..., m + 1:]), dim=-1)
        down = median - torch.cumsum(F.softplus(raw[..., :m].flip(-1)), dim=-1).flip(-1)
        return torch.cat([down, median, up], dim=-1)
