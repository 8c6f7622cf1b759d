"""pytorch-forecasting's TFT on windows written by tft_speed.py; prints one JSON line.

Runs in .bench-venv (see tft_speed.py). The model is built with the same sizes and
fed the same tensors in the batch layout its dataloader produces. Inference time is
the median over batches, as tft_speed.py measures this project's model.
"""
import json
import sys
import time

import numpy as np
import torch
from pytorch_forecasting import TemporalFusionTransformer
from pytorch_forecasting.data.encoders import TorchNormalizer
from pytorch_forecasting.metrics import QuantileLoss
from timing import ms_per_forecast  # benchmarks/, beside this script


def main(path: str) -> None:
    d = np.load(path)
    B, n_train, n_infer = int(d["batch_size"]), int(d["train_batches"]), int(d["infer_batches"])
    torch.set_num_threads(int(d["threads"]))
    levels = [float(q) for q in d["levels"]]  # the quantiles this project's model predicts
    observed, known_p, known_f = (torch.from_numpy(d[k]) for k in ("observed", "known_past", "known_future"))
    N, E, O = observed.shape
    H, K = known_f.shape[1:]
    known_names = [f"k{i}" for i in range(K)]
    obs_names = [f"o{i}" for i in range(O)]
    reals = known_names + obs_names
    torch.manual_seed(0)
    model = TemporalFusionTransformer(
        hidden_size=32, lstm_layers=1, dropout=0.1, output_size=5, loss=QuantileLoss(quantiles=levels),
        attention_head_size=4, max_encoder_length=E, hidden_continuous_size=8,
        static_categoricals=["symbol"], static_reals=[],
        time_varying_categoricals_encoder=[], time_varying_categoricals_decoder=[],
        categorical_groups={}, time_varying_reals_encoder=reals, time_varying_reals_decoder=known_names,
        x_reals=reals, x_categoricals=["symbol"],
        embedding_sizes={"symbol": (16, 8)}, embedding_labels={"symbol": {str(i): i for i in range(16)}},
        embedding_paddings=[], log_interval=-1,
        # targets arrive already scaled: the identity, as target_scale (0, 1) below says
        output_transformer=TorchNormalizer(method="identity", center=False),
    )
    sym = torch.from_numpy(d["static"][:, :1])
    y = torch.from_numpy(d["y"])

    def batch(i):
        s = slice(i * B, (i + 1) * B)
        b = sym[s].shape[0]
        enc = torch.cat([known_p[s], observed[s]], -1)
        dec = torch.cat([known_f[s], torch.zeros(b, H, O)], -1)  # unknown reals are unused there
        return {
            "encoder_cat": sym[s].unsqueeze(1).expand(b, E, 1), "decoder_cat": sym[s].unsqueeze(1).expand(b, H, 1),
            "encoder_cont": enc, "decoder_cont": dec,
            "encoder_lengths": torch.full((b,), E), "decoder_lengths": torch.full((b,), H),
            "encoder_target": torch.zeros(b, E), "decoder_target": torch.zeros(b, H),
            "target_scale": torch.tensor([[0.0, 1.0]]).expand(b, 2),
        }, y[s][:, -1:].expand(b, H)

    # batches are assembled outside the timing, as ours are
    infer = ms_per_forecast(model, [batch(i)[0] for i in range(n_infer)], B)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = QuantileLoss(quantiles=levels)
    t = time.perf_counter()
    for i in range(n_train):
        x, target = batch(i)
        out = model(x)
        loss = loss_fn.loss(out["prediction"], target).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    train = time.perf_counter() - t
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()),
                      "infer_ms_per_forecast": infer, "train_s_per_epoch": train}))


if __name__ == "__main__":
    main(sys.argv[1])
