-- name: of_version
SELECT horizon, log_scales FROM interval_scales WHERE model_version = $1;

-- name: step
-- log s += gamma * (miss rate - (1 - level)), element by element; the first step of a
-- version and horizon starts from 0 (the model's own intervals).
INSERT INTO interval_scales AS s (model_version, horizon, log_scales, steps, through)
SELECT $1, $2, array_agg($3 * (m - (1 - l)) ORDER BY i), 1, $6
FROM unnest($4::float8[], $5::float8[]) WITH ORDINALITY AS u(m, l, i)
ON CONFLICT (model_version, horizon) DO UPDATE SET
    log_scales = (SELECT array_agg(old + $3 * (m - (1 - l)) ORDER BY i)
                  FROM unnest(s.log_scales, $4::float8[], $5::float8[]) WITH ORDINALITY AS u(old, m, l, i)),
    steps = s.steps + 1,
    through = greatest(s.through, EXCLUDED.through),
    updated_at = now();
