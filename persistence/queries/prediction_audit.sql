-- name: insert_many
INSERT INTO prediction_audit (request_id, user_id, symbol, source, request, status, error_code,
                              model_version, disclaimer)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (request_id) DO NOTHING;
