-- name: register
INSERT INTO model_registry (version, kind, path, config, metrics, train_start, train_end, git_commit)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (version) DO UPDATE SET path = EXCLUDED.path, config = EXCLUDED.config,
    metrics = EXCLUDED.metrics, train_start = EXCLUDED.train_start,
    train_end = EXCLUDED.train_end, git_commit = EXCLUDED.git_commit;

-- name: get
SELECT version, kind, path, status, train_start, train_end, git_commit, created_at
FROM model_registry WHERE version = $1;
