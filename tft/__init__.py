"""The Temporal Fusion Transformer (Lim, Arik, Loeff & Pfister, IJF 2021) in plain PyTorch."""
