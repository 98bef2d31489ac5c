// Package supervisor starts, watches and restarts the `empplay worker`
// child processes of one render host (`empplay supervise`), and owns the
// exit-code policy between them.
//
// A [Supervisor] runs a fixed number of worker slots. Each start of a slot
// is an incarnation with its own worker id and its own profile directory
// (the Chromium --user-data-dir), both new, so that a dead incarnation's
// in-flight jobs and leftover processes can be found without ambiguity.
//
// # GPU slots
//
// gpu.PlanSlots decides from the GPU's total and free memory, the memory
// reserved for co-located services (comfyui entries of WORKERS) and what
// one GPU slot needs, how many slots render on the GPU; slots 0 to
// [Config.GPUSlots]-1 get [Slot.GPU], which the Command func turns into
// the worker's GPU flags.
//
// # Processes
//
// Every child runs in its own process group, with Pdeathsig SIGKILL as a
// backstop for a supervisor that is itself SIGKILLed. The child is started
// from a goroutine locked to its OS thread for the child's whole life,
// because Pdeathsig fires when the thread that forked exits, not the
// process (golang/go#27505). After a child exits, the supervisor always
// kills its process group, then kills by pid any process whose command
// line still names the incarnation's profile directory (Chromium may
// leave the group), then removes the directory. Nothing is ever killed by
// name.
//
// Stopping is graceful: SIGTERM to the child process only, never its
// group, so that the worker can drain its job and close its own Chromium;
// after [Config.StopGrace] the whole group gets SIGKILL.
//
// # Health reports
//
// The supervisor passes each child the write end of a pipe as its file
// descriptor 3 (exec.Cmd.ExtraFiles[0]) and adds EMPPLAY_REPORT_FD=3 to
// its environment ([ReportFDEnv]; the child opens it with [ReportFD]).
// The child writes [empplay.Report] values to it as JSON, one object per
// line, when its state changes and at least every second: a worker child
// runs a [Reporter], the writer beside the supervisor's reader in
// report.go.
// Lines that do not parse, or have no "state", are ignored (logged at
// debug). A child is SIGKILLed with its group when it sends no report for
// [Config.ReportTimeout] ([Config.StartTimeout] before its first), when it
// reports "idle" with a LastFetch older than [Config.WedgedAfter], or when
// it reports "busy" past its JobDeadline plus [Config.OverrunMargin].
//
// # Logs
//
// The child's stdout and stderr share one pipe. Each line that is a JSON
// object with "level" and "msg" (a slog JSON record) is re-emitted through
// [Config.Logger] at the same level, time and attributes, plus "slot" and
// "pid"; any other line is logged at Info with "slot" and "pid". Lines
// longer than 1 MiB are split.
//
// # Restarts and exit codes
//
// A child that exits on its own, or is killed for its health, is restarted:
// the first time at once, then after a capped exponential delay with full
// jitter ([Config.RestartBase], [Config.RestartMax]). A run of
// [Config.StableAfter] resets the delay. [Config.DegradedAfter] failures in
// a row mark the slot degraded; it keeps being retried at the cap, forever.
// A child that exits with [empplay.ExitConfig] is never restarted: the
// supervisor stops every other child and [Supervisor.Run] returns an error
// whose [empplay.ExitCode] is [empplay.ExitConfig].
package supervisor
