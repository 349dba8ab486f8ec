// Package redact removes secrets from what the server records and logs: the
// headers, URLs and bodies of the calls the integration request log stores,
// and the server's own log lines.
//
// One rule, [Redactor.Secret], decides whether a name is secret, whatever it
// names: a header, a query or form key, a JSON or XML key, an XML attribute, a
// multipart field. A name is split into lower-case words (see [Config]), so
// that "token" matches access_token, accessToken and X-Auth-Token, but neither
// max_tokens nor tokenizer, and "ssn" does not match className.
//
// Every method both redacts and collects: a value it redacts is added to the
// [Secrets] passed in, and what that Secrets holds is masked wherever it shows
// up later, in its usual escaped spellings too. One recorded call shares one
// Secrets, in this order: request headers, request body, URL, response
// headers, response body, then [Secrets.Mask] on the error text; so a value
// sent in the request is masked where the response echoes it.
//
// Output is for people: a redacted value becomes [Mask], unescaped, wherever it
// lands. All else is kept byte for byte, and input with nothing to redact is
// returned as it is. JSON is read with jsontext and XML with encoding/xml; from
// where they reject the input (a cut at a size cap, a trailing comma, single
// quotes...) a loose scan for key: value and key=value pairs takes over, which
// masks more rather than less. No input makes a method panic, recurse without
// bound or take more than linear time.
package redact
