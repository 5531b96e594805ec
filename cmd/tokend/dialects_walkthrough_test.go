package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's Passport and Kustvakt walk-throughs, run against a real
// server so that the curl commands shown there keep working.
func TestDialectWalkthroughScripts(t *testing.T) {
	for _, tool := range []string{"curl", "jq"} {
		needTool(t, tool)
	}
	for _, name := range []string{"passport-walkthrough", "kustvakt-walkthrough"} {
		t.Run(name, func(t *testing.T) {
			s, stderr := MustServe(t, filepath.Join(t.TempDir(), name+".db"), map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
			cmd := exec.Command("bash", "../../scripts/"+name+".sh")
			cmd.Env = append(os.Environ(), "TOKEND_URL="+s.url, "KEY="+testKey)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), name+": ok") {
				t.Fatalf("%s failed: %v\n%s\nserver log:\n%s", name, err, out, stderr)
			}
			if strings.Contains(stderr.String(), "correct horse") {
				t.Fatal("the server logged a password")
			}
		})
	}
}
