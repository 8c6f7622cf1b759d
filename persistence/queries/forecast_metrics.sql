-- name: insert_many
INSERT INTO forecast_metrics (request_id, horizon, symbol, as_of, model_version, last_close, point,
                              q10, q25, q50, q75, q90, intervals, volatility, prob_up, regime, latency_ms,
                              interval_scale)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (request_id, horizon) DO NOTHING;

-- name: for_request
SELECT request_id, horizon, symbol, as_of, model_version, point, q10, q50, q90, prob_up
FROM forecast_metrics WHERE request_id = $1 ORDER BY horizon;
