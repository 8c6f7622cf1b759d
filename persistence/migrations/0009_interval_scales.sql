-- The served intervals' adaptive scales (inference/conformal.py), per model version and
-- horizon: the log of each central level's scale, in the order of conformal.LEVELS.
-- Every worker serves them and folds its settled outcomes in; a step is one UPDATE, so
-- workers stepping at once do not lose each other's steps.
CREATE TABLE interval_scales (
    model_version text               NOT NULL,
    horizon       integer            NOT NULL,
    log_scales    double precision[] NOT NULL,
    steps         integer            NOT NULL DEFAULT 0,
    through       date,              -- the latest outcome day folded in
    updated_at    timestamptz        NOT NULL DEFAULT now(),
    PRIMARY KEY (model_version, horizon)
);
