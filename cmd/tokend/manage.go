package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

const defaultURL = "http://127.0.0.1:8080"

// requestTimeout bounds each API call so a hung server cannot hang a
// script; --all listings make one call per page.
const requestTimeout = time.Minute

// subcommand is one "tokend RESOURCE VERB".
type subcommand struct {
	usage string // the arguments after "tokend RESOURCE VERB"
	run   func(m *manager, args []string) error
}

// manageCommands lists every management subcommand by resource and verb.
// It is filled in by init functions next to the commands, which keeps
// each resource's commands and their table entries together.
var manageCommands = map[string]map[string]subcommand{}

// manager carries one management command's I/O and global flags.
type manager struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         env
	name           string // "tokend tokens list"
	usage          string

	url, key string
	json     bool
}

// usageError is bad command-line usage: exit code 2, with the usage line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errFlagParse marks a flag error the flag package has already printed,
// together with the usage.
var errFlagParse = errors.New("bad flags")

func runManage(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	resource := args[0]
	verbs := manageCommands[resource]
	if len(args) < 2 {
		fmt.Fprintf(stderr, "tokend: missing %s command\n", resource)
		resourceUsage(stderr, resource, verbs)
		return 2
	}
	verb := args[1]
	switch verb {
	case "help", "-h", "-help", "--help":
		resourceUsage(stdout, resource, verbs)
		return 0
	}
	sc, ok := verbs[verb]
	if !ok {
		fmt.Fprintf(stderr, "tokend: unknown %s command %q\n", resource, verb)
		resourceUsage(stderr, resource, verbs)
		return 2
	}
	m := &manager{
		ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		name: "tokend " + resource + " " + verb, usage: sc.usage,
	}
	return m.exit(sc.run(m, args[2:]))
}

func resourceUsage(w io.Writer, resource string, verbs map[string]subcommand) {
	fmt.Fprintf(w, "usage:\n")
	for _, v := range slices.Sorted(maps.Keys(verbs)) {
		fmt.Fprintf(w, "  tokend %s %s %s\n", resource, v, verbs[v].usage)
	}
	fmt.Fprintf(w, "\nGlobal flags: --url URL (env TOKEND_URL), --key KEY (prefer env TOKEND_KEY), --json.\n"+
		"Run \"tokend %s COMMAND -h\" for a command's flags.\n", resource)
}

// exit reports err and turns it into the process exit code.
func (m *manager) exit(err error) int {
	var ue *usageError
	var ce *client.Error
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFlagParse):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(m.stderr, "tokend: %s\nusage: %s %s\n", ue.msg, m.name, m.usage)
		return 2
	case errors.As(err, &ce):
		msg := ce.Message
		if ce.Field != "" {
			msg += " (field: " + ce.Field + ")"
		}
		fmt.Fprintf(m.stderr, "tokend: %s\n", msg)
		return 1
	default:
		fmt.Fprintf(m.stderr, "tokend: %s\n", strings.TrimPrefix(err.Error(), "tokend: "))
		return 1
	}
}

// flags returns a flag set holding the global flags.
func (m *manager) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(m.name, flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	def := m.getenv("TOKEND_URL")
	if def == "" {
		def = defaultURL
	}
	fs.StringVar(&m.url, "url", def, "tokend server `URL` (env TOKEND_URL)")
	// No default from the environment here: PrintDefaults would show it.
	fs.StringVar(&m.key, "key", "", "management `key`; prefer the TOKEND_KEY env var, since a flag's value shows up in shell history and ps")
	fs.BoolVar(&m.json, "json", false, "print the API's JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s %s\n\nFlags:\n", m.name, m.usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args (flags may follow positional arguments) and checks
// that between min and max positional arguments remain.
func (m *manager) parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	if err := fs.Parse(reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errFlagParse
	}
	pos := fs.Args()
	switch {
	case len(pos) < min:
		return nil, usagef("missing argument")
	case len(pos) > max:
		return nil, usagef("unexpected argument %q", pos[max])
	}
	if m.key == "" {
		m.key = m.getenv("TOKEND_KEY")
	}
	if m.key == "" {
		return nil, usagef("no management key: set TOKEND_KEY (or pass --key)")
	}
	return pos, nil
}

// reorder moves flags ahead of positional arguments, because the flag
// package stops at the first positional one and "tokens get 5 --service 9"
// should work. A flag's value travels with it; "--" ends the flags.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // unknown: Parse reports it
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), pos...)
}

// setFlags returns the names of the flags given on the command line, so
// updates send only what the user asked to change.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func (m *manager) client() *client.Client {
	return client.New(m.url, m.key, client.WithHTTPClient(&http.Client{Timeout: requestTimeout}))
}

// serviceFlag adds the --service flag; requireService checks it was given.
func serviceFlag(fs *flag.FlagSet) *int64 {
	return fs.Int64("service", 0, "service `SID`")
}

func requireService(sid int64) error {
	if sid <= 0 {
		return usagef("--service SID is required")
	}
	return nil
}

// parseID parses a positive numeric id given as an argument.
func parseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%s must be a positive number, not %q", what, s)
	}
	return id, nil
}

// printJSON prints v as the API's JSON, indented for people who pipe it
// through less; jq does not mind.
func (m *manager) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.stdout, "%s\n", b)
	return err
}

