package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tokend/tokend/wire"
)

func TestManageUsers(t *testing.T) {
	f := newFakeAPI(t)
	const password = "  correct horse battery "
	code, out, errOut := cli(f.env(), password+"\r\nsecond line\n", "users", "create", "ops/ann", "--service", "1", "--password-stdin", "--account-id", "acct-1", "--roles", "admin,ops")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	if blockValue(out, "username") != "ops/ann" || strings.Contains(out+errOut, "horse") {
		t.Fatalf("create: stdout %q stderr %q", out, errOut)
	}
	for _, args := range [][]string{
		{"users", "get", "--service", "1", "ops/ann"},
		{"users", "update", "--service", "1", "ops/ann", "--roles", "", "--account-id", ""},
		{"users", "delete", "--service", "1", "ops/ann"},
	} {
		if code, _, errOut := cli(f.env(), "", args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	// Only the line ending is cut from the password: its spaces are its own.
	body, _ := json.Marshal(wire.UserInput{Username: "ops/ann", Password: &[]string{password}[0], AccountID: &[]string{"acct-1"}[0], Roles: &[]string{"admin", "ops"}})
	want := []apiCall{
		{"POST", "/v1/services/1/users", "Bearer mk_test", string(body)},
		{"GET", "/v1/services/1/users/ops%2Fann", "Bearer mk_test", ""},
		{"PATCH", "/v1/services/1/users/ops%2Fann", "Bearer mk_test", `{"account_id":"","roles":[]}`},
		{"DELETE", "/v1/services/1/users/ops%2Fann", "Bearer mk_test", ""},
	}
	if got := f.recorded(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n got %+v\nwant %+v", got, want)
	}

	code, _, errOut = cli(f.env(), "new passphrase\n", "users", "update", "--service", "1", "ann", "--password-stdin")
	if code != 0 || f.recorded()[4].Body != `{"password":"new passphrase"}` {
		t.Fatalf("password update: exit %d: %s, calls %+v", code, errOut, f.recorded()[4:])
	}
}

func TestManageUsersRefusals(t *testing.T) {
	f := newFakeAPI(t)
	for _, tt := range []struct {
		name, stdin string
		args        []string
		stderr      string
	}{
		{"password in argv", "", []string{"users", "create", "--service", "1", "ann", "--password", "hunter22"}, "flag provided but not defined: -password"},
		{"no password", "", []string{"users", "create", "--service", "1", "ann"}, "--password-stdin is required"},
		{"empty stdin", "\n", []string{"users", "create", "--service", "1", "ann", "--password-stdin"}, "--password-stdin: no password on stdin"},
		{"blank password", "   \n", []string{"users", "update", "--service", "1", "ann", "--password-stdin"}, "no password on stdin"},
		{"nothing to update", "", []string{"users", "update", "--service", "1", "ann"}, "nothing to update"},
		{"no username", "", []string{"users", "get", "--service", "1"}, "missing argument"},
		{"no service", "", []string{"users", "list"}, "--service SID is required"},
		{"code without redirect", "", []string{"codes", "create", "--service", "1", "--client", "web", "--subject", "ann"}, "--redirect-uri is required"},
		{"code without client", "", []string{"codes", "create", "--service", "1", "--subject", "ann", "--redirect-uri", "https://x/cb"}, "--client is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(f.env(), tt.stdin, tt.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tt.stderr)
			}
			if strings.Contains(errOut, "hunter22") {
				t.Fatalf("stderr echoes the password: %q", errOut)
			}
		})
	}
	if n := len(f.recorded()); n != 0 {
		t.Fatalf("%d API calls for refused command lines", n)
	}
}

func TestManageUsersList(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "users", "list", "--service", "1", "--page-size", "1")
	want := "" +
		"ID  USERNAME  ACCOUNT_ID  ROLES      CREATED\n" +
		"1   ann       acct-1      admin ops  2025-03-01T12:00:00Z\n"
	if code != 0 || out != want || !strings.Contains(errOut, "--page-token u2") {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s\nstderr %q", code, out, want, errOut)
	}
	code, out, errOut = cli(f.env(), "", "users", "list", "--service", "1", "--all", "--json")
	var list wire.UserList
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Users) != 2 || list.Users[1].Username != "bob" || list.NextPageToken != "" || errOut != "" {
		t.Fatalf("--all: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	calls := f.recorded()
	if len(calls) != 3 || calls[0].URI != "/v1/services/1/users?page_size=1" || calls[2].URI != "/v1/services/1/users?page_token=u2" {
		t.Fatalf("calls %+v", calls)
	}
}

func TestManageCodesCreate(t *testing.T) {
	f := newFakeAPI(t)
	code, out, errOut := cli(f.env(), "", "codes", "create", "--service", "1", "--client", "web", "--subject", "ann", "--redirect-uri", "https://shop.example/cb",
		"--scopes", "profile,email", "--code-challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "--code-challenge-method", "S256")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if blockValue(out, "code") != "tkc_SHOWNONCE" || blockValue(out, "expires_in") != "1m" || blockValue(out, "redirect_uri") != "https://shop.example/cb" {
		t.Fatalf("stdout %q", out)
	}
	if errOut != "tokend: warning: the authorization code is shown only once; store it now\n" {
		t.Fatalf("stderr %q", errOut)
	}
	want := apiCall{"POST", "/v1/services/1/authorization-codes", "Bearer mk_test",
		`{"client":"web","subject":"ann","scopes":["profile","email"],"redirect_uri":"https://shop.example/cb","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","code_challenge_method":"S256"}`}
	if got := f.recorded()[0]; got != want {
		t.Fatalf("call:\n got %+v\nwant %+v", got, want)
	}
}

func TestManageServicesPasswordAndPKCE(t *testing.T) {
	f := newFakeAPI(t)
	if code, _, errOut := cli(f.env(), "", "services", "update", "3", "--password-callback-url", "", "--allow-plain-pkce"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(f.env(), "", "services", "update", "3", "--allow-plain-pkce=false", "--password-callback-url", "https://app.example/check"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	calls := f.recorded()
	if calls[0].Body != `{"password_callback_url":"","allow_plain_pkce":true}` ||
		calls[1].Body != `{"password_callback_url":"https://app.example/check","allow_plain_pkce":false}` {
		t.Fatalf("bodies %s, %s", calls[0].Body, calls[1].Body)
	}
}
