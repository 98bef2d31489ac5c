package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/fetcher"
	"github.com/empplay/empplay/render"
)

// assetFlags configure how a worker fetches the files jobs declare and the
// outputs of earlier workflow steps (see package fetcher).
type assetFlags struct {
	origins   string
	cacheDir  string
	cacheMiB  int
	fileMiB   int
	jobMiB    int
	timeout   time.Duration
	jobBudget time.Duration
}

func (a *assetFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.origins, "asset-origins", "", "comma-separated origins jobs may load assets from, besides CDN_URI's and the storage endpoint's")
	fs.StringVar(&a.cacheDir, "asset-cache-dir", "", "directory of the asset cache the workers of a host share (default: empplay-assets in the system temp dir)")
	fs.IntVar(&a.cacheMiB, "asset-cache-mb", 1024, "size cap of the asset cache in MiB; least recently used files go first")
	fs.IntVar(&a.fileMiB, "asset-max-file-mb", 25, "largest asset file in MiB")
	fs.IntVar(&a.jobMiB, "asset-max-job-mb", 100, "most MiB of assets one job may load in all")
	fs.DurationVar(&a.timeout, "asset-timeout", fetcher.DefaultFileTimeout, "time limit to fetch one asset")
	bindEnv(fs, "asset-origins", "ASSET_ORIGINS")
	bindEnv(fs, "asset-cache-dir", "ASSET_CACHE_DIR")
	bindEnv(fs, "asset-cache-mb", "ASSET_CACHE_MB")
	bindEnv(fs, "asset-max-file-mb", "ASSET_MAX_FILE_MB")
	bindEnv(fs, "asset-max-job-mb", "ASSET_MAX_JOB_MB")
	bindEnv(fs, "asset-timeout", "ASSET_TIMEOUT")
}

// build returns the fetcher of a worker whose outputs are served at the
// storage origins (CDN_URI, the blob endpoint), and the per-job limits.
// jobTimeout bounds the fetches of one job together (the render deadline).
func (a *assetFlags) build(storageOrigins []string, jobTimeout time.Duration) (*fetcher.Fetcher, render.AssetLimits, error) {
	var none render.AssetLimits
	for name, v := range map[string]int{"--asset-cache-mb (ASSET_CACHE_MB)": a.cacheMiB, "--asset-max-file-mb (ASSET_MAX_FILE_MB)": a.fileMiB, "--asset-max-job-mb (ASSET_MAX_JOB_MB)": a.jobMiB} {
		if v <= 0 {
			return nil, none, empplay.ConfigError(fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	if a.timeout <= 0 {
		return nil, none, empplay.ConfigError(fmt.Errorf("--asset-timeout (ASSET_TIMEOUT) must be positive, got %s", a.timeout))
	}
	origins, err := fetcher.NewOrigins(append(storageOrigins, fetcher.ParseList(a.origins)...)...)
	if err != nil {
		return nil, none, empplay.ConfigError(fmt.Errorf("--asset-origins (ASSET_ORIGINS): %w", err))
	}
	dir := a.cacheDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "empplay-assets")
	}
	cache, err := fetcher.OpenCache(dir, int64(a.cacheMiB)<<20)
	if err != nil {
		return nil, none, empplay.ConfigError(fmt.Errorf("--asset-cache-dir (ASSET_CACHE_DIR): %w", err))
	}
	f := fetcher.New(fetcher.Config{
		Origins: origins, Cache: cache, FileTimeout: a.timeout, MaxFile: int64(a.fileMiB) << 20,
	})
	return f, render.AssetLimits{JobBytes: int64(a.jobMiB) << 20, JobTimeout: jobTimeout}, nil
}
