-- What a worker used to hold in memory and lost when it restarted or a partition moved.
-- The risk level last told on risk.events per symbol, so that a change is told once
-- whichever worker serves the next request: written as the event is told.
CREATE TABLE risk_levels_told (
    symbol        text        PRIMARY KEY,
    level         text        NOT NULL CHECK (level IN ('normal', 'elevated', 'high')),
    as_of         date        NOT NULL,
    model_version text        NOT NULL,
    told_at       timestamptz NOT NULL DEFAULT now()
);

-- What the retrain triggers saw last (the market's regime), so a change that happens
-- while workers restart is still seen.
CREATE TABLE trigger_memory (
    name       text        PRIMARY KEY,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The retrain queue is model_jobs itself: a worker claims the next waiting job, high
-- priority first and then in the order they came, so waiting jobs outlive the worker.
-- `arrival` orders jobs that came in one transaction, where created_at ties.
ALTER TABLE model_jobs ADD COLUMN priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('high', 'normal')),
                       ADD COLUMN arrival bigserial;
CREATE INDEX model_jobs_waiting ON model_jobs ((priority = 'high') DESC, arrival) WHERE status = 'queued';
