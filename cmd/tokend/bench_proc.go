package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokend/tokend/internal/bench"
)

// child is a server the bench started: tokend serve, or the ceiling.
type child struct {
	name   string
	cmd    *exec.Cmd
	url    string
	done   chan struct{} // closed when the process has exited
	err    error         // what Wait returned; read after done
	stderr *tailBuffer
	once   sync.Once

	debugURL string // the server's --debug-addr, when profiling
}

// profile saves a CPU profile of the child taken while a scenario of the
// given length runs: it skips the first half second (connections opening)
// and stops half a second before the end, so no idle time dilutes it.
func (c *child) profile(ctx context.Context, scenario time.Duration, path string) error {
	if c.debugURL == "" {
		return errors.New("the server has no debug address")
	}
	secs := int((scenario - time.Second) / time.Second)
	if secs < 1 {
		return fmt.Errorf("a %v scenario is too short to profile (pprof takes whole seconds; use --duration 2s or more)", scenario)
	}
	select {
	case <-time.After(500 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.debugURL, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof answered %s", resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tailBuffer keeps the last part of a child's stderr, to show when it fails.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 16 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// freeLoopbackAddr asks the kernel for a free port on 127.0.0.1. The port
// is free when this returns, and another program could take it before the
// child binds it; startChild retries then. (The alternative, reading the
// address from the child's log, would need the per-request info log on.)
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startChild runs exe with the arguments args(addr) on a free loopback
// address and waits until GET readyPath answers 200. It returns the
// start-up time: from just before the process is started to that answer,
// so it includes exec, the Go runtime's start, opening the store and the
// first request, i.e. what a client waiting for a restart sees.
func startChild(ctx context.Context, name, exe string, args func(addr string) []string, env []string, readyPath string, limit time.Duration) (*child, time.Duration, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, 0, err
		}
		c := &child{name: name, url: "http://" + addr, done: make(chan struct{}), stderr: &tailBuffer{}}
		c.cmd = exec.Command(exe, args(addr)...)
		c.cmd.Env = env
		c.cmd.Stdout = c.stderr
		c.cmd.Stderr = c.stderr
		setChildAttrs(c.cmd)
		start := time.Now()
		if err := c.cmd.Start(); err != nil {
			return nil, 0, fmt.Errorf("start %s: %w", name, err)
		}
		go func() {
			c.err = c.cmd.Wait()
			close(c.done)
		}()
		took, err := c.waitReady(ctx, start, readyPath, limit)
		if err == nil {
			return c, took, nil
		}
		c.stop(5 * time.Second)
		lastErr = err
		// Only a lost race for the port is worth another try.
		if !strings.Contains(c.stderr.String(), "address already in use") {
			break
		}
	}
	return nil, 0, lastErr
}

func (c *child) waitReady(ctx context.Context, start time.Time, path string, limit time.Duration) (time.Duration, error) {
	hc := bench.NewClient(limit)
	defer hc.CloseIdleConnections()
	deadline := start.Add(limit)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+path, nil)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
			return 0, fmt.Errorf("%s answered %s on %s", c.name, resp.Status, path)
		}
		select {
		case <-c.done:
			return 0, fmt.Errorf("%s exited during start-up (%v): %s", c.name, c.err, c.stderr.String())
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %s to start: %w; its output: %s", c.name, ctx.Err(), c.stderr.String())
		case <-time.After(time.Millisecond):
			// Refused connections come back at once on loopback, so a
			// short pause keeps the start-up time precise without
			// spinning a core the child needs.
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not answer within %v: %s", c.name, limit, c.stderr.String())
		}
	}
}

// stop asks the child to shut down (SIGTERM: tokend drains and closes its
// store), waits up to grace, then kills it. Safe to call more than once.
func (c *child) stop(grace time.Duration) error {
	c.once.Do(func() {
		select {
		case <-c.done:
			return
		default:
		}
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	<-c.done
	var ee *exec.ExitError
	if c.err != nil && !errors.As(c.err, &ee) {
		return c.err
	}
	if c.err != nil {
		return fmt.Errorf("%s: %v: %s", c.name, c.err, c.stderr.String())
	}
	return nil
}

// peakRSS reads a process's peak resident set size (VmHWM) from Linux's
// /proc; ok is false where there is no /proc.
// startCPU notes the CPU time c has used so far and returns a function
// that tells how much it has used since; zero where that cannot be read
// (no /proc, or no child: a --target server).
func startCPU(c *child) func() time.Duration {
	if c == nil {
		return func() time.Duration { return 0 }
	}
	pid := c.cmd.Process.Pid
	before, ok := procCPU(pid)
	return func() time.Duration {
		after, ok2 := procCPU(pid)
		if !ok || !ok2 {
			return 0
		}
		return after - before
	}
}

// clockTicks is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux the bench runs on (it is fixed in the kernel's ABI).
const clockTicks = 100

// procCPU reads a process's user and system CPU time, all its threads
// together, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	return statCPU(data)
}

// statCPU parses utime and stime, the 14th and 15th fields; the command
// name (2nd, in parentheses) may hold spaces, so fields are counted from
// its closing parenthesis.
func statCPU(data []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 { // state is field 3, so utime and stime are f[11], f[12]
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * time.Second / clockTicks, true
}

func peakRSS(pid int) (bytes int64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	return procKiB(data, "VmHWM:")
}

func procKiB(data []byte, field string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n << 10, true
				}
			}
		}
	}
	return 0, false
}

// cpuModel is the processor's name from /proc/cpuinfo, or "".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
