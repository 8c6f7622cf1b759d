-- name: insert_many
-- The columns and their placeholders are filled in from MetricRow (repositories/forecast_metrics.py),
-- the one list of them, so that a row's values cannot go out of the columns' order.
INSERT INTO forecast_metrics ({columns})
VALUES ({values})
ON CONFLICT (request_id, horizon) DO NOTHING;

-- name: for_request
SELECT request_id, horizon, symbol, as_of, model_version, point, q10, q50, q90, prob_up
FROM forecast_metrics WHERE request_id = $1 ORDER BY horizon;
