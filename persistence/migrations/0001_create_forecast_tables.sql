-- One row per (request, horizon). The key makes a request processed twice one row.
CREATE TABLE forecast_metrics (
    request_id     text        NOT NULL,
    horizon        integer     NOT NULL,
    symbol         text        NOT NULL,
    as_of          date        NOT NULL,
    model_version  text        NOT NULL,
    last_close     double precision NOT NULL,
    point          double precision NOT NULL,
    q10            double precision NOT NULL,
    q25            double precision NOT NULL,
    q50            double precision NOT NULL,
    q75            double precision NOT NULL,
    q90            double precision NOT NULL,
    intervals      jsonb       NOT NULL,
    volatility     double precision NOT NULL,
    prob_up        double precision NOT NULL,
    regime         text,
    latency_ms     double precision NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, horizon)
);
CREATE INDEX forecast_metrics_symbol_as_of ON forecast_metrics (symbol, as_of);

-- Who asked what, and what they got: every prediction, served or refused.
CREATE TABLE prediction_audit (
    request_id     text        PRIMARY KEY,
    user_id        text        NOT NULL,
    symbol         text        NOT NULL,
    source         text        NOT NULL,  -- kafka or http
    request        jsonb       NOT NULL,
    status         text        NOT NULL,
    error_code     text,
    model_version  text        NOT NULL,
    disclaimer     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prediction_audit_user ON prediction_audit (user_id, created_at);

CREATE TABLE model_registry (
    version        text        PRIMARY KEY,
    kind           text        NOT NULL,
    path           text        NOT NULL,
    config         jsonb       NOT NULL,
    metrics        jsonb       NOT NULL DEFAULT '{}',
    train_start    date,
    train_end      date,
    git_commit     text,
    status         text        NOT NULL DEFAULT 'candidate'
                   CHECK (status IN ('candidate', 'production', 'retired')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    promoted_at    timestamptz
);
-- At most one production model at a time.
CREATE UNIQUE INDEX model_registry_one_production ON model_registry (status) WHERE status = 'production';

-- A forecast scored against the price that came true.
CREATE TABLE forecast_validation (
    request_id     text        NOT NULL,
    horizon        integer     NOT NULL,
    symbol         text        NOT NULL,
    target_date    date        NOT NULL,
    actual         double precision NOT NULL,
    abs_pct_error  double precision NOT NULL,
    pinball        double precision NOT NULL,
    covered_68     boolean,
    covered_95     boolean,
    validated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, horizon),
    FOREIGN KEY (request_id, horizon) REFERENCES forecast_metrics (request_id, horizon)
);

CREATE TABLE market_regime_history (
    symbol         text        NOT NULL,
    as_of          date        NOT NULL,
    model_version  text        NOT NULL,
    regime         text        NOT NULL,
    confidence     double precision NOT NULL,
    probabilities  jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, as_of, model_version)
);

CREATE TABLE feature_importance (
    model_version  text        NOT NULL,
    symbol         text        NOT NULL,  -- '*' for the whole panel
    horizon        integer     NOT NULL,
    feature        text        NOT NULL,
    feature_group  text        NOT NULL,
    importance     double precision NOT NULL,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_version, symbol, horizon, feature)
);

CREATE TABLE risk_adjustment_history (
    request_id     text        PRIMARY KEY,
    symbol         text        NOT NULL,
    as_of          date        NOT NULL,
    vol_ratio      double precision NOT NULL,
    interval_scale double precision NOT NULL,
    var_95         double precision NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
