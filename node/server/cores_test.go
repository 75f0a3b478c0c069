package server

import (
	"runtime"
	"testing"
)

func TestBackgroundCoresLendOneCoreWhileBorrowed(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one core: nothing to lend")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b := &backgroundCores{}

	first := b.borrow()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS while borrowed = %d, want 2", got)
	}
	second := b.borrow() // a full sync during a BGSAVE: still one extra core, not two
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS with two borrowers = %d, want 2", got)
	}
	first()
	first() // idempotent: must not release the second borrower's core
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS after one of two releases = %d, want 2", got)
	}
	second()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS after the last release = %d, want 1", got)
	}
}

func TestBackgroundCoresRespectAnOperatorsChoice(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	cases := []struct {
		name      string
		env       string
		ioThreads int64
	}{
		{"GOMAXPROCS set", "1", 0},
		{"io-threads set", "", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tc.env)
			b := newBackgroundCores(tc.ioThreads)
			release := b.borrow()
			defer release()
			if got := runtime.GOMAXPROCS(0); got != 1 {
				t.Fatalf("GOMAXPROCS = %d, want the operator's 1", got)
			}
		})
	}
	// At every core already there is nothing to lend.
	runtime.GOMAXPROCS(runtime.NumCPU())
	b := &backgroundCores{}
	release := b.borrow()
	if got := runtime.GOMAXPROCS(0); got != runtime.NumCPU() {
		t.Fatalf("GOMAXPROCS = %d, want %d", got, runtime.NumCPU())
	}
	release()
	if got := runtime.GOMAXPROCS(0); got != runtime.NumCPU() {
		t.Fatalf("after release GOMAXPROCS = %d, want %d", got, runtime.NumCPU())
	}
}
