-- name: insert_many
INSERT INTO market_regime_history (symbol, as_of, model_version, regime, confidence, probabilities)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (symbol, as_of, model_version) DO NOTHING;
