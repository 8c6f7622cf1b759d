-- name: register
INSERT INTO model_registry (version, kind, path, config, metrics, train_start, train_end, git_commit, checksum)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (version) DO UPDATE SET path = EXCLUDED.path, config = EXCLUDED.config,
    metrics = EXCLUDED.metrics, train_start = EXCLUDED.train_start,
    train_end = EXCLUDED.train_end, git_commit = EXCLUDED.git_commit, checksum = EXCLUDED.checksum;

-- name: get
SELECT version, kind, path, status, train_start, train_end, git_commit, checksum, created_at, promoted_at,
       promoted_by, reason, replaced, validation
FROM model_registry WHERE version = $1;

-- name: active
SELECT version, kind, path, status, train_start, train_end, git_commit, checksum, created_at, promoted_at,
       promoted_by, reason, replaced, validation
FROM model_registry WHERE name = $1 AND status = 'active';

-- name: lock
-- Inside a transaction: promotions and rollbacks of a model name queue up behind each other.
SELECT pg_advisory_xact_lock(hashtext('model_registry:' || $1));

-- name: record_gate
UPDATE model_registry SET validation = $2, reason = $3 WHERE version = $1;

-- name: retire
UPDATE model_registry SET status = 'retired', retired_at = now(), reason = $2 WHERE version = $1;

-- name: activate
UPDATE model_registry SET status = 'active', promoted_at = now(), promoted_by = $2, reason = $3, replaced = $4,
    retired_at = NULL
WHERE version = $1;

-- name: history
SELECT version, status, created_at, promoted_at, promoted_by, reason, replaced, retired_at, validation
FROM model_registry WHERE name = $1 ORDER BY coalesce(promoted_at, created_at) DESC LIMIT $2;
