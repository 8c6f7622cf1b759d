-- risk_adjustment_history keeps each change of a symbol's risk level (a risk.events
-- event), with every rule's factor and reason, no longer a row per request: what a
-- request's forecast was widened by is in its result (prediction_audit) and in
-- forecast_metrics.interval_scale. The per-request rows written so far stay, renamed.
ALTER TABLE risk_adjustment_history RENAME TO risk_adjustment_requests;
ALTER INDEX risk_adjustment_history_pkey RENAME TO risk_adjustment_requests_pkey;
CREATE TABLE risk_adjustment_history (
    symbol         text             NOT NULL,
    as_of          date             NOT NULL,
    model_version  text             NOT NULL,
    level          text             NOT NULL CHECK (level IN ('normal', 'elevated', 'high')),
    previous       text,
    interval_scale double precision NOT NULL,
    var_95         double precision NOT NULL,
    rules          jsonb            NOT NULL,  -- [{name, value, factor, applied, reason}]
    request_id     text             NOT NULL,  -- the forecast that first saw it
    created_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, as_of, model_version, level)
);
