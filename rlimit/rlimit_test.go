package rlimit

import (
	"errors"
	"syscall"
	"testing"
)

func TestLimitString(t *testing.T) {
	l := Limit{Name: "nofile", Resource: 7, Soft: 64, Hard: Unlimited}
	if l.String() != "nofile soft=64 hard=unlimited" {
		t.Errorf("%q", l)
	}
	e := &Error{Limit: l, Err: syscall.EPERM}
	if e.Error() != "setrlimit nofile soft=64 hard=unlimited: operation not permitted" || !errors.Is(e, syscall.EPERM) {
		t.Errorf("%q", e)
	}
}

func TestGetAndApply(t *testing.T) {
	soft, hard, err := Get(syscall.RLIMIT_CORE)
	if err != nil {
		t.Fatal(err)
	}
	// Setting a limit to its current value changes nothing and must succeed.
	if err := Apply([]Limit{{Name: "core", Resource: syscall.RLIMIT_CORE, Soft: soft, Hard: hard}}); err != nil {
		t.Fatal(err)
	}
	if err := Apply([]Limit{{Name: "core", Resource: syscall.RLIMIT_CORE, Soft: hard, Hard: hard}}); hard != Unlimited && err != nil {
		t.Fatal(err)
	}
}
