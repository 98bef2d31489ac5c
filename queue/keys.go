package queue

import "strings"

// DefaultName is the list producers push to (REDIS_QUEUE_NAME).
const DefaultName = "playwright-jobs"

// Keys names every Redis key of one queue. All but Pending carry the hash
// tag {name}, which hashes to the same Cluster slot as Pending itself.
type Keys struct {
	Pending string
	tag     string
}

// NewKeys returns the keys of the queue called name.
func NewKeys(name string) Keys {
	if name == "" {
		name = DefaultName
	}
	return Keys{Pending: name, tag: "{" + name + "}"}
}

// Owns reports whether key is one of this queue's own keys: the list
// producers push to, or any key under its hash tag. A job's replyTo may
// not name one (a result pushed there would corrupt the queue, or answer
// another job's waiters).
func (k Keys) Owns(key string) bool {
	return key == k.Pending || strings.HasPrefix(key, k.tag)
}

// Inflight is the list holding what worker wid is rendering.
func (k Keys) Inflight(wid string) string { return k.tag + ":inflight:" + wid }

// Workers is the heartbeat registry.
func (k Keys) Workers() string { return k.tag + ":workers" }

// Job is the metadata hash of job id.
func (k Keys) Job(id string) string { return k.tag + ":job:" + id }

// JobPrefix is the prefix of every Job key.
func (k Keys) JobPrefix() string { return k.tag + ":job:" }

// Result holds the result JSON of job id.
func (k Keys) Result(id string) string { return k.tag + ":result:" + id }

// Done is the list a producer BLPOPs to wait for job id.
func (k Keys) Done(id string) string { return k.tag + ":done:" + id }

// Dead is the dead-letter list.
func (k Keys) Dead() string { return k.tag + ":dead" }

// Channel is the pub/sub channel every result is published on.
func (k Keys) Channel() string { return k.tag + ":results" }

// Retry is the sorted set of jobs waiting to be retried (id -> due ms).
func (k Keys) Retry() string { return k.tag + ":retry" }

// SweepLock elects the one process that sweeps for dead workers.
func (k Keys) SweepLock() string { return k.tag + ":sweep-lock" }

// GPU is the GPU lane: jobs that want a GPU, moved there from Pending by
// CPU workers while a GPU worker is alive, taken by GPU workers first.
func (k Keys) GPU() string { return k.tag + ":gpu" }

// GPUWorkers is the registry of workers that take jobs from the GPU lane
// (worker id -> heartbeat expiry, ms), a subset of Workers.
func (k Keys) GPUWorkers() string { return k.tag + ":gpu-workers" }

// InflightPattern matches every in-flight list, for SCAN.
func (k Keys) InflightPattern() string { return k.tag + ":inflight:*" }

// WorkerOf returns the worker id of an in-flight list key.
func (k Keys) WorkerOf(inflightKey string) string {
	return inflightKey[len(k.tag+":inflight:"):]
}
