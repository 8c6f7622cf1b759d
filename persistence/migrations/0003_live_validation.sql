-- Live validation: every served forecast scored against the price its horizon came to,
-- beside the random walk (inference/validation.py). forecast_validation was created in
-- 0001 and never written, so its new columns need no defaults.

-- The (symbol, day, horizon) keys with forecasts not scored yet: the sink adds one with
-- each forecast, the scorer of the worker holding the symbol's window settles it.
CREATE TABLE forecast_pending (
    symbol   text    NOT NULL,
    as_of    date    NOT NULL,
    horizon  integer NOT NULL,
    PRIMARY KEY (symbol, as_of, horizon)
);

ALTER TABLE forecast_validation
    ADD COLUMN model_version  text             NOT NULL,
    ADD COLUMN log_return     double precision NOT NULL,
    ADD COLUMN log_error      double precision NOT NULL,  -- log(point / last close) - log_return
    ADD COLUMN direction_hit  boolean          NOT NULL,
    ADD COLUMN held           jsonb            NOT NULL,  -- each interval the request asked for
    ADD COLUMN rw_pinball     double precision NOT NULL,
    ADD COLUMN rw_covered_68  boolean          NOT NULL,
    ADD COLUMN rw_covered_95  boolean          NOT NULL;
COMMENT ON COLUMN forecast_validation.pinball IS 'mean pinball loss over the quantiles, on log returns';
CREATE INDEX forecast_validation_model ON forecast_validation (model_version, horizon);
