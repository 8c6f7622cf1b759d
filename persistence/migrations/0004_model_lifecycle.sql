-- The model lifecycle: candidate -> active -> retired, exactly one active per model name,
-- each promotion with who asked, why, the validation gate's figures and the version it
-- replaced (what a rollback returns to).
ALTER TABLE model_registry DROP CONSTRAINT model_registry_status_check;
DROP INDEX model_registry_one_production;
UPDATE model_registry SET status = 'active' WHERE status = 'production';
ALTER TABLE model_registry
    ADD CONSTRAINT model_registry_status_check CHECK (status IN ('candidate', 'active', 'retired')),
    ADD COLUMN name        text NOT NULL DEFAULT 'tft',
    ADD COLUMN checksum    text,          -- sha256 of the artifact file in the store
    ADD COLUMN validation  jsonb,         -- the gate's comparison, passed or not
    ADD COLUMN promoted_by text,
    ADD COLUMN reason      text,          -- why it was promoted, kept a candidate, or retired
    ADD COLUMN replaced    text,          -- the version that was active before it
    ADD COLUMN retired_at  timestamptz;
CREATE UNIQUE INDEX model_registry_one_active ON model_registry (name) WHERE status = 'active';
