// Command tokend runs the token service and talks to it.
//
//	tokend serve                 run the server (embedded SQLite by default)
//	tokend migrate               create or upgrade the store's schema and exit
//	tokend janitor               remove dead tokens once (for cron)
//	tokend export|import         move a deployment between stores (JSON lines)
//	tokend services|clients|keys|tokens|subjects …   manage a running server
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env reads configuration from the environment; tests pass their own.
type env func(string) string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run dispatches a command line and returns the process exit code:
// 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr, getenv)
	case "janitor":
		return runJanitor(ctx, args[1:], stdout, stderr, getenv)
	case "export":
		return runExport(ctx, args[1:], stdout, stderr, getenv)
	case "import":
		return runImport(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr, getenv)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "services", "clients", "keys", "tokens", "subjects", "users", "codes", "audit":
		return runManage(ctx, args, stdin, stdout, stderr, getenv)
	default:
		fmt.Fprintf(stderr, "tokend: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `tokend: a self-hosted OAuth 2.0 token service

Server:
  tokend serve [--addr 127.0.0.1:8080] [--store sqlite:tokend.db|postgres://…] [--base-url URL]
  tokend migrate [--store URL]
  tokend janitor [--store URL] [--janitor-retention 7d]           remove dead tokens (for cron)
  tokend export [--store URL] [--output FILE]                      the whole store as JSON lines
  tokend import [--store URL] [--input FILE]                       into an empty store
  tokend backup --store sqlite:PATH --out FILE                     a consistent copy while serving
  tokend bench [--duration 10s] [--connections 16] [--seed N] [--target URL]   load test over loopback

Management (talks to a running server; --url/TOKEND_URL, --key/TOKEND_KEY, --json):
  tokend services list|get|create|update|delete
  tokend clients  list|get|create|update|delete|rotate-secret --service SID
  tokend keys     list|create|delete [--service SID]
  tokend tokens   list|get|lookup|create|update|revoke|delete --service SID
  tokend subjects grants|revoke --service SID SUBJECT
  tokend users    list|get|create|update|delete --service SID
  tokend codes    create --service SID --client C --subject S --redirect-uri U
  tokend audit    list|export [--service SID] [--action A] [--since T] …   the audit log; export writes JSON lines

Run "tokend COMMAND -h" for a command's flags.
`)
}
