-- name: ping
-- /health: the database answers a query, not only a connection.
SELECT 1;
