package fetcher

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Cache keeps fetched files on disk, keyed by URL, within a size cap: the
// least recently used files go first. Several processes may share one
// directory (the workers of a host): every file is written to a temporary
// name and renamed into place, a reader checks the URL stored in the file
// against the one it asked for, and a file removed under a reader is a
// miss, never a wrong answer.
type Cache struct {
	dir string
	max int64

	mu    sync.Mutex
	total int64 // bytes this process believes are cached; re-read on eviction
	now   func() time.Time
}

// header is the first line of a cache file; the body follows it.
type header struct {
	URL  string `json:"url"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// OpenCache returns the cache in dir (created if missing) holding at most
// max bytes of file bodies.
func OpenCache(dir string, max int64) (*Cache, error) {
	if max <= 0 {
		return nil, fmt.Errorf("asset cache %s: size cap must be positive, got %d", dir, max)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("asset cache: %w", err)
	}
	c := &Cache{dir: dir, max: max, now: time.Now}
	entries, err := c.scan()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		c.total += e.size
	}
	return c, nil
}

// path is where the file of url lives.
func (c *Cache) path(url string) string {
	sum := sha256.Sum256([]byte(url))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, name[:2], name)
}

// Get returns the cached body and content type of url, if present.
func (c *Cache) Get(url string) (body []byte, contentType string, ok bool) {
	p := c.path(url)
	f, err := os.Open(p)
	if err != nil {
		return nil, "", false
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, "", false
	}
	var h header
	if json.Unmarshal(line, &h) != nil || h.URL != url || h.Size < 0 || h.Size > c.max {
		return nil, "", false
	}
	body = make([]byte, h.Size)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, "", false
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 {
		return nil, "", false // longer than its header says: not ours
	}
	// Recently used: the mtime orders eviction.
	now := c.now()
	_ = os.Chtimes(p, now, now)
	return body, h.Type, true
}

// Put stores body for url. A body larger than the whole cap is not kept.
func (c *Cache) Put(url, contentType string, body []byte) error {
	size := int64(len(body))
	if size > c.max {
		return nil
	}
	p := c.path(url)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("asset cache: %w", err)
	}
	line, err := json.Marshal(header{URL: url, Type: contentType, Size: size})
	if err != nil {
		return fmt.Errorf("asset cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("asset cache: %w", err)
	}
	_, err = tmp.Write(append(line, '\n'))
	if err == nil {
		_, err = tmp.Write(body)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("asset cache: store %s: %w", Redact(url), err)
	}
	now := c.now()
	_ = os.Chtimes(p, now, now)
	c.mu.Lock()
	c.total += size
	over := c.total > c.max
	c.mu.Unlock()
	if over {
		return c.evict()
	}
	return nil
}

// entry is one cached file found on disk.
type entry struct {
	path  string
	size  int64
	mtime time.Time
}

// scan lists the cached files; temporary files older than a minute (left
// by a process that died mid-write) are removed on the way.
func (c *Cache) scan() ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by another process meanwhile
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if c.now().Sub(info.ModTime()) > time.Minute {
				os.Remove(p)
			}
			return nil
		}
		out = append(out, entry{path: p, size: info.Size(), mtime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("asset cache: scan %s: %w", c.dir, err)
	}
	return out, nil
}

// evict removes the least recently used files until the cache is within
// its cap. It re-reads the directory, so files other processes added or
// removed are counted.
func (c *Cache) evict() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, err := c.scan()
	if err != nil {
		return err
	}
	var total int64
	for _, e := range entries {
		total += e.size
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.mtime.Compare(b.mtime) })
	for _, e := range entries {
		if total <= c.max {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
	c.total = total
	return nil
}
