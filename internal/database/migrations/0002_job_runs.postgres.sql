-- One row per scheduled or manual job run, pruned like the integration log.
CREATE TABLE job_runs (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    instance    TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL,
    rows        BIGINT NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_runs_created_at_idx ON job_runs (created_at);
CREATE INDEX job_runs_name_started_at_idx ON job_runs (name, started_at);

-- A replica that wants to run a locked job at a tick must insert its row first; the primary key
-- makes that succeed for exactly one replica per (name, tick).
CREATE TABLE job_ticks (
    name       TEXT NOT NULL,
    tick       TIMESTAMPTZ NOT NULL,
    instance   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, tick)
);
CREATE INDEX job_ticks_created_at_idx ON job_ticks (created_at);
