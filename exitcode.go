package empplay

import (
	"errors"
	"strconv"
)

// Exit codes shared by `empplay supervise` and its `empplay worker` children.
// The supervisor never restarts a child that exited with [ExitConfig]; it
// exits with that code itself so systemd's RestartPreventExitStatus stops
// the unit instead of looping.
const (
	// ExitOK is a clean stop, or `worker --once` that rendered its job.
	ExitOK = 0
	// ExitFailure is a runtime failure, or `worker --once` whose job failed.
	ExitFailure = 1
	// ExitConfig is a configuration error or a missing dependency
	// (Chromium, p5 assets): restarting cannot help. It is sysexits'
	// EX_CONFIG, not 2: Go exits 2 on a panic or a fatal runtime error
	// (systemd's watchdog SIGABRT included), which must be restarted.
	ExitConfig = 78
	// ExitForceQuit is a shutdown forced by a second signal.
	ExitForceQuit = 3
)

// ExitError carries the process exit code out of a command. Only main turns
// it into os.Exit.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return "exit status " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ConfigError marks err as a configuration error: the process exits with
// [ExitConfig].
func ConfigError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitConfig, Err: err}
}

// ExitCode returns the exit code err asks for: 0 for nil, the code of an
// [ExitError] in its chain, else [ExitFailure].
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}
