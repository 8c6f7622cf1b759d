-- Retraining jobs: asked over HTTP or on model.commands, run one at a time by the worker
-- that consumed the command, in a process of their own; their events go to model.events.
CREATE TABLE model_jobs (
    job_id       text        PRIMARY KEY,
    command      jsonb       NOT NULL,
    status       text        NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    progress     double precision NOT NULL DEFAULT 0,
    message      text,
    version      text,        -- the candidate it trained
    promoted     boolean,     -- whether the gate let it through
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
