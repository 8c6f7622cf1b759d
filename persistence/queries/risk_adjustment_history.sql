-- name: insert_many
INSERT INTO risk_adjustment_history (symbol, as_of, model_version, level, previous, interval_scale, var_95,
                                     rules, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (symbol, as_of, model_version, level) DO NOTHING;
