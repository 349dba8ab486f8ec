// Package integration records every call the service makes to a third party (and chosen
// inbound webhooks) as an integration request: what was sent, what came back, how long it
// took, which business record it was for. It is the Go form of Frappe's "Integration Request"
// log, without its costs: secrets are redacted before anything is stored or logged, and
// records go through an in-memory Buffer that writes them in batches, so the request path
// never waits for the database.
//
// The parts, one file each:
//   - request.go: the Request record (table integration_requests) and its statuses.
//   - redact.go: the Redactor that masks secrets in headers, URLs and bodies; jsonstr.go:
//     the JSON string decoding and header encoding it and the flusher use.
//   - transport.go, capture.go: an http.RoundTripper and *http.Client that record every
//     outbound call, and the capped, decoded, redacted copy of each body; watch.go: the
//     watcher that records a response body nobody reads once its request's context ends.
//   - context.go: per-call details (service, reference, owner) carried in a context.
//   - inbound.go: an Echo middleware recording calls third parties make to us.
//   - buffer.go, store.go: the deferred buffer and its batched writes (COPY on PostgreSQL).
//   - frame.go, queue.go, offheap_*.go: how the buffer holds records: encoded, in chunks
//     mapped outside the Go heap, so that they do not count in the collector's pacing.
//   - spill.go: records the buffer could not store at shutdown, kept on disk and replayed.
//   - log.go: synchronous records (Frappe's create_request_log) and status changes.
//
// Package integrationtest has an in-memory Sink for tests of code that records calls.
package integration
