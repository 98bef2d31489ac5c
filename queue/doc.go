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
package queue
