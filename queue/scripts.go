package queue

import "github.com/redis/rueidis"

// Redis time in milliseconds, never the host clock: hosts disagree.
const luaNow = `local t = redis.call('TIME'); local now = t[1]*1000 + math.floor(t[2]/1000)
`

// claimScript takes ownership of a fetched job and counts the attempt. It
// is not retryable: it increments attempts. A job whose last submission
// ended (done, failed or dead) and whose result has expired since is a new
// submission of the same id: its attempts start again from zero (its
// first-seen mark went with the result, see completeScript).
//
// A copy of a job that another live worker is rendering (the same payload
// pushed twice, say by a producer that retried) is dropped without an
// attempt: that worker's result answers both, and should it die, its copy
// goes back to the queue.
//
// KEYS: 1 inflight 2 job 3 result 4 dead 5 done 6 channel 7 workers
// ARGV: 1 raw 2 id 3 wid 4 maxAttempts 5 jobTTLms 6 resultTTLms 7 doneTTLms 8 deadCap
// Returns {status, attempts, queuedMs}: OK, CACHED (a result exists), DEAD
// (attempts exhausted: failed result written), GONE (no longer ours),
// DUPLICATE (another live worker renders it);
// queuedMs (OK only) is the time since the job was first seen (seenAt) or
// first claimed, whichever is earlier.
var claimScript = rueidis.NewLuaScript(luaNow + `
if not redis.call('LPOS', KEYS[1], ARGV[1]) then return {'GONE', 0} end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('LREM', KEYS[1], 1, ARGV[1])
  return {'CACHED', 0}
end
local last = redis.call('HGET', KEYS[2], 'state')
if last == 'active' then
  local owner = redis.call('HGET', KEYS[2], 'worker')
  local alive = owner and redis.call('ZSCORE', KEYS[7], owner)
  if owner ~= ARGV[3] and alive and tonumber(alive) > now then
    redis.call('LREM', KEYS[1], 1, ARGV[1])
    return {'DUPLICATE', 0}
  end
end
if last == 'done' or last == 'failed' or last == 'dead' then
  redis.call('HDEL', KEYS[2], 'attempts', 'firstClaimedAt', 'lastError', 'finishedAt')
end
local n = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'state', 'active', 'worker', ARGV[3], 'claimedAt', now, 'raw', ARGV[1])
redis.call('HSETNX', KEYS[2], 'firstClaimedAt', now)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
if n > tonumber(ARGV[4]) then
  redis.call('LREM', KEYS[1], 1, ARGV[1])
  local err = 'job was claimed ' .. (n - 1) .. ' times without finishing (it may crash its worker or browser); giving up'
  redis.call('LPUSH', KEYS[4], cjson.encode({id=ARGV[2], raw=ARGV[1], attempts=n-1, at=now, error=err}))
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[8]) - 1)
  local r = cjson.encode({success=false, id=ARGV[2], error=err, errorCode='max_attempts', attempts=n-1})
  redis.call('SET', KEYS[3], r, 'PX', ARGV[6])
  redis.call('RPUSH', KEYS[5], r); redis.call('PEXPIRE', KEYS[5], ARGV[7])
  redis.call('PUBLISH', KEYS[6], r)
  redis.call('HSET', KEYS[2], 'state', 'dead')
  redis.call('HDEL', KEYS[2], 'seenAt')
  return {'DEAD', n - 1}
end
local first = tonumber(redis.call('HGET', KEYS[2], 'firstClaimedAt'))
local seen = tonumber(redis.call('HGET', KEYS[2], 'seenAt'))
if seen and seen < first then first = seen end
return {'OK', n, now - first}
`)

// completeScript stores a job's one result and releases the job. First
// writer wins, so a duplicate delivery never produces a second result. A
// job whose last attempt failed transiently is also dead-lettered, so an
// operator can requeue it. The job's first-seen mark goes: a later
// submission of the same id is seen anew. Only the worker that holds the
// job (in its in-flight list) writes: one that was written off (fenced),
// whose jobs were given back to the queue, writes nothing. Safe to retry.
//
// KEYS: 1 inflight 2 job 3 result 4 done 5 channel 6 dead
// ARGV: 1 raw 2 resultJSON 3 resultTTLms 4 doneTTLms 5 state 6 deadEnvelope (empty for none) 7 deadCap
// Returns 1 when this call wrote the result, 0 when one existed already,
// -1 when the job is not in the worker's in-flight list (given back, or a
// retried call whose first run took it).
var completeScript = rueidis.NewLuaScriptRetryable(luaNow + `
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return -1 end
local wrote = redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3])
if wrote then
  redis.call('RPUSH', KEYS[4], ARGV[2]); redis.call('PEXPIRE', KEYS[4], ARGV[4])
  redis.call('PUBLISH', KEYS[5], ARGV[2])
  redis.call('HSET', KEYS[2], 'state', ARGV[5], 'finishedAt', now)
  redis.call('HDEL', KEYS[2], 'seenAt')
  if ARGV[6] ~= '' then
    local env = cjson.decode(ARGV[6]); env.at = now
    redis.call('LPUSH', KEYS[6], cjson.encode(env))
    redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[7]) - 1)
  end
  return 1
end
return 0
`)

