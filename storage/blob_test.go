package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/empplay/empplay"
)

// A real-looking key that must never show up in an error or a log line.
const secretKey = "c2VjcmV0LWtleS1ub3QtZm9yLWxvZ3Mtc2VjcmV0LWtleS1ub3QtZm9yLWxvZ3M="

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		err       error
		retryable bool
		wantIn    string // in the message
		wantIs    error  // errors.Is target kept in the chain, if any
	}{
		{name: "503 server busy", err: &azcore.ResponseError{StatusCode: 503, ErrorCode: "ServerBusy"}, retryable: true, wantIn: "503 Service Unavailable (ServerBusy)"},
		{name: "500", err: &azcore.ResponseError{StatusCode: 500, ErrorCode: "InternalError"}, retryable: true, wantIn: "500"},
		{name: "429 throttled", err: &azcore.ResponseError{StatusCode: 429}, retryable: true, wantIn: "429 Too Many Requests"},
		{name: "408 timeout", err: &azcore.ResponseError{StatusCode: 408, ErrorCode: "OperationTimedOut"}, retryable: true, wantIn: "OperationTimedOut"},
		{name: "409 container being deleted", err: &azcore.ResponseError{StatusCode: 409, ErrorCode: "ContainerBeingDeleted"}, retryable: true, wantIn: "ContainerBeingDeleted"},
		{name: "403 auth", err: &azcore.ResponseError{StatusCode: 403, ErrorCode: "AuthenticationFailed"}, retryable: false, wantIn: "403 Forbidden (AuthenticationFailed)"},
		{name: "400 bad name", err: &azcore.ResponseError{StatusCode: 400, ErrorCode: "InvalidResourceName"}, retryable: false, wantIn: "InvalidResourceName"},
		{name: "404 container missing", err: &azcore.ResponseError{StatusCode: 404, ErrorCode: "ContainerNotFound"}, retryable: false, wantIn: "ContainerNotFound"},
		{name: "409 lease conflict", err: &azcore.ResponseError{StatusCode: 409, ErrorCode: "LeaseIdMissing"}, retryable: false, wantIn: "409 Conflict"},
		{name: "response error wrapped", err: fmt.Errorf("sdk: %w", &azcore.ResponseError{StatusCode: 403}), retryable: false, wantIn: "403 Forbidden"},
		{name: "connection refused", err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, retryable: true, wantIn: "connection refused", wantIs: syscall.ECONNREFUSED},
		{name: "dns timeout", err: &net.DNSError{Err: "i/o timeout", Name: "acct.blob.core.windows.net", IsTimeout: true}, retryable: true, wantIn: "acct.blob.core.windows.net"},
		{name: "connection reset mid-body", err: &url.Error{Op: "Put", URL: "https://acct.blob.core.windows.net/c/n", Err: io.ErrUnexpectedEOF}, retryable: true, wantIn: "unexpected EOF", wantIs: io.ErrUnexpectedEOF},
		{name: "deadline", err: &url.Error{Op: "Put", URL: "https://acct.blob.core.windows.net/c/n", Err: context.DeadlineExceeded}, retryable: true, wantIs: context.DeadlineExceeded},
		{name: "cancelled", err: context.Canceled, retryable: true, wantIs: context.Canceled},
		{name: "SAS token redacted", err: &url.Error{Op: "Put", URL: "https://acct.blob.core.windows.net/c/n?sv=2024&sig=" + secretKey, Err: syscall.ECONNRESET}, retryable: true, wantIn: `"https://acct.blob.core.windows.net/c/n"`, wantIs: syscall.ECONNRESET},
		{name: "unknown error", err: errors.New("something odd"), retryable: true, wantIn: "something odd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := classify("upload box/a b.png", tc.err)
			var e *empplay.Error
			if !errors.As(got, &e) {
				t.Fatalf("classify returned %T, want *empplay.Error", got)
			}
			if e.Code != empplay.CodeStorageError {
				t.Errorf("code %q, want %q", e.Code, empplay.CodeStorageError)
			}
			if e.Retryable != tc.retryable || empplay.IsRetryable(got) != tc.retryable {
				t.Errorf("retryable %v, want %v", e.Retryable, tc.retryable)
			}
			msg := got.Error()
			if !strings.HasPrefix(msg, "upload box/a b.png: ") {
				t.Errorf("message %q does not start with the operation", msg)
			}
			if !strings.Contains(msg, tc.wantIn) {
				t.Errorf("message %q does not contain %q", msg, tc.wantIn)
			}
			if strings.Contains(msg, secretKey) || strings.Contains(msg, "\n") {
				t.Errorf("message %q leaks a secret or spans lines", msg)
			}
			if tc.wantIs != nil && !errors.Is(got, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", got, tc.wantIs)
			}
			var re *azcore.ResponseError
			if errors.As(tc.err, &re) {
				var got2 *azcore.ResponseError
				if !errors.As(got, &got2) || got2 != re {
					t.Errorf("the *azcore.ResponseError is no longer in the chain")
				}
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantIns []string
	}{
		{name: "nothing set", cfg: Config{}, wantIns: []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_ENDPOINT"}},
		{name: "key without account", cfg: Config{Key: secretKey}, wantIns: []string{"AZURE_STORAGE_ACCOUNT is required"}},
		{name: "endpoint only", cfg: Config{Endpoint: "http://127.0.0.1:10000/devstoreaccount1"}, wantIns: []string{"AZURE_STORAGE_ACCOUNT is required"}},
		{name: "account without key", cfg: Config{Account: "acct"}, wantIns: []string{"AZURE_STORAGE_KEY is required", `"acct"`}},
		{name: "key not base64", cfg: Config{Account: "acct", Key: "not base64 " + secretKey}, wantIns: []string{"AZURE_STORAGE_KEY", "not valid base64"}},
		{name: "endpoint not http", cfg: Config{Account: "acct", Key: secretKey, Endpoint: "ftp://example.com/"}, wantIns: []string{"AZURE_STORAGE_ENDPOINT", "absolute http or https"}},
		{name: "account not a host name", cfg: Config{Account: "my account", Key: secretKey}, wantIns: []string{"AZURE_STORAGE_ACCOUNT", "my account"}},
		{name: "endpoint relative", cfg: Config{Account: "acct", Key: secretKey, Endpoint: "127.0.0.1:10000/devstoreaccount1"}, wantIns: []string{"AZURE_STORAGE_ENDPOINT"}},
		{name: "connection string garbage", cfg: Config{ConnectionString: "AccountKey" + secretKey}, wantIns: []string{"AZURE_STORAGE_CONNECTION_STRING is invalid"}},
		{name: "connection string bad key", cfg: Config{ConnectionString: "AccountName=acct;AccountKey=%%" + secretKey}, wantIns: []string{"AZURE_STORAGE_CONNECTION_STRING is invalid"}},
		{name: "connection string no credential", cfg: Config{ConnectionString: "AccountName=acct"}, wantIns: []string{"AZURE_STORAGE_CONNECTION_STRING is invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := New(tc.cfg, nil)
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error", b)
			}
			for _, w := range tc.wantIns {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secretKey) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		cfg       Config
		container string
		blob      string
		want      string
	}{
		{
			name: "default endpoint", cfg: Config{Account: "acct", Key: secretKey},
			container: "renders", blob: "p5/abc.png",
			want: "https://acct.blob.core.windows.net/renders/p5/abc.png",
		},
		{
			name: "azurite endpoint", cfg: Config{Account: "devstoreaccount1", Key: secretKey, Endpoint: "http://127.0.0.1:10000/devstoreaccount1/"},
			container: "renders", blob: "a b/ü 画.png",
			want: "http://127.0.0.1:10000/devstoreaccount1/renders/a%20b/%C3%BC%20%E7%94%BB.png",
		},
		{
			name: "reserved characters escaped per segment", cfg: Config{Account: "acct", Key: secretKey},
			container: "c", blob: "x?y/#1/50%",
			want: "https://acct.blob.core.windows.net/c/x%3Fy/%231/50%25",
		},
		{
			name: "connection string", cfg: Config{ConnectionString: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + secretKey + ";EndpointSuffix=core.windows.net"},
			container: "c", blob: "n.png",
			want: "https://acct.blob.core.windows.net/c/n.png",
		},
		{
			name: "SAS connection string drops the token", cfg: Config{ConnectionString: "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=" + secretKey},
			container: "c", blob: "n.png",
			want: "https://acct.blob.core.windows.net/c/n.png",
		},
		{
			name: "connection string with account is ignored", cfg: Config{ConnectionString: "AccountName=one;AccountKey=" + secretKey, Account: "two", Key: secretKey},
			container: "c", blob: "n",
			want: "https://one.blob.core.windows.net/c/n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := New(tc.cfg, nil)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := b.URL(tc.container, tc.blob); got != tc.want {
				t.Errorf("URL(%q, %q) = %q, want %q", tc.container, tc.blob, got, tc.want)
			}
			if want := strings.TrimSuffix(tc.want, "/"+tc.container+"/"+escapeName(tc.blob)); b.Endpoint() != want {
				t.Errorf("Endpoint() = %q, want %q", b.Endpoint(), want)
			}
		})
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	cfg := Config{
		ConnectionString: "AccountName=acct;AccountKey=" + secretKey,
		Account:          "acct",
		Key:              secretKey,
	}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "storage", cfg)
	for name, s := range map[string]string{"slog": buf.String(), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg)} {
		if strings.Contains(s, secretKey) {
			t.Errorf("%s output contains the key: %s", name, s)
		}
		if !strings.Contains(s, "acct") {
			t.Errorf("%s output lacks the account name: %s", name, s)
		}
	}
}

