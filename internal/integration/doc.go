// Package integration records every call the service makes to a third party (and chosen
// inbound webhooks) as an integration request: what was sent, what came back, how long it
// took, which business record it was for. It is the Go form of Frappe's "Integration Request"
// log, without its costs: secrets are redacted before anything is stored, and records go
// through an in-memory Buffer that writes them in batches, so the request path never waits
// for the database.
//
// A record takes three forms: what the Transport captured (headers, URL and capped bodies as
// they went over the wire, kept on the Request until it is built), the Request (the row, built
// and redacted by the Buffer's goroutine), and the batch written (COPY on PostgreSQL).
//
// The parts, one file each:
//   - request.go: the Request record (table integration_requests) and its statuses.
//   - transport.go: the http.RoundTripper and Client that record every outbound call;
//     capture.go: the capped, decoded copy of each body.
//   - context.go: per-call details (service, reference, owner) carried in a context.
//   - inbound.go: an Echo middleware recording calls third parties make to us.
//   - buffer.go: the Buffer and its goroutine; spill.go: records kept on disk while the
//     database is away.
//   - store.go: batched writes that isolate a bad row; sanitize.go: what makes any row
//     storable.
//   - log.go: synchronous records (Frappe's create_request_log) and status changes.
//
// Redaction itself is package redact. Package integrationtest has an in-memory Sink for tests
// of code that records calls.
package integration
