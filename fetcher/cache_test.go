package fetcher

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := OpenCache(dir, 3000)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	c.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	body := bytes.Repeat([]byte("x"), 900)
	put := func(u string) {
		t.Helper()
		if err := c.Put(u, "text/plain", body); err != nil {
			t.Fatal(err)
		}
	}
	put("https://a/1")
	put("https://a/2")
	put("https://a/3")
	if _, _, ok := c.Get("https://a/1"); !ok { // 1 is now the most recent
		t.Fatal("1 missing")
	}
	put("https://a/4") // over 3000 bytes on disk: 2 goes
	for u, want := range map[string]bool{"https://a/1": true, "https://a/2": false, "https://a/3": true, "https://a/4": true} {
		if _, _, ok := c.Get(u); ok != want {
			t.Errorf("%s cached = %v, want %v", u, ok, want)
		}
	}
	// Too large for the whole cache: not kept, not an error.
	if err := c.Put("https://a/huge", "x", make([]byte, 4000)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Get("https://a/huge"); ok {
		t.Fatal("a body over the cap was cached")
	}
}

func TestCacheRejectsForeignOrDamagedFiles(t *testing.T) {
	t.Parallel()
	c, err := OpenCache(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put("https://a/x", "image/png", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	p := c.path("https://a/x")
	raw, _ := os.ReadFile(p)
	for name, damaged := range map[string][]byte{
		"truncated": raw[:len(raw)-1],
		"longer":    append(append([]byte{}, raw...), 'z'),
		"no header": []byte("abc"),
		"other URL": bytes.Replace(raw, []byte("https://a/x"), []byte("https://a/y"), 1),
	} {
		os.WriteFile(p, damaged, 0o600)
		if _, _, ok := c.Get("https://a/x"); ok {
			t.Errorf("%s: a damaged file was served", name)
		}
	}
}

func TestCacheSharedByTwoProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Two caches over one directory stand in for two workers of a host.
	a, err := OpenCache(dir, 50_000)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenCache(dir, 50_000)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, c := range []*Cache{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				u := "https://a/" + string(rune('a'+j%20))
				body := bytes.Repeat([]byte{byte(j % 20)}, 1000+j%20)
				if err := c.Put(u, "t", body); err != nil {
					t.Error(err)
				}
				if got, _, ok := c.Get(u); ok && (len(got) != 1000+j%20 || got[0] != byte(j%20)) {
					t.Errorf("worker %d: %s gave the wrong bytes", i, u)
				}
			}
		}()
	}
	wg.Wait()
	tmp, _ := filepath.Glob(filepath.Join(dir, "*", ".tmp-*"))
	if len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}
