-- name: insert
INSERT INTO command_audit (command, actor, source, params, status, reason)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: recent
SELECT command, actor, source, params, status, reason, created_at FROM command_audit
WHERE command = $1 ORDER BY id DESC LIMIT $2;
