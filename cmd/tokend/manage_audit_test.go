package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokend/tokend/wire"
)

// TestAuditCommands runs tokend audit list and export against a real
// server after a few management actions.
func TestAuditCommands(t *testing.T) {
	s, _ := MustServe(t, filepath.Join(t.TempDir(), "a.db"), map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	vars := map[string]string{"TOKEND_URL": s.url, "TOKEND_KEY": testKey}
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, mapEnv(vars))
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := cli("services", "create", "--name", "audited", "--scopes", "read", "--json")
	if code != 0 {
		t.Fatalf("services create: %d %s", code, errOut)
	}
	var svc wire.Service
	if err := json.Unmarshal([]byte(out), &svc); err != nil {
		t.Fatal(err)
	}
	sid := jsonNumber(svc.ID)
	if _, errOut, code = cli("clients", "create", "--service", sid, "--name", "app", "--scopes", "read"); code != 0 {
		t.Fatalf("clients create: %d %s", code, errOut)
	}

	t.Run("ListTable", func(t *testing.T) {
		out, errOut, code := cli("audit", "list", "--service", sid)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"ACTION", "client.create", "service.create", "client:"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("ListAllJSON", func(t *testing.T) {
		out, errOut, code := cli("audit", "list", "--all", "--order", "asc", "--page-size", "1", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var l wire.AuditList
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Entries) != 3 || l.Entries[0].Action != "key.create" || l.Entries[2].Action != "client.create" {
			t.Fatalf("entries %+v; want the bootstrap key, the service and the client", l.Entries)
		}
	})
	t.Run("ExportJSONLines", func(t *testing.T) {
		out, errOut, code := cli("audit", "export", "--action", "service.create")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		n := 0
		for sc.Scan() {
			var e wire.AuditEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action != "service.create" {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("%d lines, want 1:\n%s", n, out)
		}
	})
	t.Run("ErrUnknownAction", func(t *testing.T) {
		_, errOut, code := cli("audit", "export", "--action", "nope")
		if code != 1 || !strings.Contains(errOut, "action") {
			t.Fatalf("exit %d, stderr %q; want 1 naming the action", code, errOut)
		}
	})
}
