-- The W3C trace id of the inbound request that caused the call (its traceparent header), so
-- the log joins the traces of the service and of the third party.
ALTER TABLE integration_requests ADD COLUMN trace_id TEXT NOT NULL DEFAULT '';
-- "Every call of this trace." Most calls have none: the index holds only those that do.
CREATE INDEX integration_requests_trace_id_idx ON integration_requests (trace_id) WHERE trace_id <> '';
