package cdn_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay/cdn"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/storage"
)

// TestAzuriteOrigin checks Verify against the real blob endpoint the
// Azurite setup serves public URLs from: what it answers to HEAD (length,
// type, 404 for a missing blob) is what Verify relies on.
func TestAzuriteOrigin(t *testing.T) {
	az := testenv.StartAzurite(t)
	blob, err := storage.New(storage.Config{ConnectionString: az.ConnStr}, nil)
	if err != nil {
		t.Fatalf("storage.New: %v", err)
	}
	v, err := cdn.New(cdn.Config{BaseURL: az.Endpoint, Timeout: 500 * time.Millisecond, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, nil, nil)
	if err != nil {
		t.Fatalf("cdn.New: %v", err)
	}
	ctx := testenv.Context(t, 30*time.Second)
	container := fmt.Sprintf("cdn%d", time.Now().UnixNano()%1e9)
	const name = "out dir/画像 1.png"
	body := make([]byte, 4321)
	if err := blob.Upload(ctx, container, name, body, "image/png"); err != nil {
		t.Fatalf("Upload: %v", err)
	}

	got, err := v.Verify(ctx, container, name, int64(len(body)), "image/png")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := blob.URL(container, name); got != want {
		t.Errorf("Verify URL %q differs from the storage URL %q", got, want)
	}

	for _, tc := range []struct {
		name, blob, ctype string
		size              int64
		wantIn            string
	}{
		{"wrong size", name, "image/png", 4322, "HEAD 200: served 4321 bytes, want 4322"},
		{"wrong type", name, "video/mp4", 4321, `served Content-Type "image/png", want video/mp4`},
		{"missing blob", "nope.png", "image/png", 1, "HEAD 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, container, tc.blob, tc.size, tc.ctype)
			if !errors.Is(err, cdn.ErrNotPropagated) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("error %v: want ErrNotPropagated mentioning %q", err, tc.wantIn)
			}
		})
	}
}
