package tokend_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretName matches the names of values an attacker could guess byte by
// byte if they were compared with an early exit: secrets, passwords, PKCE
// verifiers and challenges, and their hashes.
var secretName = regexp.MustCompile(`(?i)(secret|passw|verifier|challenge)`)

// notSecret matches names that mention a secret but hold something else:
// a length, a kind, a method name.
var notSecret = regexp.MustCompile(`(?i)(len|kind|prefix|method|url|type|field)$`)

// TestSecretsComparedInConstantTime reads every Go file of the module
// (tests aside) and fails on a comparison of a secret with == or !=, or
// with bytes.Equal: those stop at the first differing byte, and their
// timing tells how much of a guess was right. Comparing with "" (is it
// there at all?) and with nil is allowed. Secrets must be compared with
// crypto/subtle (client secrets, PKCE, passwords), or found by the SHA-256
// of the presented value (tokens and keys), which tells nothing of the
// stored one.
func TestSecretsComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		found = append(found, variableTimeComparisons(fset, f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("a secret compared in variable time: %s", f)
	}
	t.Run("TheCheckFindsThem", func(t *testing.T) {
		src := `package x
func f() bool {
	if cred.Secret == "" || in.Password != "" { return false } // allowed: is it there?
	if len(s) != secretLen { return false }                       // allowed: a length
	ok := cred.Secret == cl.Secret                                 // 1
	ok = bytes.Equal(got, code.CodeChallenge)                      // 2
	return ok && verifier != want                                  // 3
}`
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "x.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := variableTimeComparisons(fset, f); len(got) != 3 {
			t.Fatalf("found %d comparisons in the sample, want 3: %v", len(got), got)
		}
	})
}

// variableTimeComparisons lists the comparisons of secrets in f with ==,
// != or bytes.Equal.
func variableTimeComparisons(fset *token.FileSet, f *ast.File) []string {
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.EQL || n.Op == token.NEQ) && (secretExpr(n.X) && !emptyExpr(n.Y) || secretExpr(n.Y) && !emptyExpr(n.X)) {
				found = append(found, fset.Position(n.Pos()).String()+": "+exprString(n))
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Equal" && exprString(sel.X) == "bytes" {
				for _, a := range n.Args {
					if secretExpr(a) {
						found = append(found, fset.Position(n.Pos()).String()+": bytes.Equal on a secret")
					}
				}
			}
		}
		return true
	})
	return found
}

// secretExpr reports whether e names a secret: the last name of an
// identifier or field chain.
func secretExpr(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return secretName.MatchString(e.Name) && !notSecret.MatchString(e.Name)
	case *ast.SelectorExpr:
		return secretName.MatchString(e.Sel.Name) && !notSecret.MatchString(e.Sel.Name)
	case *ast.IndexExpr:
		return secretExpr(e.X)
	case *ast.CallExpr:
		// HashSecret(x) == stored: a hash of a presented value, which
		// tells nothing of the stored one; still, say so explicitly.
		return false
	}
	return false
}

func emptyExpr(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Value == `""` || e.Value == "``"
	case *ast.Ident:
		return e.Name == "nil"
	case *ast.CompositeLit:
		return len(e.Elts) == 0 // Hash{}: unset
	}
	return false
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.BinaryExpr:
		return exprString(e.X) + " " + e.Op.String() + " " + exprString(e.Y)
	}
	return "…"
}
