-- The active version's predecessor, scored in shadow on every forecast of the active
-- version that is settled: its forecast for the same symbol, day and horizon, from the
-- same bars up to that day and widened as the served one was, scored as
-- forecast_validation scores the served one. Comparing the two on the same forecasts is
-- what rolls a promotion back by itself.
CREATE TABLE forecast_shadow (
    request_id    text             NOT NULL,
    horizon       integer          NOT NULL,
    model_version text             NOT NULL,  -- the predecessor that made it
    pinball       double precision NOT NULL,  -- mean over the quantiles, on log returns
    covered_68    boolean          NOT NULL,
    covered_95    boolean          NOT NULL,
    scored_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, horizon, model_version)
);

-- How far the served quantiles were spread from the median by risk adjustment (1: not),
-- so that a shadow forecast can be spread alike.
ALTER TABLE forecast_metrics ADD COLUMN interval_scale double precision NOT NULL DEFAULT 1;

-- Automatic rollbacks are audited beside the commands people give.
ALTER TABLE command_audit DROP CONSTRAINT command_audit_source_check;
ALTER TABLE command_audit ADD CONSTRAINT command_audit_source_check
    CHECK (source IN ('http', 'kafka', 'cli', 'auto'));
