package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/cdn"
	"github.com/empplay/empplay/fetcher"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/render"
	"github.com/empplay/empplay/storage"
)

// Azurite's well-known development account: the local default when no
// Azure settings are given.
const (
	azuriteAccount  = "devstoreaccount1"
	azuriteKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	azuriteEndpoint = "http://127.0.0.1:10000/devstoreaccount1"
)

// redisFlags configure the Redis connection and queue.
type redisFlags struct {
	url   string
	queue string
}

func (r *redisFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.url, "redis-url", "redis://127.0.0.1:6379/0", "Redis URL: redis://, rediss://, unix://; several ?addr= for Cluster, ?master_set= for Sentinel")
	fs.StringVar(&r.queue, "queue", queue.DefaultName, "Redis list producers push jobs to")
	bindEnv(fs, "redis-url", "REDIS_URL")
	bindEnv(fs, "queue", "REDIS_QUEUE_NAME")
}

func (r *redisFlags) client(ctx context.Context) (rueidis.Client, error) {
	opt, err := queue.Options(r.url)
	if err != nil {
		return nil, empplay.ConfigError(fmt.Errorf("--redis-url (REDIS_URL): %w", err))
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("connect to Redis at %s: %w", redactURL(r.url), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Do(pctx, c.B().Ping().Build()).Error(); err != nil {
		c.Close()
		return nil, fmt.Errorf("ping Redis at %s: %w", redactURL(r.url), err)
	}
	return c, nil
}

// storageFlags configure Azure Blob Storage and the CDN.
type storageFlags struct {
	account, key, connStr, endpoint string
	cdnURI                          string
	verifyTimeout                   time.Duration
}

func (s *storageFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.account, "azure-account", "", "Azure storage account name")
	fs.StringVar(&s.key, "azure-key", "", "Azure storage account key (prefer the environment variable)")
	fs.StringVar(&s.connStr, "azure-connection-string", "", "Azure storage connection string; wins over account and key (prefer the environment variable)")
	fs.StringVar(&s.endpoint, "azure-endpoint", "", "blob service endpoint for --azure-account (default https://ACCOUNT.blob.core.windows.net)")
	fs.StringVar(&s.cdnURI, "cdn-uri", "", "public base URL of the CDN; outputs are served at CDN_URI/bucket/prefix/filename (default: the blob endpoint)")
	fs.DurationVar(&s.verifyTimeout, "verify-timeout", 30*time.Second, "how long to wait for the CDN to serve an upload")
	bindEnv(fs, "azure-account", "AZURE_STORAGE_ACCOUNT")
	bindEnv(fs, "azure-key", "AZURE_STORAGE_KEY")
	bindEnv(fs, "azure-connection-string", "AZURE_STORAGE_CONNECTION_STRING")
	bindEnv(fs, "azure-endpoint", "AZURE_STORAGE_ENDPOINT")
	bindEnv(fs, "cdn-uri", "CDN_URI")
	bindEnv(fs, "verify-timeout", "VERIFY_TIMEOUT")
}

func (s *storageFlags) build(logger *slog.Logger) (*storage.Blob, *cdn.Verifier, error) {
	cfg := storage.Config{ConnectionString: s.connStr, Account: s.account, Key: s.key, Endpoint: s.endpoint}
	if cfg.ConnectionString == "" && cfg.Account == "" {
		logger.Warn("no Azure storage configured; using the local Azurite default",
			"endpoint", azuriteEndpoint, "hint", "set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (or AZURE_STORAGE_CONNECTION_STRING)")
		cfg.Account, cfg.Key, cfg.Endpoint = azuriteAccount, azuriteKey, azuriteEndpoint
	}
	blob, err := storage.New(cfg, logger)
	if err != nil {
		return nil, nil, empplay.ConfigError(err)
	}
	base := s.cdnURI
	if base == "" {
		base = blob.Endpoint()
	}
	v, err := cdn.New(cdn.Config{BaseURL: base, Timeout: s.verifyTimeout},
		&http.Client{Timeout: 10 * time.Second}, logger)
	if err != nil {
		return nil, nil, empplay.ConfigError(fmt.Errorf("--cdn-uri (CDN_URI): %w", err))
	}
	return blob, v, nil
}

// browserFlags configure Chromium.
type browserFlags struct {
	chromium    string
	timeoutMs   int
	profileDir  string
	rendererCPU int
	// deferCleanup is set by the worker, which calls Cleanup once a job's
	// result is stored (render.Options.DeferCleanup).
	deferCleanup bool
	recycleAfter int
	recycleMiB   int
	extra        string
	ffmpeg       string
	isolation    string
	// fetcher and assetLimits are set by the worker (see assetFlags).
	fetcher      *fetcher.Fetcher
	assetLimits  render.AssetLimits
	jobMemoryMiB int
	videoMaxMiB  int
	sandbox      string
	// sandboxState is the sandbox policy resolved by check.
	sandboxState *render.SandboxState
}

func (b *browserFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&b.chromium, "chromium", "/usr/lib/chromium/chromium-headless-shell", "Chromium binary: Debian's headless shell, or the full browser's real binary /usr/lib/chromium/chromium (not the /usr/bin/chromium wrapper)")
	fs.IntVar(&b.timeoutMs, "browser-timeout", 30000, "render deadline of one job in milliseconds")
	fs.StringVar(&b.profileDir, "profile-dir", "", "directory for Chromium's per-browser profile directories and video jobs' encoder work directories (default: the system temp dir)")
	fs.IntVar(&b.recycleAfter, "recycle-after", 200, "restart Chromium after this many jobs")
	fs.IntVar(&b.recycleMiB, "recycle-memory", 1536, "restart Chromium after a job when its processes use more than this many MiB (PSS)")
	bindEnv(fs, "chromium", "CHROMIUM_PATH")
	bindEnv(fs, "browser-timeout", "BROWSER_TIMEOUT")
	bindEnv(fs, "profile-dir", "EMPPLAY_PROFILE_DIR")
	fs.IntVar(&b.rendererCPU, "renderer-cpu", 0, "run Chromium's renderers on the CPU at this position (modulo their number) among the CPUs this process may use; the supervisor gives each slot its own")
	bindEnv(fs, "renderer-cpu", "BROWSER_RENDERER_CPU")
	bindEnv(fs, "recycle-after", "BROWSER_RECYCLE_AFTER")
	fs.StringVar(&b.extra, "chromium-flags", "", "extra Chromium switches, space-separated (--name or --name=value); they replace empplay's value of the same switch, except --disable-features, --enable-features, --js-flags and --host-resolver-rules, which add to it")
	bindEnv(fs, "recycle-memory", "BROWSER_RECYCLE_MEMORY_MB")
	bindEnv(fs, "chromium-flags", "CHROMIUM_FLAGS")
	fs.StringVar(&b.ffmpeg, "ffmpeg", "", "ffmpeg binary for video jobs (default: ffmpeg in PATH)")
	bindEnv(fs, "ffmpeg", "FFMPEG_PATH")
	fs.StringVar(&b.isolation, "isolation", render.IsolateOrigin, "how jobs are kept apart: origin (each job's page at an origin and site of its own, in reused tabs of one incognito context) or context (a new incognito context and tab per job; about twice the CPU)")
	bindEnv(fs, "isolation", "BROWSER_ISOLATION")
	fs.IntVar(&b.jobMemoryMiB, "job-memory", int(render.DefaultJobMemory>>20), "memory limit of one job's renderer in MiB (resident size): over it the renderer is killed and the job fails with memory_limit; also V8's heap limit")
	bindEnv(fs, "job-memory", "BROWSER_JOB_MEMORY_MB")
	fs.IntVar(&b.videoMaxMiB, "video-max", int(render.DefaultVideoMaxBytes>>20), "size limit of a video job's output in MiB (the worker holds it in memory to upload it): a bigger video fails with output_too_large")
	bindEnv(fs, "video-max", "VIDEO_MAX_MB")
	fs.StringVar(&b.sandbox, "sandbox", render.SandboxAuto, "Chromium's sandbox: auto (on unless root or the host lacks user namespaces), on (required: its absence is a configuration error) or off")
	bindEnv(fs, "sandbox", "CHROMIUM_SANDBOX")
}

