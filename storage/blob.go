package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/empplay/empplay"
)

// DefaultCacheControl is the Cache-Control stored with every blob unless
// [Config.CacheControl] says otherwise. Output names are content-addressed
// by the producer, so a blob never changes once the CDN has seen it.
const DefaultCacheControl = "public, max-age=31536000, immutable"

// codePublicAccessNotPermitted is what Azure answers (409) when a container
// is created with public access on an account that disallows it, the
// default for new accounts. bloberror has no constant for it.
const codePublicAccessNotPermitted = "PublicAccessNotPermitted"

// Config says how to reach the storage account. Either ConnectionString,
// or Account and Key, must be set; ConnectionString wins when both are.
type Config struct {
	// ConnectionString is an Azure storage connection string
	// (AZURE_STORAGE_CONNECTION_STRING), with AccountName and AccountKey or
	// a SharedAccessSignature, and optionally a BlobEndpoint (Azurite).
	ConnectionString string

	// Account is the storage account name (AZURE_STORAGE_ACCOUNT).
	Account string

	// Key is the account's base64 shared key (AZURE_STORAGE_KEY).
	Key string

	// Endpoint is the blob service URL used with Account and Key
	// (AZURE_STORAGE_ENDPOINT). Default https://<Account>.blob.core.windows.net/;
	// for Azurite, http://127.0.0.1:10000/devstoreaccount1.
	Endpoint string

	// CacheControl is stored as every blob's Cache-Control. Default
	// [DefaultCacheControl].
	CacheControl string

	// NoCreateContainers stops Upload from creating a missing container;
	// uploading into one is then a permanent error. By default a missing
	// container is created with anonymous read access to blobs (so the
	// public URL serves them), or private where the account forbids public
	// access.
	NoCreateContainers bool

	// MaxRetries is how many times the Azure SDK retries one request after
	// throttling, a 5xx or a network error before Upload gives up with a
	// transient error. Zero means the SDK's default (3); negative disables
	// SDK retries and leaves retrying to the job queue.
	MaxRetries int
}

// LogValue implements [slog.LogValuer] so that logging a Config never
// prints the key or the connection string.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("connection_string_set", c.ConnectionString != ""),
		slog.String("account", c.Account),
		slog.Bool("key_set", c.Key != ""),
		slog.String("endpoint", c.Endpoint),
		slog.String("cache_control", c.CacheControl),
		slog.Bool("no_create_containers", c.NoCreateContainers),
		slog.Int("max_retries", c.MaxRetries),
	)
}

// String describes c without its secrets, so %v and %+v are safe too.
func (c Config) String() string { return c.LogValue().String() }

// Blob uploads blobs to one storage account. It is safe for concurrent use.
type Blob struct {
	client       *azblob.Client
	endpoint     string // service URL without query or trailing slash
	cacheControl string
	create       bool
	logger       *slog.Logger
}

// New builds a [Blob] from cfg. It makes no request: wrong credentials
// show up as a permanent error from the first [Blob.Upload]. logger hears
// of what an operator must know about (a container created private); nil
// discards.
func New(cfg Config, logger *slog.Logger) (*Blob, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := &azblob.ClientOptions{}
	opts.Retry.MaxRetries = int32(max(-1, min(cfg.MaxRetries, 100)))
	opts.Telemetry.ApplicationID = "empplay"

	var client *azblob.Client
	switch {
	case cfg.ConnectionString != "":
		c, err := azblob.NewClientFromConnectionString(cfg.ConnectionString, opts)
		if err != nil {
			// The SDK's parse errors never quote the string or the key.
			return nil, fmt.Errorf("AZURE_STORAGE_CONNECTION_STRING is invalid: %w", err)
		}
		client = c
	case cfg.Account != "" || cfg.Key != "" || cfg.Endpoint != "":
		if cfg.Account == "" {
			return nil, errors.New("AZURE_STORAGE_ACCOUNT is required; set it to the storage account name (with AZURE_STORAGE_KEY), or set AZURE_STORAGE_CONNECTION_STRING instead")
		}
		if cfg.Key == "" {
			return nil, fmt.Errorf("AZURE_STORAGE_KEY is required for account %q; set it to the account's base64 access key, or set AZURE_STORAGE_CONNECTION_STRING instead", cfg.Account)
		}
		cred, err := azblob.NewSharedKeyCredential(cfg.Account, cfg.Key)
		if err != nil {
			// Deliberately not wrapped: keep anything derived from the key out of the message.
			return nil, fmt.Errorf("AZURE_STORAGE_KEY for account %q is not valid base64", cfg.Account)
		}
		endpoint, setting := cfg.Endpoint, "AZURE_STORAGE_ENDPOINT"
		if endpoint == "" {
			endpoint, setting = "https://"+cfg.Account+".blob.core.windows.net/", "AZURE_STORAGE_ACCOUNT"
		}
		if err := checkEndpoint(endpoint); err != nil {
			return nil, fmt.Errorf("%s: endpoint %q: %w", setting, endpoint, err)
		}
		c, err := azblob.NewClientWithSharedKeyCredential(endpoint, cred, opts)
		if err != nil {
			return nil, fmt.Errorf("storage client for account %q: %w", cfg.Account, err)
		}
		client = c
	default:
		return nil, errors.New("no storage credentials: set AZURE_STORAGE_CONNECTION_STRING, " +
			"or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (plus AZURE_STORAGE_ENDPOINT for Azurite or a non-default endpoint)")
	}

	// client.URL() carries the SAS query of a SAS connection string; the
	// public URL must not, and parse errors, which quote it, are not wrapped.
	u, err := url.Parse(client.URL())
	if err != nil || checkEndpoint(u.String()) != nil {
		return nil, errors.New("the blob endpoint in AZURE_STORAGE_CONNECTION_STRING is not an absolute http or https URL")
	}
	u.RawQuery, u.Fragment = "", ""

	cc := cfg.CacheControl
	if cc == "" {
		cc = DefaultCacheControl
	}
	return &Blob{
		client:       client,
		endpoint:     strings.TrimRight(u.String(), "/"),
		cacheControl: cc,
		create:       !cfg.NoCreateContainers,
		logger:       logger,
	}, nil
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http or https URL")
	}
	return nil
}

