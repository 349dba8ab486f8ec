-- Integration request log: one row per outbound call attempt or inbound webhook.
-- Column names are part of the template's contract: operators query them with SQL.
CREATE TABLE integration_requests (
    id                  TEXT PRIMARY KEY,
    service             TEXT NOT NULL DEFAULT '',
    is_remote_request   BOOLEAN NOT NULL DEFAULT 0,
    request_description TEXT NOT NULL DEFAULT '',
    request_id          TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'Queued',
    method              TEXT NOT NULL DEFAULT '',
    url                 TEXT NOT NULL DEFAULT '',
    request_headers     TEXT,
    data                TEXT,
    response_headers    TEXT,
    output              TEXT,
    error               TEXT,
    status_code         INTEGER,
    duration_ms         REAL,
    attempt             INTEGER NOT NULL DEFAULT 1,
    reference_type      TEXT NOT NULL DEFAULT '',
    reference_id        TEXT NOT NULL DEFAULT '',
    owner               TEXT NOT NULL DEFAULT '',
    data_truncated      BOOLEAN NOT NULL DEFAULT 0,
    data_size           BIGINT NOT NULL DEFAULT 0,
    output_truncated    BOOLEAN NOT NULL DEFAULT 0,
    output_size         BIGINT NOT NULL DEFAULT 0,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
-- Prune deletes by age.
CREATE INDEX integration_requests_created_at_idx ON integration_requests (created_at);
-- "Every call made for order 42."
CREATE INDEX integration_requests_reference_idx ON integration_requests (reference_type, reference_id);
-- Dashboard: failures per service, newest first.
CREATE INDEX integration_requests_dashboard_idx ON integration_requests (service, status, created_at);
