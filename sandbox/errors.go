package sandbox

import (
	"errors"
	"fmt"
	"github.com/daemonbox/daemonbox/spec"
	"os"
	"syscall"
)

// Exit codes, as env(1), chroot(1), bubblewrap and the shell use them.
const (
	ExitFailure     = 125 // daemonbox itself or the spec failed
	ExitNoExec      = 126 // the command exists but cannot be executed
	ExitNotFound    = 127 // the command does not exist inside the root
	ExitSignalShift = 128 // the daemon was killed by signal n: 128+n
)

// StepError says which launch step failed, doing what, on which path or
// value, and with which errno. It crosses from the init stage to the parent
// intact, and unwraps to the errno so that errors.Is(err, unix.EPERM) holds.
type StepError struct {
	Step  string
	Op    string // the syscall or action: "chroot", "execve"
	Path  string // what it acted on
	Errno syscall.Errno
	Msg   string // when there is no single op
}

func (e *StepError) Error() string {
	s := fmt.Sprintf("step %q: ", e.Step)
	switch {
	case e.Op != "" && e.Path != "":
		s += e.Op + " " + e.Path
	case e.Op != "":
		s += e.Op
	default:
		return s + e.Msg
	}
	if e.Errno != 0 {
		return s + ": " + e.Errno.Error()
	}
	if e.Msg != "" {
		return s + ": " + e.Msg
	}
	return s
}

func (e *StepError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// OpError makes the error of one syscall; the step runner fills in Step.
func OpError(op, path string, err error) *StepError {
	e := &StepError{Op: op, Path: path}
	if !errors.As(err, &e.Errno) {
		e.Msg = err.Error()
	}
	return e
}

// pathStepError is OpError for a failed *os.PathError, and the message
// alone for any other error.
func pathStepError(err error) *StepError {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return OpError(pe.Op, pe.Path, pe.Err)
	}
	return &StepError{Msg: err.Error()}
}

// AtStep names the step that returned err.
func AtStep(step string, err error) *StepError {
	var se *StepError
	if errors.As(err, &se) {
		se.Step = step
		return se
	}
	se = &StepError{Step: step, Msg: err.Error()}
	errors.As(err, &se.Errno)
	return se
}

// ExitCode is the code daemonbox exits with after err.
func ExitCode(err error) int {
	var se *StepError
	var pe *spec.Error
	errno := syscall.Errno(0)
	switch {
	case errors.As(err, &se) && se.Step == "exec":
		errno = se.Errno
	case errors.As(err, &pe) && len(spec.List(err)) == 1: // found by the plan, ahead of exec, alone
		errno = pe.ExecErrno
	}
	if errno != 0 {
		switch errno {
		case syscall.ENOENT:
			return ExitNotFound
		case syscall.EACCES, syscall.ENOEXEC, syscall.EISDIR, syscall.ETXTBSY, syscall.ENOTDIR, syscall.ELOOP:
			return ExitNoExec
		}
	}
	return ExitFailure
}
