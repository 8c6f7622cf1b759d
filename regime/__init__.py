"""Market regimes from a hidden Markov model (hmmlearn): Bull, Bear, Sideways, Crisis."""