// shownOnce warns, on stderr so it stays out of pipes, that a secret in
// the output cannot be retrieved again.
func (m *manager) shownOnce(what string) {
	fmt.Fprintf(m.stderr, "tokend: warning: the %s is shown only once; store it now\n", what)
}

// table prints rows under a header, aligned.
func (m *manager) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(m.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// block prints key: value pairs, aligned; pairs with an empty value are
// skipped so optional fields don't clutter the output.
func (m *manager) block(pairs [][2]string) error {
	tw := tabwriter.NewWriter(m.stdout, 0, 0, 1, ' ', 0)
	for _, p := range pairs {
		if p[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
		}
	}
	return tw.Flush()
}

// orDash keeps table columns aligned and readable when a value is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

// fmtSeconds shows a duration in seconds the way the flags accept it:
// 3600 becomes "1h", not "1h0m0s".
func fmtSeconds(s int64) string {
	if s == 0 {
		return "0s"
	}
	d := (time.Duration(s) * time.Second).String()
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return d
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func join(s []string) string { return strings.Join(s, " ") }

func fmtBool(b bool) string { return strconv.FormatBool(b) }

// secondsFlag is a duration flag sent as whole seconds. It takes Go syntax
// (90s, 1h30m) or a bare number of seconds.
type secondsFlag struct{ secs int64 }

func (f *secondsFlag) String() string {
	if f == nil || f.secs == 0 {
		return ""
	}
	return fmtSeconds(f.secs)
}

func (f *secondsFlag) Set(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return errors.New("must not be negative")
		}
		f.secs = n
		return nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("want a duration such as 90s, 15m or 720h")
	case d < 0:
		return errors.New("must not be negative")
	case d%time.Second != 0:
		return errors.New("must be whole seconds")
	}
	f.secs = int64(d / time.Second)
	return nil
}

func secondsVar(fs *flag.FlagSet, name, usage string) *secondsFlag {
	f := &secondsFlag{}
	fs.Var(f, name, usage+" (a `duration`: 90s, 1h, 720h)")
	return f
}

// listFlag is a comma-separated list. Given as "", it is an empty list,
// which lets an update clear a field.
type listFlag struct{ v []string }

func (f *listFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.v, ",")
}

func (f *listFlag) Set(s string) error {
	f.v = []string{}
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			f.v = append(f.v, p)
		}
	}
	return nil
}

func listVar(fs *flag.FlagSet, name, usage string) *listFlag {
	f := &listFlag{}
	fs.Var(f, name, usage+" (comma-separated `list`)")
	return f
}

// upper spells grant types the way the server does (AUTHORIZATION_CODE),
// so people may type them in lower case.
func upper(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToUpper(v)
	}
	return out
}

// timeFlag is an RFC 3339 time or a date (midnight UTC).
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f == nil {
		return ""
	}
	return fmtTime(f.t)
}

func (f *timeFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t
			return nil
		}
	}
	return errors.New("want an RFC 3339 time (2025-01-31T12:00:00Z) or a date (2025-01-31)")
}

func timeVar(fs *flag.FlagSet, name, usage string) *timeFlag {
	f := &timeFlag{}
	fs.Var(f, name, usage+" (RFC 3339 `time` or YYYY-MM-DD)")
	return f
}

// propsFlag collects repeated k=v flags.
type propsFlag struct {
	props  *[]wire.Property
	hidden bool
}

func (f *propsFlag) String() string { return "" }

func (f *propsFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want KEY=VALUE")
	}
	*f.props = append(*f.props, wire.Property{Key: k, Value: v, Hidden: f.hidden})
	return nil
}

// propsVars adds --property and --hidden-property, which fill one list in
// command-line order.
func propsVars(fs *flag.FlagSet, note string) *[]wire.Property {
	props := &[]wire.Property{}
	fs.Var(&propsFlag{props: props}, "property", "extra `KEY=VALUE` property (repeatable"+note+")")
	fs.Var(&propsFlag{props: props, hidden: true}, "hidden-property", "extra `KEY=VALUE` property hidden from OAuth responses (repeatable"+note+")")
	return props
}

// readSecret reads one secret (a token value) from stdin: the first line,
// trimmed. Reading it there keeps it out of shell history and ps.
func (m *manager) readSecret() (string, error) {
	line, err := m.readStdinLine("--token-stdin", "token")
	return strings.TrimSpace(line), err
}

// readPassword reads a password from stdin: the first line without its
// line ending. Other spaces are kept, since they may be part of it.
func (m *manager) readPassword() (string, error) {
	return m.readStdinLine("--password-stdin", "password")
}

// readStdinLine reads the first line of stdin without its line ending;
// an empty line is a usage error naming flag.
func (m *manager) readStdinLine(flag, what string) (string, error) {
	const max = 64 << 10
	b, err := io.ReadAll(io.LimitReader(m.stdin, max+1))
	if err != nil {
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	if len(b) > max {
		return "", usagef("the %s on stdin is longer than %d bytes", what, max)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" {
		return "", usagef("%s: no %s on stdin", flag, what)
	}
	return line, nil
}

// collectAll gathers everything an iterator over a paged list yields, for
// --all. The result is never nil, so JSON shows [] for an empty list.
func collectAll[T any](seq iter.Seq2[T, error]) ([]T, error) {
	items := []T{}
	for item, err := range seq {
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, nil
}
