// Package testutil holds the small helpers tokend's tests share across
// packages.
package testutil

import (
	"bytes"
	"sync"
	"time"
)

// Clock is a settable time source for the core in tests, so expiry and
// creation order are decided by the test rather than by the machine's speed.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// SyncBuffer collects what a server writes (its logs) while tests read it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Mistype returns s with its last character changed to another letter or
// digit: a value one keystroke from s, never s itself (replacing it with a
// fixed character would give s back whenever s already ended in it).
func Mistype(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	repl := byte('x')
	if last == repl {
		repl = 'y'
	}
	return s[:len(s)-1] + string(repl)
}