func (b *browserFlags) timeout() time.Duration { return time.Duration(b.timeoutMs) * time.Millisecond }

// options are the renderer's settings for a browser on backend ("" is the
// CPU).
func (b *browserFlags) options(backend gpu.Backend) render.Options {
	return render.Options{
		ChromiumPath:   b.chromium,
		Isolation:      b.isolation,
		Backend:        backend,
		ExtraFlags:     strings.Fields(b.extra),
		FFmpegPath:     b.ffmpeg,
		ProfileDir:     b.profileDir,
		RendererCPU:    b.rendererCPU,
		DeferCleanup:   b.deferCleanup,
		DefaultTimeout: b.timeout(),
		RecycleAfter:   b.recycleAfter,
		RecycleMemory:  int64(b.recycleMiB) << 20,
		Assets:         b.fetcher,
		AssetLimits:    b.assetLimits,
		JobMemory:      int64(b.jobMemoryMiB) << 20,
		VideoMaxBytes:  int64(b.videoMaxMiB) << 20,
		Sandbox:        b.sandbox,
	}
}

// check validates the browser settings without starting anything: a
// missing binary or p5 build is a configuration error.
func (b *browserFlags) check() error {
	if b.timeoutMs <= 0 {
		return empplay.ConfigError(fmt.Errorf("--browser-timeout (BROWSER_TIMEOUT) must be positive, got %d", b.timeoutMs))
	}
	if b.isolation != render.IsolateOrigin && b.isolation != render.IsolateContext {
		return empplay.ConfigError(fmt.Errorf("--isolation (BROWSER_ISOLATION) must be %s or %s, got %q", render.IsolateOrigin, render.IsolateContext, b.isolation))
	}
	if _, err := os.Stat(b.chromium); err != nil {
		return empplay.ConfigError(fmt.Errorf("--chromium (CHROMIUM_PATH) %s: %w; install Debian's chromium-headless-shell package (make setup)", b.chromium, err))
	}
	if err := assets.Embedded().Check(); err != nil {
		return empplay.ConfigError(err)
	}
	if b.jobMemoryMiB < 64 {
		return empplay.ConfigError(fmt.Errorf("--job-memory (BROWSER_JOB_MEMORY_MB) must be at least 64 MiB, got %d", b.jobMemoryMiB))
	}
	if b.videoMaxMiB < 1 {
		return empplay.ConfigError(fmt.Errorf("--video-max (VIDEO_MAX_MB) must be at least 1 MiB, got %d", b.videoMaxMiB))
	}
	if b.sandboxState == nil {
		st, err := render.ResolveSandbox(b.sandbox, b.chromium)
		if err != nil {
			return empplay.ConfigError(fmt.Errorf("--sandbox (CHROMIUM_SANDBOX): %w", err))
		}
		b.sandboxState = &st
	}
	return nil
}

// start launches the browser after [browserFlags.check].
func (b *browserFlags) start(ctx context.Context, logger *slog.Logger) (*render.Browser, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	br := render.New(b.options(""), assets.Embedded(), logger)
	if err := br.Start(ctx); err != nil {
		return nil, fmt.Errorf("start Chromium: %w", err)
	}
	return br, nil
}

// redactURL hides a password in a Redis URL for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
