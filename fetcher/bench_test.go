package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkGet measures one file through the fetcher: cold (from a loopback
// origin, nothing cached) and warm (from the on-disk cache).
//
//	go test -run '^$' -bench Get ./fetcher
func BenchmarkGet(b *testing.B) {
	for _, size := range []int{100 << 10, 5 << 20} {
		body := make([]byte, size)
		src := newOriginB(b, body)
		for _, warm := range []bool{false, true} {
			name := fmt.Sprintf("%dKiB/cold", size>>10)
			if warm {
				name = fmt.Sprintf("%dKiB/warm", size>>10)
			}
			b.Run(name, func(b *testing.B) {
				origins, _ := NewOrigins(src)
				cache, err := OpenCache(b.TempDir(), 1<<30)
				if err != nil {
					b.Fatal(err)
				}
				cfg := Config{Origins: origins, MaxFile: 1 << 30}
				if warm {
					cfg.Cache = cache
				}
				f := New(cfg)
				ctx := context.Background()
				if _, err := f.Get(ctx, src+"/f"); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				b.ResetTimer()
				for range b.N {
					file, err := f.Get(ctx, src+"/f")
					if err != nil || file.Cached != warm {
						b.Fatalf("err %v cached %v", err, file.Cached)
					}
				}
			})
		}
	}
}

func newOriginB(b *testing.B, body []byte) string {
	b.Helper()
	return newOrigin(b, func(w http.ResponseWriter, r *http.Request) { w.Write(body) }).URL
}