// replyScript pushes a result onto a job's replyTo list and keeps the list
// for the result's TTL. A key that holds anything but a list fails the
// push, and then keeps its own TTL.
//
// KEYS: 1 replyTo ; ARGV: 1 resultJSON 2 resultTTLms
var replyScript = rueidis.NewLuaScript(`
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// requeueScript gives a job back without charging the attempt (drain).
//
// KEYS: 1 inflight 2 pending 3 job ; ARGV: 1 raw
var requeueScript = rueidis.NewLuaScriptRetryable(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
if redis.call('HINCRBY', KEYS[3], 'attempts', -1) < 0 then redis.call('HSET', KEYS[3], 'attempts', 0) end
redis.call('HSET', KEYS[3], 'state', 'queued')
return 1
`)

// heartbeatScript registers or refreshes a worker, and its entry in the
// GPU lane's registry when it takes GPU jobs (and removes that entry when
// it does not). A worker that another process wrote off (removed from the
// registry) is told FENCED and must stop without writing results.
//
// KEYS: 1 workers 2 gpu-workers ; ARGV: 1 wid 2 ttlMs 3 first (1/0) 4 lane
var heartbeatScript = rueidis.NewLuaScriptRetryable(luaNow + `
if ARGV[3] ~= '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 'FENCED' end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if ARGV[4] == 'gpu' then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 'OK'
`)

// retryScript releases a job that failed transiently and schedules it
// again. The attempt stays charged.
//
// KEYS: 1 inflight 2 job 3 retry ; ARGV: 1 raw 2 id 3 delayMs 4 error
// Returns 1, or 0 when the job was no longer ours (nothing scheduled).
var retryScript = rueidis.NewLuaScriptRetryable(luaNow + `
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'state', 'retry', 'lastError', ARGV[4], 'raw', ARGV[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
return 1
`)

// promoteScript moves due retries back to the front of the queue, at most
// 100 per call. Idempotent.
//
// KEYS: 1 retry 2 pending ; ARGV: 1 job key prefix
var promoteScript = rueidis.NewLuaScriptRetryable(luaNow + `
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, 100)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local raw = redis.call('HGET', ARGV[1] .. id, 'raw')
  if raw then
    redis.call('RPUSH', KEYS[2], raw)
    redis.call('HSET', ARGV[1] .. id, 'state', 'queued')
  end
end
return #ids
`)

// recoverScript gives every job of a dead worker back to the queue and
// fences the worker (removes it from the registry), unless it is alive and
// force is 0. Attempts were charged at claim time, so a job that kills its
// worker still runs out of them.
//
// KEYS: 1 workers 2 inflight 3 pending 4 gpu-workers ; ARGV: 1 wid 2 force
// Returns the number of jobs moved, or -1 when the worker is alive.
var recoverScript = rueidis.NewLuaScriptRetryable(luaNow + `
local exp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[2] ~= '1' and exp and tonumber(exp) > now then return -1 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local n = 0
while redis.call('LMOVE', KEYS[2], KEYS[3], 'RIGHT', 'RIGHT') do n = n + 1 end
return n
`)

// requeueDeadScript takes one job out of the dead-letter list and queues
// it again with fresh attempts. Its failed result is deleted: an operator
// who requeues a job asks for a new outcome.
//
// KEYS: 1 dead 2 pending 3 job 4 result 5 done ; ARGV: 1 envelope
var requeueDeadScript = rueidis.NewLuaScript(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
local env = cjson.decode(ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('HSET', KEYS[3], 'attempts', 0, 'state', 'queued')
redis.call('RPUSH', KEYS[2], env.raw)
return 1
`)

// seenScript records when a pending job was first seen (the producers'
// bare LPUSH carries no time), so stats can tell the oldest job's age.
//
// KEYS: 1 job ; ARGV: 1 jobTTLms
// Returns the first-seen time in ms.
var seenScript = rueidis.NewLuaScriptRetryable(luaNow + `
if redis.call('HSETNX', KEYS[1], 'seenAt', now) == 1 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return tonumber(redis.call('HGET', KEYS[1], 'seenAt'))
`)
