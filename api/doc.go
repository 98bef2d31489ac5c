// Package api is empplay's HTTP front door, served by the supervisor beside
// /healthz, /readyz and /metrics: the platform's rendering calls
// (/api/screenshot, /api/video, /api/v2/execute) with their exact shapes,
// and a native job API (/v1/jobs). Every request becomes a job on the queue,
// rendered by the supervised workers with their limits, retries and
// isolation; the handlers only submit, wait (always bounded, and cut short
// by [Server.Stop]) and translate results into HTTP statuses. Browser
// requests that another site makes are refused (403), with or without a
// token. GET /openapi.json describes every route, with the queue's wire
// schemas (package schema) as its Job and Result.
package api
