-- name: add
INSERT INTO model_jobs (job_id, command, priority) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING;

-- name: claim_next
-- The next waiting job, marked running; SKIP LOCKED lets two workers claim two jobs at once.
UPDATE model_jobs SET status = 'running', updated_at = now()
WHERE job_id = (SELECT job_id FROM model_jobs WHERE status = 'queued'
                ORDER BY (priority = 'high') DESC, arrival LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING job_id, command;

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
