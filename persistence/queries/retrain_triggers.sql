-- name: claim
INSERT INTO retrain_triggers (trigger, period, job_id, reason) VALUES ($1, $2, $3, $4)
ON CONFLICT (trigger, period) DO NOTHING;

-- name: recent
SELECT trigger, period, job_id, reason, asked_at FROM retrain_triggers ORDER BY asked_at DESC LIMIT $1;
