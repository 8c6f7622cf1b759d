-- Each retrain a trigger asked for, once per period (a day, a week, a model version, a
-- regime change), whichever worker noticed first.
CREATE TABLE retrain_triggers (
    trigger   text        NOT NULL,
    period    text        NOT NULL,
    job_id    text        NOT NULL,
    reason    text        NOT NULL,
    asked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trigger, period)
);
