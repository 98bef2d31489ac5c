// Package fetcher gets the files a job is entitled to load (the outputs of
// earlier workflow steps, the assets a job declares) on the worker's side,
// so that the page itself never reaches the network.
//
// Three rules make it safe to hand a page bytes from a URL a producer
// named:
//
//   - Only http(s) URLs on an allowed origin are fetched ([Origins]: the
//     origin of CDN_URI, the blob endpoint and ASSET_ORIGINS), and a
//     redirect is followed only while it stays on an allowed origin.
//   - Every fetch is bounded: a timeout per file, a size cap per file, and
//     through a [Budget] a cap on the bytes and the time of one job.
//   - Fetched files are kept in a bounded on-disk [Cache] keyed by URL,
//     shared by the workers of one host. The cache never decides what a job
//     may load: a page asks the renderer for a name, the renderer looks the
//     name up in its own job's declarations, and only then asks the
//     fetcher for the declared URL. A job that names another job's asset
//     without declaring it is blocked before the cache is consulted.
//
// Failures carry [empplay.CodeAssetUnavailable] and name the URL; the ones
// another attempt could cure (a 5xx, a timeout, a reset connection) are
// retryable.
package fetcher
