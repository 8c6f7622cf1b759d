-- name: insert_many
INSERT INTO risk_adjustment_history (request_id, symbol, as_of, vol_ratio, interval_scale, var_95)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (request_id) DO NOTHING;
