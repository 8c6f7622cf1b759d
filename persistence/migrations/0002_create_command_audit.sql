-- Operator commands (tier changes now; retrain and rollback with the model lifecycle),
-- accepted or refused, with who asked. A key is recorded by its fingerprint, never itself.
CREATE TABLE command_audit (
    id          bigserial   PRIMARY KEY,
    command     text        NOT NULL,
    actor       text        NOT NULL,
    source      text        NOT NULL CHECK (source IN ('http', 'kafka', 'cli')),
    params      jsonb       NOT NULL,
    status      text        NOT NULL CHECK (status IN ('accepted', 'refused')),
    reason      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX command_audit_command ON command_audit (command, created_at);
