-- name: add_pending
-- DO UPDATE, not DO NOTHING: it locks the key, so a scorer settling it waits for this
-- transaction and then sees its forecast.
INSERT INTO forecast_pending (symbol, as_of, horizon) VALUES ($1, $2, $3)
ON CONFLICT (symbol, as_of, horizon) DO UPDATE SET horizon = EXCLUDED.horizon;

-- name: pending
SELECT symbol, as_of, horizon FROM forecast_pending WHERE symbol = ANY($1::text[]) ORDER BY as_of LIMIT $2;

-- name: settle
DELETE FROM forecast_pending WHERE symbol = $1 AND as_of = $2 AND horizon = $3;

-- name: unscored
SELECT f.request_id, f.horizon, f.symbol, f.model_version, f.last_close, f.point,
       f.q10, f.q25, f.q50, f.q75, f.q90, f.intervals, f.interval_scale
FROM forecast_metrics f
LEFT JOIN forecast_validation v ON v.request_id = f.request_id AND v.horizon = f.horizon
WHERE f.symbol = $1 AND f.as_of = $2 AND f.horizon = $3 AND v.request_id IS NULL;

-- name: insert_many
INSERT INTO forecast_validation (request_id, horizon, symbol, target_date, actual, abs_pct_error, pinball,
                                 covered_68, covered_95, model_version, log_return, log_error,
                                 direction_hit, held, rw_pinball, rw_covered_68, rw_covered_95)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (request_id, horizon) DO NOTHING;

-- name: accuracy
-- Live accuracy of a model version beside the baselines on the same rows: "always up"
-- for direction, the random walk for errors, loss and coverage. By horizon and, when $2
-- names one, by symbol or by the market regime the forecast was made in.
SELECT v.horizon,
       CASE $2::text WHEN 'symbol' THEN v.symbol WHEN 'regime' THEN coalesce(f.regime, 'none') ELSE 'all' END
           AS grp,
       count(*) AS n,
       avg(v.direction_hit::int)::float8 AS directional_accuracy,
       avg((v.log_return > 0)::int)::float8 AS up_rate,
       avg(v.abs_pct_error) * 100 AS mape_pct,
       avg(abs(exp(-v.log_return) - 1)) * 100 AS rw_mape_pct,
       sqrt(avg(v.log_error ^ 2)) AS rmse,
       sqrt(avg(v.log_return ^ 2)) AS rw_rmse,
       avg(v.pinball) AS pinball,
       avg(v.rw_pinball) AS rw_pinball,
       avg(v.covered_68::int)::float8 AS coverage_68,
       avg(v.rw_covered_68::int)::float8 AS rw_coverage_68,
       avg(v.covered_95::int)::float8 AS coverage_95,
       avg(v.rw_covered_95::int)::float8 AS rw_coverage_95
FROM forecast_validation v
JOIN forecast_metrics f ON f.request_id = v.request_id AND f.horizon = v.horizon
WHERE v.model_version = $1
GROUP BY 1, 2
ORDER BY 2, 1;

-- name: insert_shadow
INSERT INTO forecast_shadow (request_id, horizon, model_version, pinball, covered_68, covered_95)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (request_id, horizon, model_version) DO NOTHING;

-- name: versus_shadow
-- The served version's validated forecasts beside its predecessor's shadow forecasts of
-- the same requests and horizons.
SELECT count(*) AS n,
       avg(v.pinball) AS pinball,
       avg(s.pinball) AS shadow_pinball,
       avg(v.covered_68::int)::float8 AS coverage_68,
       avg(s.covered_68::int)::float8 AS shadow_coverage_68,
       avg(v.covered_95::int)::float8 AS coverage_95,
       avg(s.covered_95::int)::float8 AS shadow_coverage_95
FROM forecast_validation v
JOIN forecast_shadow s ON s.request_id = v.request_id AND s.horizon = v.horizon AND s.model_version = $2
WHERE v.model_version = $1;
