// Package schema holds the JSON Schemas (draft 2020-12) of empplay's wire
// format: job.schema.json, a job as producers push it onto the queue, and
// result.schema.json, the result a worker stores for it. The files are the
// contract for producers in any language; the HTTP API serves them inside
// its OpenAPI description. Tests in the root package keep them in step with
// [github.com/empplay/empplay.Parse] and [github.com/empplay/empplay.Result].
package schema
