-- name: upsert_many
INSERT INTO feature_importance (model_version, symbol, horizon, feature, feature_group, importance)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (model_version, symbol, horizon, feature)
DO UPDATE SET importance = EXCLUDED.importance, feature_group = EXCLUDED.feature_group,
              computed_at = now();

-- name: for_symbol
SELECT feature, feature_group, importance FROM feature_importance
WHERE model_version = $1 AND symbol = $2 AND horizon = $3
ORDER BY importance DESC;

-- name: count_for_model
SELECT count(*) FROM feature_importance WHERE model_version = $1;
