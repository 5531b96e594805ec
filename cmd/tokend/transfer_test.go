package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/pgtest"
	"github.com/tokend/tokend/transfer"
)

// runCLI runs a tokend command line and returns its outputs and exit code.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, mapEnv(nil))
	return stdout.String(), stderr.String(), code
}

// TestExportImportCommands moves a served deployment from SQLite to
// PostgreSQL and back with the commands, through a file and through a
// pipe, and checks the copies export the same records.
func TestExportImportCommands(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s, _ := MustServe(t, src, map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	n := &node{url: s.url}
	svc := n.mustAPI(t, 201, "POST", "/v1/services", map[string]any{"name": "moved", "scopes_supported": []string{"read"}})
	sid := jsonNumber(svc["id"])
	c := n.mustAPI(t, 201, "POST", "/v1/services/"+sid+"/clients", map[string]any{"name": "app"})
	for _, subject := range []string{"alice", "bob"} {
		n.mustAPI(t, 201, "POST", "/v1/services/"+sid+"/tokens", map[string]any{
			"client": c["client_id"], "grant_type": "AUTHORIZATION_CODE", "subject": subject, "scopes": []string{"read"}})
	}
	n.mustAPI(t, 201, "POST", "/v1/services/"+sid+"/users", map[string]any{"username": "alice", "password": "correct horse battery"})

	file := filepath.Join(dir, "export.jsonl")
	// While the server runs: the export reads one snapshot.
	_, errOut, code := runCLI(t, "", "export", "--store", "sqlite:"+src, "--output", file)
	if code != 0 || !strings.Contains(errOut, "2 tokens") || strings.Contains(errOut, "\r") {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	first, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	body := func(export string) string { _, b, _ := strings.Cut(export, "\n"); return b }

	t.Run("SQLiteToSQLiteThroughAPipe", func(t *testing.T) {
		dst := "sqlite:" + filepath.Join(dir, "copy.db")
		out, errOut, code := runCLI(t, string(first), "import", "--store", dst)
		if code != 0 || !strings.Contains(out, "imported") || !strings.Contains(out, "2 tokens") {
			t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
		}
		again, errOut, code := runCLI(t, "", "export", "--store", dst)
		if code != 0 || body(again) != body(string(first)) {
			t.Fatalf("the copy exports differently (exit %d, %s)", code, errOut)
		}
		_, errOut, code = runCLI(t, string(first), "import", "--store", dst)
		if code != 1 || !strings.Contains(errOut, "not empty") {
			t.Fatalf("import into a full store: exit %d\n%s", code, errOut)
		}
	})
	t.Run("SQLiteToPostgresAndBack", func(t *testing.T) {
		pg := pgtest.NewDatabase(t)
		out, errOut, code := runCLI(t, "", "import", "--store", pg, "--input", file)
		if code != 0 || !strings.Contains(out, "2 tokens") {
			t.Fatalf("import into PostgreSQL: exit %d\n%s\n%s", code, out, errOut)
		}
		back := filepath.Join(dir, "back.jsonl")
		if _, errOut, code := runCLI(t, "", "export", "--store", pg, "--output", back); code != 0 {
			t.Fatalf("export from PostgreSQL: exit %d\n%s", code, errOut)
		}
		second, err := os.ReadFile(back)
		if err != nil {
			t.Fatal(err)
		}
		if body(string(second)) != body(string(first)) {
			t.Fatal("PostgreSQL exports differently from the SQLite it was imported from")
		}
		// A node on the copy knows the tokens and the user.
		p := startNode(t, pg)
		list := p.mustAPI(t, 200, "GET", "/v1/services/"+sid+"/tokens?status=all", nil)
		if toks := list["tokens"].([]any); len(toks) != 2 {
			t.Fatalf("the PostgreSQL node lists %d tokens, want 2", len(toks))
		}
		p.mustAPI(t, 200, "GET", "/v1/services/"+sid+"/users/alice", nil)
	})
	t.Run("ErrTruncatedFileStoresNothing", func(t *testing.T) {
		cut := string(first[:len(first)-len(first)/3])
		dst := "sqlite:" + filepath.Join(dir, "cut.db")
		_, errOut, code := runCLI(t, cut, "import", "--store", dst)
		if code != 1 || !strings.Contains(errOut, "tokend import:") {
			t.Fatalf("import of a cut-off file: exit %d\n%s", code, errOut)
		}
		out, _, _ := runCLI(t, "", "export", "--store", dst)
		if !strings.Contains(out, `"counts":{"services":0,"keys":0`) {
			t.Fatalf("the refused import left records:\n%s", out)
		}
	})
	t.Run("ErrFailedExportLeavesNoFile", func(t *testing.T) {
		missing := filepath.Join(dir, "no", "such", "dir", "x.jsonl")
		if _, _, code := runCLI(t, "", "export", "--store", "sqlite:"+src, "--output", missing); code != 1 {
			t.Fatalf("export into a missing directory: exit %d", code)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Fatalf("a temporary file was left: %s", e.Name())
			}
		}
	})
}

func TestProgressBar(t *testing.T) {
	t.Run("NotOnAPipeOrFile", func(t *testing.T) {
		var buf bytes.Buffer
		b := newProgressBar(&buf, "tokend export")
		b.show(transfer.Progress{Records: 500, Total: 1000})
		b.finish()
		f, err := os.Create(filepath.Join(t.TempDir(), "log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if newProgressBar(f, "x").w != nil || buf.Len() != 0 {
			t.Fatalf("a progress bar drawn on a non-terminal: %q", buf.String())
		}
	})
	t.Run("OnATerminal", func(t *testing.T) {
		var buf bytes.Buffer
		b := &progressBar{w: &buf, label: "tokend import", size: 2000}
		b.show(transfer.Progress{Records: 1000, Bytes: 1000})
		b.show(transfer.Progress{Records: 1500, Total: 1500, Bytes: 2000})
		b.finish()
		want := "\rtokend import [###############               ]  50% 1,000 records" +
			"\rtokend import [##############################] 100% 1,500 records\n"
		if buf.String() != want {
			t.Fatalf("drew %q, want %q", buf.String(), want)
		}
	})
}