// Endpoint returns the blob service URL without a trailing slash or any
// SAS query, e.g. http://127.0.0.1:10000/devstoreaccount1: the base that
// [Blob.URL] builds on, and the CDN base URL when no CDN fronts the account.
func (b *Blob) Endpoint() string { return b.endpoint }

// URL returns the blob's direct URL: the service endpoint, the container
// and the name, each path segment of name escaped.
func (b *Blob) URL(container, name string) string {
	return b.endpoint + "/" + url.PathEscape(container) + "/" + escapeName(name)
}

// escapeName escapes each '/'-separated segment of a blob name.
func escapeName(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Upload writes body as the block blob name in container with the given
// Content-Type and the configured Cache-Control, replacing any blob of that
// name. A missing container is created and the upload tried once more,
// unless [Config.NoCreateContainers] is set.
//
// The error is an [*empplay.Error] with [empplay.CodeStorageError];
// [empplay.IsRetryable] tells whether another attempt could succeed. A
// cancelled ctx gives a retryable error that wraps ctx's error.
func (b *Blob) Upload(ctx context.Context, container, name string, body []byte, contentType string) error {
	// Upload first and create only on ContainerNotFound: every upload after
	// the first into a container is one request, with no cache of known
	// containers to go stale when one is deleted.
	err := b.put(ctx, container, name, body, contentType)
	if err != nil && b.create && bloberror.HasCode(err, bloberror.ContainerNotFound) {
		if cerr := b.createContainer(ctx, container); cerr != nil {
			return classify("upload "+container+"/"+name+": create container", cerr)
		}
		err = b.put(ctx, container, name, body, contentType)
	}
	if err != nil {
		return classify("upload "+container+"/"+name, err)
	}
	return nil
}

func (b *Blob) put(ctx context.Context, container, name string, body []byte, contentType string) error {
	// UploadBuffer sends one Put Blob for bodies up to 256 MiB (UploadStream
	// always stages blocks and commits: two requests at least).
	h := &blob.HTTPHeaders{BlobCacheControl: to.Ptr(b.cacheControl)}
	if contentType != "" { // else Azure stores application/octet-stream
		h.BlobContentType = to.Ptr(contentType)
	}
	_, err := b.client.UploadBuffer(ctx, container, name, body, &azblob.UploadBufferOptions{HTTPHeaders: h})
	return err
}

// createContainer creates container with anonymous read access to its
// blobs, or private where the account forbids public access (the CDN origin
// must then authenticate). Losing a creation race to another worker is
// success.
func (b *Blob) createContainer(ctx context.Context, name string) error {
	_, err := b.client.CreateContainer(ctx, name, &azblob.CreateContainerOptions{
		Access: to.Ptr(container.PublicAccessTypeBlob),
	})
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode == codePublicAccessNotPermitted {
		_, err = b.client.CreateContainer(ctx, name, nil)
		if err == nil {
			// Nothing fails here, but the blob endpoint will not serve
			// its blobs: jobs fail their CDN check unless CDN_URI is an
			// origin that can read a private container.
			b.logger.WarnContext(ctx, "created a private container: the storage account forbids public access",
				"container", name, "endpoint", b.endpoint,
				"hint", "serve it through a CDN_URI that reads private containers, or allow public blob access on the account")
		}
	}
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return err
	}
	return nil
}

// classify wraps err from op as an [empplay.CodeStorageError]. Only a
// response the service rejected outright (a 4xx other than 408 and 429) is
// permanent; throttling, server errors, timeouts, cancellation, network
// failures and anything unrecognised are worth another attempt.
func classify(op string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return empplay.Transient(empplay.CodeStorageError, fmt.Errorf("%s: %w", op, redactURL(err)))
	}
	wrapped := fmt.Errorf("%s: %w", op, &responseError{re})
	switch {
	case re.StatusCode == http.StatusRequestTimeout,
		re.StatusCode == http.StatusTooManyRequests,
		re.StatusCode >= 500,
		re.StatusCode < 400, // not an error status: unexpected, so not final
		re.ErrorCode == string(bloberror.ContainerBeingDeleted):
		return empplay.Transient(empplay.CodeStorageError, wrapped)
	}
	return &empplay.Error{Code: empplay.CodeStorageError, Msg: wrapped.Error(), Err: wrapped}
}

// responseError shortens an [*azcore.ResponseError] to its status and
// error code. The SDK's own text spans lines and dumps the response body,
// which is no message for a job result; errors.As still reaches the
// original through Unwrap.
type responseError struct{ err *azcore.ResponseError }

func (e *responseError) Error() string {
	msg := fmt.Sprintf("azure storage responded %d %s", e.err.StatusCode, http.StatusText(e.err.StatusCode))
	if e.err.ErrorCode != "" {
		msg += " (" + e.err.ErrorCode + ")"
	}
	return msg
}

func (e *responseError) Unwrap() error { return e.err }

// redactURL drops the query from the URL a transport error quotes: with a
// SAS connection string it holds the signature.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "(unparsable URL)", Err: ue.Err}
	}
	if u.RawQuery == "" {
		return err
	}
	u.RawQuery = ""
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}
