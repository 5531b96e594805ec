package main

import (
	"flag"
	"reflect"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

func init() {
	manageCommands["users"] = map[string]subcommand{
		"list":   {"--service SID [--page-size N] [--page-token T] [--all]", usersList},
		"get":    {"--service SID USERNAME", usersGet},
		"create": {"--service SID USERNAME --password-stdin [--account-id ID] [--roles r,…]", usersCreate},
		"update": {"--service SID USERNAME [--password-stdin] [--account-id …] [--roles …]", usersUpdate},
		"delete": {"--service SID USERNAME", usersDelete},
	}
	manageCommands["codes"] = map[string]subcommand{
		"create": {"--service SID --client C --subject S --redirect-uri U [--scopes a,b] [--code-challenge X] [--code-challenge-method S256|plain]", codesCreate},
	}
}

// userFlags are the flags of users create and update. There is no
// --password: a flag's value shows up in shell history and ps, so the
// password only comes from stdin.
type userFlags struct {
	fs            *flag.FlagSet
	passwordStdin *bool
	accountID     *string
	roles         *listFlag
}

func addUserFlags(fs *flag.FlagSet) *userFlags {
	return &userFlags{
		fs:            fs,
		passwordStdin: fs.Bool("password-stdin", false, "read the password from the first line of stdin"),
		accountID:     fs.String("account-id", "", "account `ID` the user's tokens carry (\"\" clears it)"),
		roles:         listVar(fs, "roles", "roles the user's tokens carry"),
	}
}

// input returns the body for the flags that were given, reading the
// password from stdin when asked to.
func (f *userFlags) input(m *manager) (wire.UserInput, error) {
	set := setFlags(f.fs)
	var in wire.UserInput
	if *f.passwordStdin {
		pw, err := m.readPassword()
		if err != nil {
			return in, err
		}
		in.Password = &pw
	}
	if set["account-id"] {
		in.AccountID = f.accountID
	}
	if set["roles"] {
		in.Roles = &f.roles.v
	}
	return in, nil
}

func (m *manager) printUser(u *wire.User) error {
	if m.json {
		return m.printJSON(u)
	}
	return m.block([][2]string{
		{"id", fmtInt(u.ID)},
		{"service_id", fmtInt(u.ServiceID)},
		{"username", u.Username},
		{"account_id", u.AccountID},
		{"roles", join(u.Roles)},
		{"created_at", fmtTime(u.CreatedAt)},
		{"updated_at", fmtTime(u.UpdatedAt)},
	})
}

func usersList(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	pageSize := fs.Int("page-size", 0, "users per page (0: the server's default)")
	pageToken := fs.String("page-token", "", "continue from this page `token`")
	all := fs.Bool("all", false, "fetch every page")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	c := m.client()
	q := client.UserQuery{PageSize: *pageSize, PageToken: *pageToken}
	var list *wire.UserList
	if *all {
		users, err := collectAll(c.AllUsers(m.ctx, *sid, q))
		if err != nil {
			return err
		}
		list = &wire.UserList{Users: users}
	} else {
		var err error
		if list, err = c.ListUsers(m.ctx, *sid, q); err != nil {
			return err
		}
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Users))
	for _, u := range list.Users {
		rows = append(rows, []string{fmtInt(u.ID), u.Username, orDash(u.AccountID), orDash(join(u.Roles)), fmtTime(u.CreatedAt)})
	}
	if err := m.table([]string{"ID", "USERNAME", "ACCOUNT_ID", "ROLES", "CREATED"}, rows); err != nil {
		return err
	}
	m.nextPage(list.NextPageToken)
	return nil
}

func usersGet(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	name, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	u, err := m.client().GetUser(m.ctx, *sid, name)
	if err != nil {
		return err
	}
	return m.printUser(u)
}

func usersCreate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	f := addUserFlags(fs)
	name, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	if !*f.passwordStdin {
		return usagef("--password-stdin is required: a new user needs a password")
	}
	in, err := f.input(m)
	if err != nil {
		return err
	}
	in.Username = name
	u, err := m.client().CreateUser(m.ctx, *sid, in)
	if err != nil {
		return err
	}
	return m.printUser(u)
}

func usersUpdate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	f := addUserFlags(fs)
	name, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	in, err := f.input(m)
	if err != nil {
		return err
	}
	if reflect.ValueOf(in).IsZero() {
		return usagef("nothing to update: give --password-stdin, --account-id or --roles")
	}
	u, err := m.client().UpdateUser(m.ctx, *sid, name, in)
	if err != nil {
		return err
	}
	return m.printUser(u)
}

func usersDelete(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	name, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	if err := m.client().DeleteUser(m.ctx, *sid, name); err != nil {
		return err
	}
	return m.done("deleted user " + name)
}

func codesCreate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	clientRef := fs.String("client", "", "the client the code is for (numeric id or client_id)")
	subject := fs.String("subject", "", "the authenticated user")
	redirectURI := fs.String("redirect-uri", "", "one of the client's registered redirect `URI`s")
	scopes := listVar(fs, "scopes", "scopes the user consented to")
	challenge := fs.String("code-challenge", "", "PKCE code challenge (RFC 7636)")
	method := fs.String("code-challenge-method", "", "PKCE `method`: S256 (default) or plain")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	for _, req := range []struct{ name, v string }{{"--client", *clientRef}, {"--subject", *subject}, {"--redirect-uri", *redirectURI}} {
		if req.v == "" {
			return usagef("%s is required", req.name)
		}
	}
	code, err := m.client().CreateAuthorizationCode(m.ctx, *sid, wire.CodeInput{
		Client: *clientRef, Subject: *subject, Scopes: scopes.v, RedirectURI: *redirectURI,
		CodeChallenge: *challenge, CodeChallengeMethod: *method,
	})
	if err != nil {
		return err
	}
	m.shownOnce("authorization code")
	if m.json {
		return m.printJSON(code)
	}
	return m.block([][2]string{
		{"code", code.Code},
		{"expires_at", fmtTime(code.ExpiresAt)},
		{"expires_in", fmtSeconds(code.ExpiresIn)},
		{"client", fmtInt(code.Client)},
		{"subject", code.Subject},
		{"scopes", join(code.Scopes)},
		{"redirect_uri", code.RedirectURI},
	})
}
