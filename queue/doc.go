// Package queue is empplay's reliable Redis job queue, built on rueidis and
// compatible with producers that do nothing but `LPUSH playwright-jobs
// <json>`.
//
// A worker moves a job atomically from the pending list into its own
// in-flight list (BLMOVE), so a job always sits in exactly one Redis list
// until its result is written. Claiming counts an attempt; completing writes
// the result once (SET NX), wakes waiters through a per-job list and a
// pub/sub message, and removes the job from the in-flight list in the same
// Lua script.
//
// Every key except the producers' list shares the hash tag {<queue>}, so all
// scripts touch a single Redis Cluster slot:
//
//	<queue>                      LIST    pending jobs (producers LPUSH, workers take from the right)
//	{<queue>}:inflight:<worker>  LIST    the job a worker is rendering
//	{<queue>}:workers            ZSET    worker id -> heartbeat expiry (ms, Redis clock)
//	{<queue>}:job:<id>           HASH    attempts, state, worker, claimedAt, raw
//	{<queue>}:result:<id>        STRING  the result JSON (TTL 24 h)
//	{<queue>}:done:<id>          LIST    the result JSON again, for BLPOP (TTL 10 min)
//	{<queue>}:dead               LIST    jobs that ran out of attempts (capped)
//	{<queue>}:results            CHANNEL pub/sub: the result JSON of every job
//	{<queue>}:gpu                LIST    the GPU lane: jobs that want a GPU, for GPU workers
//	{<queue>}:gpu-workers        ZSET    workers that take the GPU lane -> heartbeat expiry
//
// # GPU lane
//
// Producers push every job to one list. A worker on [LaneCPU] that moves a
// job wanting a GPU (WebGL, or gpuComplexity above low:
// gpu.ClassifyJob) into its in-flight list moves it on to the GPU lane in
// one script, before claiming it (no attempt is charged), if a worker on
// [LaneGPU] is alive; otherwise it renders the job itself, in software.
// GPU workers take the GPU lane first, then what waits in the producers'
// list (which idle CPU workers, blocked on it, would have taken at once:
// 2D jobs go to CPU workers first), and block on the GPU lane while a CPU
// worker is alive to feed it, else on the producers' list. The
// housekeeping of every process moves the GPU lane back to the producers'
// list whenever no GPU worker is alive ([Maintainer.DrainGPU]), so no job
// waits for a lane nobody reads; a dead GPU worker counts as gone when
// its supervisor recovers it, or when its heartbeat expires.
package queue
