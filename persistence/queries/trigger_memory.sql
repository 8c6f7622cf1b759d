-- name: get
SELECT value FROM trigger_memory WHERE name = $1;

-- name: put
INSERT INTO trigger_memory (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now();
