package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/storage"
)

// TestAzurite runs the uploads against one real Azurite; each subtest uses
// its own container, which does not exist until the test's first upload.
func TestAzurite(t *testing.T) {
	az := testenv.StartAzurite(t)
	admin, err := azblob.NewClientFromConnectionString(az.ConnStr, nil)
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	newBlob := func(t *testing.T, cfg storage.Config) *storage.Blob {
		t.Helper()
		b, err := storage.New(cfg, nil)
		if err != nil {
			t.Fatalf("storage.New: %v", err)
		}
		return b
	}
	// Half the subtests use the connection string, half account+key+endpoint.
	viaConnStr := storage.Config{ConnectionString: az.ConnStr}
	viaKey := storage.Config{Account: testenv.AzuriteAccount, Key: testenv.AzuriteKey, Endpoint: az.Endpoint}

	var seq int
	var seqMu sync.Mutex
	newContainer := func(t *testing.T) string {
		seqMu.Lock()
		seq++
		name := fmt.Sprintf("t%d-%d", seq, time.Now().UnixNano()%1e9)
		seqMu.Unlock()
		t.Cleanup(func() {
			_, _ = admin.DeleteContainer(context.Background(), name, nil)
		})
		return name
	}

	t.Run("upload is served at the public URL", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaConnStr)
		c := newContainer(t)
		body := randomBytes(t, 657<<10)
		ctx := testenv.Context(t, 30*time.Second)

		if _, err := admin.ServiceClient().NewContainerClient(c).GetProperties(ctx, nil); err == nil {
			t.Fatalf("container %s exists before the first upload", c)
		}
		if err := b.Upload(ctx, c, "p5/out.png", body, "image/png"); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		props, err := admin.ServiceClient().NewContainerClient(c).GetProperties(ctx, nil)
		if err != nil {
			t.Fatalf("container %s was not created: %v", c, err)
		}
		if props.BlobPublicAccess == nil || *props.BlobPublicAccess != container.PublicAccessTypeBlob {
			t.Errorf("container public access = %v, want blob", props.BlobPublicAccess)
		}

		url := b.URL(c, "p5/out.png")
		if want := az.Endpoint + "/" + c + "/p5/out.png"; url != want {
			t.Errorf("URL = %q, want %q", url, want)
		}
		got, hdr := get(t, url)
		if !bytes.Equal(got, body) {
			t.Errorf("served %d bytes, not the %d uploaded", len(got), len(body))
		}
		if ct := hdr.Get("Content-Type"); ct != "image/png" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := hdr.Get("Cache-Control"); cc != storage.DefaultCacheControl {
			t.Errorf("Cache-Control = %q, want %q", cc, storage.DefaultCacheControl)
		}
	})

	t.Run("overwrite serves the new content and type", func(t *testing.T) {
		t.Parallel()
		cfg := viaKey
		cfg.CacheControl = "no-cache"
		b := newBlob(t, cfg)
		c := newContainer(t)
		ctx := testenv.Context(t, 30*time.Second)
		if err := b.Upload(ctx, c, "x.html", []byte("<p>one</p>"), "text/html"); err != nil {
			t.Fatalf("first Upload: %v", err)
		}
		if err := b.Upload(ctx, c, "x.html", []byte("<p>second</p>"), "text/html; charset=utf-8"); err != nil {
			t.Fatalf("second Upload: %v", err)
		}
		got, hdr := get(t, b.URL(c, "x.html"))
		if string(got) != "<p>second</p>" {
			t.Errorf("served %q after overwrite", got)
		}
		if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := hdr.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("Cache-Control = %q, want the configured no-cache", cc)
		}
	})

	t.Run("no content type is served as octet-stream", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaKey)
		c := newContainer(t)
		if err := b.Upload(testenv.Context(t, 30*time.Second), c, "raw", []byte{1, 2, 3}, ""); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		got, hdr := get(t, b.URL(c, "raw"))
		if !bytes.Equal(got, []byte{1, 2, 3}) || hdr.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("served %v as %q, want [1 2 3] as application/octet-stream", got, hdr.Get("Content-Type"))
		}
	})

	t.Run("large body", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaKey)
		c := newContainer(t)
		body := randomBytes(t, 24<<20)
		if err := b.Upload(testenv.Context(t, 60*time.Second), c, "video/out.mp4", body, "video/mp4"); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		got, _ := get(t, b.URL(c, "video/out.mp4"))
		if !bytes.Equal(got, body) {
			t.Errorf("served %d bytes, not the %d uploaded", len(got), len(body))
		}
	})

	t.Run("concurrent first uploads into a new container", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaConnStr)
		c := newContainer(t)
		ctx := testenv.Context(t, 30*time.Second)
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				errs <- b.Upload(ctx, c, fmt.Sprintf("f%d.txt", i), []byte(fmt.Sprint(i)), "text/plain")
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("Upload: %v", err)
			}
		}
		for i := range n {
			if got, _ := get(t, b.URL(c, fmt.Sprintf("f%d.txt", i))); string(got) != fmt.Sprint(i) {
				t.Errorf("f%d.txt = %q", i, got)
			}
		}
	})

	t.Run("names with spaces and unicode", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaKey)
		c := newContainer(t)
		ctx := testenv.Context(t, 30*time.Second)
		for _, name := range []string{
			"with space/file name.png",
			"ünïcödé/画像 🎨.png",
			"odd/50% done#1?.png",
			"odd/a+b=c&d;e,f@g.png",
		} {
			body := []byte("body of " + name)
			if err := b.Upload(ctx, c, name, body, "image/png"); err != nil {
				t.Errorf("Upload %q: %v", name, err)
				continue
			}
			got, _ := get(t, b.URL(c, name))
			if !bytes.Equal(got, body) {
				t.Errorf("%q: served %q from %s", name, got, b.URL(c, name))
			}
			// The SDK must have stored it under exactly that name.
			if _, err := admin.ServiceClient().NewContainerClient(c).NewBlobClient(name).GetProperties(ctx, nil); err != nil {
				t.Errorf("%q not found by name through the SDK: %v", name, err)
			}
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaKey)
		c := newContainer(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := b.Upload(ctx, c, "never.png", []byte("x"), "image/png")
		if err == nil {
			t.Fatal("Upload with a cancelled context succeeded")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
		if !empplay.IsRetryable(err) || empplay.ErrorCode(err) != empplay.CodeStorageError {
			t.Errorf("error %v: want a retryable storage_error", err)
		}
		if _, err := admin.ServiceClient().NewContainerClient(c).NewBlobClient("never.png").GetProperties(testenv.Context(t, 10*time.Second), nil); err == nil {
			t.Error("the blob exists after a cancelled upload")
		}
	})

	t.Run("deadline during a large upload", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaKey)
		c := newContainer(t)
		body := randomBytes(t, 64<<20)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := b.Upload(ctx, c, "big.bin", body, "application/octet-stream")
		if err == nil {
			t.Fatal("64 MiB upload finished within 5ms")
		}
		if !errors.Is(err, context.DeadlineExceeded) || !empplay.IsRetryable(err) {
			t.Errorf("error %v: want a retryable error wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Upload took %v to notice the deadline", d)
		}
	})

	t.Run("bad credentials are permanent", func(t *testing.T) {
		t.Parallel()
		const wrongKey = "d3Jvbmcta2V5LWZvci1henVyaXRlLXdyb25nLWtleS1mb3ItYXp1cml0ZS0xMjM0NTY3OA=="
		b := newBlob(t, storage.Config{Account: testenv.AzuriteAccount, Key: wrongKey, Endpoint: az.Endpoint})
		c := newContainer(t)
		err := b.Upload(testenv.Context(t, 30*time.Second), c, "x.png", []byte("x"), "image/png")
		if err == nil {
			t.Fatal("Upload with a wrong key succeeded")
		}
		var e *empplay.Error
		if !errors.As(err, &e) || e.Code != empplay.CodeStorageError || e.Retryable {
			t.Fatalf("error %#v: want a permanent storage_error", err)
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
			t.Errorf("error %v: want a 403 *azcore.ResponseError in the chain", err)
		}
		if strings.Contains(err.Error(), wrongKey) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error message %q leaks the key or spans lines", err)
		}
		if !strings.Contains(e.Msg, "upload "+c+"/x.png") {
			t.Errorf("message %q does not name the blob", e.Msg)
		}
	})

	t.Run("no create: missing container is permanent", func(t *testing.T) {
		t.Parallel()
		cfg := viaConnStr
		cfg.NoCreateContainers = true
		b := newBlob(t, cfg)
		c := newContainer(t)
		err := b.Upload(testenv.Context(t, 30*time.Second), c, "x.png", []byte("x"), "image/png")
		if err == nil || empplay.IsRetryable(err) || !strings.Contains(err.Error(), "ContainerNotFound") {
			t.Fatalf("error %v: want a permanent ContainerNotFound", err)
		}
		if _, err := admin.ServiceClient().NewContainerClient(c).GetProperties(testenv.Context(t, 10*time.Second), nil); err == nil {
			t.Error("the container was created despite NoCreateContainers")
		}
	})

	t.Run("invalid container name is permanent", func(t *testing.T) {
		t.Parallel()
		b := newBlob(t, viaKey)
		err := b.Upload(testenv.Context(t, 30*time.Second), "Bad_Name", "x.png", []byte("x"), "image/png")
		if err == nil || empplay.IsRetryable(err) {
			t.Fatalf("error %v: want a permanent error", err)
		}
		t.Logf("invalid container: %v", err)
	})
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// get fetches url anonymously, as a browser or the CDN would.
func get(t *testing.T, url string) ([]byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(testenv.Context(t, 30*time.Second), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, resp.Header
}
