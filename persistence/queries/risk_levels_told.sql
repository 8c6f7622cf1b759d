-- name: of_symbols
SELECT symbol, level FROM risk_levels_told WHERE symbol = ANY($1::text[]);

-- name: tell
INSERT INTO risk_levels_told (symbol, level, as_of, model_version) VALUES ($1, $2, $3, $4)
ON CONFLICT (symbol) DO UPDATE SET level = excluded.level, as_of = excluded.as_of,
    model_version = excluded.model_version, told_at = now();
