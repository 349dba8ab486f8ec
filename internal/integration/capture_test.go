package integration

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// chanSink hands records over to a test.
type chanSink chan *Request

func (s chanSink) Add(r *Request) { s <- r }

// opaqueBody hides its reader's type, so the Transport must tee it.
type opaqueBody struct{ io.Reader }

func (opaqueBody) Close() error { return nil }

// TestReplayedBodyRecordsWhatTheTeeRecords: a request body the Transport captures through
// GetBody (in-memory readers, which spare net/http a separate flush of the headers) is
// recorded exactly as a body it tees.
func TestReplayedBodyRecordsWhatTheTeeRecords(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
	defer up.Close()
	sink := make(chanSink, 1)
	client := &http.Client{Transport: NewTransport(up.Client().Transport, sink, Options{BodyCap: 1000})}
	record := func(body io.Reader, size int64) *Request {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, up.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return <-sink
	}
	long := "[" + strings.Repeat(`{"password":"hunter2-secret","é":"x"},`, 100) + "{}]" // cut by BodyCap
	for _, text := range []string{`{"order_id":"SO-1","lines":[{"sku":"X1","qty":2}]}`, `{"password":"hunter2-secret"}`, long} {
		for name, body := range map[string]func() io.Reader{
			"bytes.Reader":   func() io.Reader { return bytes.NewReader([]byte(text)) },
			"strings.Reader": func() io.Reader { return strings.NewReader(text) },
			"bytes.Buffer":   func() io.Reader { return bytes.NewBufferString(text) },
			"partly read": func() io.Reader {
				r := strings.NewReader("0123456789" + text)
				r.Read(make([]byte, 10))
				return r
			},
		} {
			got := record(body(), int64(len(text)))
			want := record(opaqueBody{strings.NewReader(text)}, int64(len(text)))
			if strOf(got.Data) != strOf(want.Data) || got.DataSize != want.DataSize || got.DataTruncated != want.DataTruncated {
				t.Errorf("%s, %d bytes: data %q (size %d, truncated %v); teed: %q (size %d, truncated %v)", name, len(text),
					strOf(got.Data), got.DataSize, got.DataTruncated, strOf(want.Data), want.DataSize, want.DataTruncated)
			}
			if strings.Contains(strOf(got.Data), "hunter2") {
				t.Errorf("%s: secret stored: %q", name, strOf(got.Data))
			}
		}
	}
}

// failingReader returns some bytes, then an error.
type failingReader struct{ left int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, errors.New("replay broke")
	}
	n := min(len(p), r.left)
	for i := range n {
		p[i] = 'x'
	}
	r.left -= n
	return n, nil
}

// A GetBody whose reader fails halfway leaves nothing of its bytes in the record: the call
// falls back to teeing the body it sends, and the record holds exactly that body.
func TestBrokenReplayFallsBackToTheTee(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	sink := make(chanSink, 1)
	client := &http.Client{Transport: NewTransport(up.Client().Transport, sink, Options{})}
	const body = `{"order_id":"SO-1","lines":[1,2,3]}`
	req, err := http.NewRequest(http.MethodPost, up.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(&failingReader{left: 10}), nil }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r := <-sink
	if strOf(r.Data) != body || r.DataSize != int64(len(body)) || r.DataTruncated {
		t.Errorf("data %q (size %d, truncated %v); want the body sent, %q", strOf(r.Data), r.DataSize, r.DataTruncated, body)
	}
}

// strOf is a nullable text column's value, "" for NULL.
func strOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
