-- name: add
INSERT INTO model_jobs (job_id, command) VALUES ($1, $2) ON CONFLICT (job_id) DO NOTHING;

-- name: update
UPDATE model_jobs SET status = $2, progress = $3, message = $4, version = coalesce($5, version),
    promoted = coalesce($6, promoted), updated_at = now()
WHERE job_id = $1;

-- name: get
SELECT job_id, command, status, progress, message, version, promoted, created_at, updated_at
FROM model_jobs WHERE job_id = $1;

-- name: recent
SELECT job_id, command, status, progress, message, version, promoted, created_at, updated_at
FROM model_jobs ORDER BY created_at DESC LIMIT $1;