// fakeService is a scripted blob service: each request gets the next
// status and x-ms-error-code, and is recorded.
type fakeService struct {
	mu      sync.Mutex
	script  []fakeReply
	records []string
}

type fakeReply struct {
	status int
	code   string
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	rec := r.Method + " " + r.URL.Path
	if r.URL.Query().Get("restype") == "container" {
		rec += " container access=" + r.Header.Get("x-ms-blob-public-access")
	} else {
		rec += " type=" + r.Header.Get("x-ms-blob-content-type") + " cache=" + r.Header.Get("x-ms-blob-cache-control")
	}
	f.records = append(f.records, rec)
	reply := fakeReply{status: http.StatusInternalServerError, code: "ScriptExhausted"}
	if len(f.script) > 0 {
		reply, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if reply.code != "" {
		w.Header().Set("x-ms-error-code", reply.code)
	}
	w.WriteHeader(reply.status)
}

func TestUploadScripted(t *testing.T) {
	t.Parallel()
	const (
		putBlob    = "PUT /devstoreaccount1/box/dir/a b.png type=image/png cache=" + DefaultCacheControl
		putPublic  = "PUT /devstoreaccount1/box container access=blob"
		putPrivate = "PUT /devstoreaccount1/box container access="
	)
	for _, tc := range []struct {
		name      string
		noCreate  bool
		script    []fakeReply
		wantErr   bool
		retryable bool
		wantIn    string
		want      []string
		private   bool // a container is created private: a warning is logged
	}{
		{
			name:   "one request when the container exists",
			script: []fakeReply{{status: 201}},
			want:   []string{putBlob},
		},
		{
			name:   "missing container created public then retried",
			script: []fakeReply{{404, "ContainerNotFound"}, {status: 201}, {status: 201}},
			want:   []string{putBlob, putPublic, putBlob},
		},
		{
			name:   "lost creation race",
			script: []fakeReply{{404, "ContainerNotFound"}, {409, "ContainerAlreadyExists"}, {status: 201}},
			want:   []string{putBlob, putPublic, putBlob},
		},
		{
			name:    "public access forbidden falls back to private",
			script:  []fakeReply{{404, "ContainerNotFound"}, {409, "PublicAccessNotPermitted"}, {status: 201}, {status: 201}},
			want:    []string{putBlob, putPublic, putPrivate, putBlob},
			private: true,
		},
		{
			name:     "no create: missing container is permanent",
			noCreate: true,
			script:   []fakeReply{{404, "ContainerNotFound"}},
			wantErr:  true, retryable: false, wantIn: "upload box/dir/a b.png: azure storage responded 404 Not Found (ContainerNotFound)",
			want: []string{putBlob},
		},
		{
			name:    "container creation refused is permanent",
			script:  []fakeReply{{404, "ContainerNotFound"}, {403, "AuthorizationPermissionMismatch"}},
			wantErr: true, retryable: false, wantIn: "upload box/dir/a b.png: create container: azure storage responded 403 Forbidden (AuthorizationPermissionMismatch)",
			want: []string{putBlob, putPublic},
		},
		{
			name:    "container still missing after creation is not retried again",
			script:  []fakeReply{{404, "ContainerNotFound"}, {status: 201}, {404, "ContainerNotFound"}},
			wantErr: true, retryable: false, wantIn: "ContainerNotFound",
			want: []string{putBlob, putPublic, putBlob},
		},
		{
			name:    "server busy is transient",
			script:  []fakeReply{{503, "ServerBusy"}},
			wantErr: true, retryable: true, wantIn: "503 Service Unavailable (ServerBusy)",
			want: []string{putBlob},
		},
		{
			name:    "auth failure is permanent",
			script:  []fakeReply{{403, "AuthenticationFailed"}},
			wantErr: true, retryable: false, wantIn: "403 Forbidden (AuthenticationFailed)",
			want: []string{putBlob},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeService{script: tc.script}
			srv := httptest.NewServer(fake)
			t.Cleanup(srv.Close)
			var log bytes.Buffer
			b, err := New(Config{
				Account: "devstoreaccount1", Key: secretKey, Endpoint: srv.URL + "/devstoreaccount1",
				NoCreateContainers: tc.noCreate, MaxRetries: -1,
			}, slog.New(slog.NewTextHandler(&log, nil)))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = b.Upload(t.Context(), "box", "dir/a b.png", []byte("png"), "image/png")
			if (err != nil) != tc.wantErr {
				t.Fatalf("Upload error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if got := empplay.IsRetryable(err); got != tc.retryable {
					t.Errorf("retryable = %v, want %v (%v)", got, tc.retryable, err)
				}
				if empplay.ErrorCode(err) != empplay.CodeStorageError {
					t.Errorf("code = %q", empplay.ErrorCode(err))
				}
				if !strings.Contains(err.Error(), tc.wantIn) {
					t.Errorf("error %q does not contain %q", err, tc.wantIn)
				}
			}
			if warned := strings.Contains(log.String(), "level=WARN msg=\"created a private container"); warned != tc.private {
				t.Errorf("warned of a private container: %v, want %v; log:\n%s", warned, tc.private, log.String())
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if strings.Join(fake.records, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(fake.records, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestUploadNetworkErrorIsTransient(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago: nothing listens, dial is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	b, err := New(Config{Account: "devstoreaccount1", Key: secretKey, Endpoint: "http://" + addr + "/devstoreaccount1", MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	err = b.Upload(t.Context(), "box", "a.png", []byte("x"), "image/png")
	if err == nil {
		t.Fatal("Upload to a closed port succeeded")
	}
	if !empplay.IsRetryable(err) || empplay.ErrorCode(err) != empplay.CodeStorageError {
		t.Errorf("got %v (retryable %v, code %q), want a retryable storage_error", err, empplay.IsRetryable(err), empplay.ErrorCode(err))
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("error %v does not carry the *net.OpError", err)
	}
	if !strings.Contains(err.Error(), "upload box/a.png") {
		t.Errorf("error %q does not say what failed", err)
	}
}
