package integration

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A Request survives its frame field for field, empty and nil values included. Times come
// back in UTC (the same instant), and empty JSON columns as nil (both are NULL).
func TestRequestFrameRoundTrip(t *testing.T) {
	emptyOutput := fullRequest(NewID())
	emptyOutput.Output = new("")
	for name, r := range map[string]*Request{
		"every field":  fullRequest(NewID()),
		"empty output": emptyOutput,
		"minimal":      minimalRequest(NewID(), time.Now()),
		"zero":         {},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeFrame(appendRequestFrame(nil, r), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := *r
			want.CreatedAt, want.UpdatedAt = want.CreatedAt.UTC(), want.UpdatedAt.UTC()
			if len(want.RequestHeaders) == 0 {
				want.RequestHeaders = nil
			}
			if len(want.ResponseHeaders) == 0 {
				want.ResponseHeaders = nil
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

func sampleCall() *rawCall {
	start := time.Now()
	return &rawCall{
		id: newID(start), service: "erp", description: "push order", requestID: "req-1", owner: "jane",
		refType: "Order", refID: "42", status: StatusFailed, method: http.MethodPost, attempt: 2,
		start: start, duration: 1234567 * time.Nanosecond, statusCode: 502,

		redactor: sharedRedactor,
		reqURL:   mustParseURL("https://user:pw@erp.example/orders?token=t0k3n-abcdef&page=2"),
		reqHeader: http.Header{"Authorization": {"Bearer sk_live_123456"}, "Content-Type": {"application/json"},
			"X-Multi": {"a", "b"}},
		reqBody:     capturedBody{present: true, buf: []byte(`{"password":"hunter2-secret","n":1}`), total: 35, limit: 64 << 10},
		reqLength:   35,
		hasResponse: true,
		respHeader:  http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=abcdef123"}},
		respBody:    capturedBody{present: true, buf: []byte(`{"echo":"hunter2-secret sk_live_123456"}`), total: 5000, limit: 64 << 10},
		respLength:  -1,
		respStatus:  "502 Bad Gateway",
		errText:     "",
	}
}

// appendCallFrame encodes a whole call frame, as Buffer.addCall pushes it in parts.
func appendCallFrame(dst []byte, c *rawCall, redactor int) []byte {
	dst = appendCallHead(dst, c, redactor)
	return append(append(dst, c.reqBody.buf...), c.respBody.buf...)
}

func mustParseURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// A call decoded from its frame builds exactly the record the call builds in place: the
// flusher's records are the ones a sink building at once would get.
func TestCallFrameBuildsTheSameRecord(t *testing.T) {
	for name, c := range map[string]*rawCall{
		"full": sampleCall(),
		"transport error": {id: newID(time.Now()), status: StatusFailed, method: http.MethodGet, attempt: 1, start: time.Now(),
			redactor: sharedRedactor, url: "http://x/", reqHeader: http.Header{}, errText: "dial tcp: refused token=abc"},
		"inbound (URL as a string)": {id: newID(time.Now()), status: StatusCompleted, method: http.MethodPost, attempt: 1,
			start: time.Now(), redactor: sharedRedactor, inbound: true, url: "https://api.example/webhooks/psp?sig=abc123"},
		"no bodies, no header": {id: newID(time.Now()), status: StatusCompleted, method: http.MethodDelete, attempt: 1, start: time.Now(),
			redactor: sharedRedactor, url: "http://x/", hasResponse: true, statusCode: 204, respStatus: "204 No Content"},
	} {
		t.Run(name, func(t *testing.T) {
			want := c.record()
			want.materialize()

			frame := appendCallFrame(nil, c, 1)
			got, err := decodeFrame(frame, []*Redactor{nil, sharedRedactor})
			if err != nil {
				t.Fatal(err)
			}
			if got.raw == nil {
				t.Fatal("decoded call has nothing to build")
			}
			got.materialize()
			if !reflect.DeepEqual(*got, *want) {
				t.Errorf("built from the frame:\n got %+v\nwant %+v", *got, *want)
			}
			if strings.Contains(strOf(got.Output)+strOf(got.Error)+got.URL+string(got.RequestHeaders), "sk_live_123456") {
				t.Errorf("a secret survived the build: %+v", *got)
			}
		})
	}
}

// An outbound call's URL travels in its parts and comes out as URL.String formats it, for
// every shape a url.URL can take.
func TestURLFrameRoundTrip(t *testing.T) {
	for _, raw := range []string{
		"https://erp.example/orders?page=2#top",
		"http://user@erp.example:8080/a%2Fb/c?x=1",      // RawPath kept
		"https://user:p%40ss@erp.example/",              // password set
		"https://user:@erp.example/",                    // password set, empty
		"mailto:ops@example.com",                        // opaque
		"http://erp.example/search?",                    // ForceQuery
		"http://erp.example/caf%C3%A9#fr%C3%A4g%2Fment", // escaped path, RawFragment
		"file:///etc/hosts",
		"/relative/path?q=1",
		"",
	} {
		u := mustParseURL(raw)
		for _, omit := range []bool{false, true} {
			u.OmitHost = omit
			want := u.String()
			rd := frameReader{b: appendURL(nil, u, "")}
			if got := rd.url(); got != want || rd.bad || len(rd.b) != 0 {
				t.Errorf("%q (OmitHost %v): got %q (bad %v, %d bytes left); want %q", raw, omit, got, rd.bad, len(rd.b), want)
			}
		}
	}
}

// appendURL writes every field of url.URL. When Go adds one, this fails: the new field must
// be written and read back too, or the stored URL could differ from URL.String.
func TestURLPartsCoverURL(t *testing.T) {
	var got []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[url.URL]()) {
		got = append(got, f.Name)
	}
	want := []string{"Scheme", "Opaque", "User", "Host", "Path", "Fragment", "RawQuery", "RawPath",
		"RawFragment", "ForceQuery", "OmitHost"}
	if !slices.Equal(got, want) {
		t.Errorf("url.URL has fields %v; appendURL writes %v", got, want)
	}
}

// A frame cut anywhere, or naming a Redactor the table lacks, is an error, never a panic.
func TestDecodeFrameRejectsDamage(t *testing.T) {
	frames := [][]byte{appendRequestFrame(nil, fullRequest("r1")), appendCallFrame(nil, sampleCall(), 0)}
	for _, f := range frames {
		for n := range len(f) {
			if _, err := decodeFrame(f[:n], []*Redactor{sharedRedactor}); err == nil {
				t.Fatalf("a frame cut at %d of %d bytes decoded", n, len(f))
			}
		}
		if _, err := decodeFrame(append(f[:len(f):len(f)], 0), []*Redactor{sharedRedactor}); err == nil {
			t.Error("a frame with a trailing byte decoded")
		}
	}
	if _, err := decodeFrame(frames[1], nil); err == nil {
		t.Error("a call frame naming an unknown redactor decoded")
	}
}

// The table numbers each Redactor once, and refuses to grow past its bound.
func TestRedactorTable(t *testing.T) {
	var tab redactorTable
	a, b := NewRedactor(DefaultRedactConfig()), NewRedactor(DefaultRedactConfig())
	for _, tc := range []struct {
		r    *Redactor
		want int
	}{{a, 0}, {b, 1}, {a, 0}, {b, 1}} {
		if got, ok := tab.index(tc.r); !ok || got != tc.want {
			t.Errorf("index = %d, %v; want %d", got, ok, tc.want)
		}
	}
	for range maxRedactors {
		tab.index(NewRedactor(RedactConfig{}))
	}
	if _, ok := tab.index(NewRedactor(RedactConfig{})); ok {
		t.Errorf("the table grew past %d entries", maxRedactors)
	}
	if got, ok := tab.index(b); !ok || got != 1 {
		t.Errorf("a known Redactor after the table filled: %d, %v; want 1, true", got, ok)
	}
}

// A call's record takes its times from the call's start (microseconds, UTC) and its duration
// from the monotonic clock; a Status that decides nothing leaves the record Queued.
func TestCallRecordTimesAndDefaults(t *testing.T) {
	start := time.Date(2026, 11, 21, 15, 4, 5, 123456789, time.FixedZone("CET", 3600))
	c := &rawCall{id: newID(start), start: start, duration: 1234567 * time.Nanosecond, status: StatusCompleted,
		method: http.MethodGet, attempt: 1, hasResponse: true, statusCode: 200, redactor: sharedRedactor, url: "http://x/"}
	r := c.record()
	wantCreated := time.Date(2026, 11, 21, 14, 4, 5, 123456000, time.UTC)
	wantUpdated := time.Date(2026, 11, 21, 14, 4, 5, 124691000, time.UTC) // + 1.234567 ms, cut to µs
	if !r.CreatedAt.Equal(wantCreated) || r.CreatedAt.Location() != time.UTC || !r.UpdatedAt.Equal(wantUpdated) {
		t.Errorf("created %v, updated %v; want %v, %v (UTC)", r.CreatedAt, r.UpdatedAt, wantCreated, wantUpdated)
	}
	if r.DurationMS == nil || *r.DurationMS != 1.234 || r.StatusCode == nil || *r.StatusCode != 200 {
		t.Errorf("duration %v ms, status code %v; want 1.234, 200", r.DurationMS, r.StatusCode)
	}
	if got, err := uuid.Parse(r.ID); err != nil || got != c.id {
		t.Errorf("id %q; want %s", r.ID, c.id)
	}

	sink := make(chanSink, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	client := &http.Client{Transport: NewTransport(up.Client().Transport, sink,
		Options{Status: func(*http.Response, error) Status { return "" }})}
	resp, err := client.Get(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := (<-sink).Status; got != StatusQueued {
		t.Errorf("status %q from a Status func that decides nothing; want %q", got, StatusQueued)
	}
}

// A call goes into the Buffer as head and bodies, pushed as parts of one frame, and comes
// out as the record a sink building at once would get.
func TestBufferedCallFrameBuildsTheSameRecord(t *testing.T) {
	// Never started nor closed: with no database, Close would wait for the taken record.
	buf := NewBuffer(nil, BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c := sampleCall()
	want := c.record()
	want.materialize()
	buf.addCall(c)
	taken := buf.take(1)
	if len(taken.rows) != 1 {
		t.Fatalf("took %d records; want 1", len(taken.rows))
	}
	got := taken.rows[0]
	got.materialize()
	if !reflect.DeepEqual(*got, *want) {
		t.Errorf("from the Buffer:\n got %+v\nwant %+v", *got, *want)
	}
}

// Once the Buffer cannot number another Redactor, a call using one is built on the caller's
// goroutine and buffered complete: redacted, nothing left to build.
func TestBufferBuildsACallWhoseRedactorItCannotNumber(t *testing.T) {
	buf := NewBuffer(nil, BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for range maxRedactors {
		buf.redactors.index(NewRedactor(RedactConfig{}))
	}
	c := sampleCall()
	c.redactor = NewRedactor(DefaultRedactConfig())
	want := c.record()
	want.materialize()
	buf.addCall(c)
	taken := buf.take(1)
	if len(taken.rows) != 1 || taken.rows[0].raw != nil {
		t.Fatalf("took %d records (first still to build: %v); want 1, built", len(taken.rows), len(taken.rows) > 0 && taken.rows[0].raw != nil)
	}
	if got := taken.rows[0]; !reflect.DeepEqual(*got, *want) {
		t.Errorf("got %+v\nwant %+v", *got, *want)
	}
	if strings.Contains(strOf(taken.rows[0].Data)+strOf(taken.rows[0].Output), "hunter2-secret") {
		t.Error("a secret was buffered unredacted")
	}
}
