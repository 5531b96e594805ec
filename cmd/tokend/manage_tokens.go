package main

import (
	"fmt"
	"strings"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

func init() {
	manageCommands["tokens"] = map[string]subcommand{
		"list": {"--service SID [--subject S] [--client C] [--grant-type G] [--scope S] [--account-id A] [--role R] [--status active|expired|revoked|all]" +
			" [--created-after T] [--created-before T] [--order-by F] [--order asc|desc] [--page-size N] [--page-token T] [--offset N] [--all]", tokensList},
		"get":    {"--service SID ID", tokensGet},
		"lookup": {"--service SID (--token-stdin | --hash H)", tokensLookup},
		"create": {"--service SID --client C --grant-type G [--subject S] [--scopes a,b] [--access-ttl 1h] [--refresh-ttl 720h] [--persistent] [--property k=v …]", tokensCreate},
		"update": {"--service SID ID [--scopes a,b] [--expires-at T] [--refresh-expires-at T] [--persistent=BOOL] [--property k=v …] [--new-access-token]", tokensUpdate},
		"revoke": {"--service SID (ID | --hash H | --token-stdin | [--client C] [--subject S]) [--reason R]", tokensRevoke},
		"delete": {"--service SID ID", tokensDelete},
	}
}

func tokensList(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	var q client.TokenQuery
	fs.StringVar(&q.Subject, "subject", "", "only tokens of this subject (user)")
	fs.StringVar(&q.Client, "client", "", "only tokens of this client (numeric id or client_id)")
	fs.StringVar(&q.GrantType, "grant-type", "", "only tokens of this grant type")
	fs.StringVar(&q.Scope, "scope", "", "only tokens carrying this scope")
	fs.StringVar(&q.AccountID, "account-id", "", "only tokens of this account")
	fs.StringVar(&q.Role, "role", "", "only tokens with this role")
	fs.StringVar(&q.Status, "status", "", "active (default), expired, revoked or all")
	after := timeVar(fs, "created-after", "only tokens created after this time")
	before := timeVar(fs, "created-before", "only tokens created before this time")
	fs.StringVar(&q.OrderBy, "order-by", "", "created_at (default), expires_at or last_refreshed_at")
	fs.StringVar(&q.Order, "order", "", "asc or desc")
	fs.IntVar(&q.PageSize, "page-size", 0, "tokens per page (0: the server's default)")
	fs.StringVar(&q.PageToken, "page-token", "", "continue from this page `token`")
	fs.IntVar(&q.Offset, "offset", 0, "skip this many tokens")
	all := fs.Bool("all", false, "fetch every page")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	q.GrantType = strings.ToUpper(q.GrantType)
	q.CreatedAfter, q.CreatedBefore = after.t, before.t

	c := m.client()
	var list *wire.TokenList
	if *all {
		tokens, err := collectAll(c.AllTokens(m.ctx, *sid, q))
		if err != nil {
			return err
		}
		list = &wire.TokenList{Tokens: tokens, TotalCount: len(tokens)}
	} else {
		var err error
		if list, err = c.ListTokens(m.ctx, *sid, q); err != nil {
			return err
		}
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Tokens))
	for _, t := range list.Tokens {
		exp := fmtTimePtr(t.ExpiresAt)
		if t.Persistent {
			exp = "never"
		}
		rows = append(rows, []string{fmtInt(t.ID), fmtInt(t.Client), orDash(t.Subject), t.GrantType, t.Status, orDash(join(t.Scopes)), fmtTime(t.CreatedAt), orDash(exp)})
	}
	if err := m.table([]string{"ID", "CLIENT", "SUBJECT", "GRANT_TYPE", "STATUS", "SCOPES", "CREATED", "EXPIRES"}, rows); err != nil {
		return err
	}
	if !*all && list.NextPageToken != "" {
		fmt.Fprintf(m.stderr, "tokend: showing %d of %d tokens\n", len(list.Tokens), list.TotalCount)
	}
	m.nextPage(list.NextPageToken)
	return nil
}

func (m *manager) printToken(t *wire.Token) error {
	switch {
	case t.AccessToken != "" && t.RefreshToken != "":
		m.shownOnce("access and refresh token")
	case t.AccessToken != "":
		m.shownOnce("access token")
	case t.RefreshToken != "":
		m.shownOnce("refresh token")
	}
	if m.json {
		return m.printJSON(t)
	}
	exp := fmtTimePtr(t.ExpiresAt)
	if t.Persistent && exp == "" {
		exp = "never"
	}
	var expiresIn string
	if t.ExpiresIn != nil {
		expiresIn = fmtSeconds(*t.ExpiresIn)
	}
	props := make([]string, 0, len(t.Properties))
	for _, p := range t.Properties {
		s := p.Key + "=" + p.Value
		if p.Hidden {
			s += " (hidden)"
		}
		props = append(props, s)
	}
	var grantID string
	if t.GrantID != 0 {
		grantID = fmtInt(t.GrantID)
	}
	return m.block([][2]string{
		{"id", fmtInt(t.ID)},
		{"service_id", fmtInt(t.ServiceID)},
		{"client", fmtInt(t.Client)},
		{"subject", t.Subject},
		{"grant_type", t.GrantType},
		{"status", t.Status},
		{"token_type", t.TokenType},
		{"access_token", t.AccessToken},
		{"refresh_token", t.RefreshToken},
		{"access_token_hash", t.AccessTokenHash},
		{"refresh_token_hash", t.RefreshTokenHash},
		{"scopes", join(t.Scopes)},
		{"refresh_scopes", join(t.RefreshScopes)},
		{"created_at", fmtTime(t.CreatedAt)},
		{"expires_at", exp},
		{"expires_in", expiresIn},
		{"refresh_token_expires_at", fmtTimePtr(t.RefreshTokenExpiresAt)},
		{"last_refreshed_at", fmtTimePtr(t.LastRefreshedAt)},
		{"revoked_at", fmtTimePtr(t.RevokedAt)},
		{"revoked_reason", t.RevokedReason},
		{"persistent", fmtBool(t.Persistent)},
		{"properties", strings.Join(props, ", ")},
		{"account_id", t.AccountID},
		{"roles", join(t.Roles)},
		{"auth_time", fmtTimePtr(t.AuthTime)},
		{"acr", t.ACR},
		{"session_id", t.SessionID},
		{"resources", join(t.Resources)},
		{"certificate_thumbprint", t.CertThumbprint},
		{"dpop_key_thumbprint", t.DPoPKeyThumbprint},
		{"authorization_details", string(t.AuthorizationDetails)},
		{"grant_id", grantID},
	})
}

// tokenCmd parses the arguments of the commands on one token by id.
func (m *manager) tokenCmd(args []string) (sid, id int64, err error) {
	fs := m.flags()
	s := serviceFlag(fs)
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return 0, 0, err
	}
	if err := requireService(*s); err != nil {
		return 0, 0, err
	}
	id, err = parseID("ID", pos[0])
	return *s, id, err
}

func tokensGet(m *manager, args []string) error {
	sid, id, err := m.tokenCmd(args)
	if err != nil {
		return err
	}
	t, err := m.client().GetToken(m.ctx, sid, id)
	if err != nil {
		return err
	}
	return m.printToken(t)
}

func tokensDelete(m *manager, args []string) error {
	sid, id, err := m.tokenCmd(args)
	if err != nil {
		return err
	}
	if err := m.client().DeleteToken(m.ctx, sid, id); err != nil {
		return err
	}
	return m.done("deleted token " + fmtInt(id))
}

func tokensLookup(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	fromStdin := fs.Bool("token-stdin", false, "read the token value from the first line of stdin")
	hash := fs.String("hash", "", "the token's `hash` as shown by tokens list/get")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	var in wire.TokenLookup
	switch {
	case *fromStdin && *hash != "":
		return usagef("give --token-stdin or --hash, not both")
	case *fromStdin:
		v, err := m.readSecret()
		if err != nil {
			return err
		}
		in.Token = v
	case *hash != "":
		in.Hash = *hash
	default:
		return usagef("give --token-stdin (the value on stdin) or --hash H")
	}
	t, err := m.client().LookupToken(m.ctx, *sid, in)
	if err != nil {
		return err
	}
	return m.printToken(t)
}

func tokensCreate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	var in wire.TokenInput
	fs.StringVar(&in.Client, "client", "", "the client: numeric id or client_id")
	fs.StringVar(&in.GrantType, "grant-type", "", "grant type to record, e.g. authorization_code")
	fs.StringVar(&in.Subject, "subject", "", "subject (user) the token is for")
	scopes := listVar(fs, "scopes", "granted scopes")
	refreshScopes := listVar(fs, "refresh-scopes", "scopes the refresh token may request (default: --scopes)")
	accessTTL := secondsVar(fs, "access-ttl", "access token lifetime (default: the service's)")
	refreshTTL := secondsVar(fs, "refresh-ttl", "refresh token lifetime (default: the service's)")
	fs.BoolVar(&in.Persistent, "persistent", false, "the access token never expires")
	fs.BoolVar(&in.NoRefreshToken, "no-refresh-token", false, "issue no refresh token")
	fs.StringVar(&in.AccountID, "account-id", "", "account id")
	roles := listVar(fs, "roles", "roles")
	props := propsVars(fs, "")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	if in.Client == "" || in.GrantType == "" {
		return usagef("--client and --grant-type are required")
	}
	in.GrantType = strings.ToUpper(in.GrantType)
	in.Scopes, in.RefreshScopes, in.Roles = scopes.v, refreshScopes.v, roles.v
	in.AccessTokenTTL, in.RefreshTokenTTL = accessTTL.secs, refreshTTL.secs
	in.Properties = *props
	t, err := m.client().CreateToken(m.ctx, *sid, in)
	if err != nil {
		return err
	}
	return m.printToken(t)
}

func tokensUpdate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	scopes := listVar(fs, "scopes", "replace the scopes")
	refreshScopes := listVar(fs, "refresh-scopes", "replace the refresh token's scopes")
	expiresAt := timeVar(fs, "expires-at", "new access token expiry")
	refreshExpiresAt := timeVar(fs, "refresh-expires-at", "new refresh token expiry")
	persistent := fs.Bool("persistent", false, "make the access token never expire (--persistent=false to undo)")
	accountID := fs.String("account-id", "", "replace the account id")
	roles := listVar(fs, "roles", "replace the roles")
	props := propsVars(fs, "; replaces all properties")
	newAccess := fs.Bool("new-access-token", false, "issue a new access token value (printed once)")
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	id, err := parseID("ID", pos[0])
	if err != nil {
		return err
	}
	set := setFlags(fs)
	var in wire.TokenUpdate
	if set["scopes"] {
		in.Scopes = &scopes.v
	}
	if set["refresh-scopes"] {
		in.RefreshScopes = &refreshScopes.v
	}
	if set["expires-at"] {
		in.ExpiresAt = &expiresAt.t
	}
	if set["refresh-expires-at"] {
		in.RefreshTokenExpiresAt = &refreshExpiresAt.t
	}
	if set["persistent"] {
		in.Persistent = persistent
	}
	if set["account-id"] {
		in.AccountID = accountID
	}
	if set["roles"] {
		in.Roles = &roles.v
	}
	// The properties flags replace the whole set, so either one sends it.
	if set["property"] || set["hidden-property"] {
		in.Properties = props
	}
	in.NewAccessToken = *newAccess
	if in == (wire.TokenUpdate{}) {
		return usagef("nothing to update: give at least one field flag")
	}
	t, err := m.client().UpdateToken(m.ctx, *sid, id, in)
	if err != nil {
		return err
	}
	return m.printToken(t)
}

func tokensRevoke(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	fromStdin := fs.Bool("token-stdin", false, "revoke the token whose value is on the first line of stdin")
	hash := fs.String("hash", "", "revoke the token with this `hash`")
	clientRef := fs.String("client", "", "revoke every token of this client (numeric id or client_id)")
	subject := fs.String("subject", "", "revoke every token of this subject; with --client, only those")
	reason := fs.String("reason", "", "why, kept for audit")
	pos, err := m.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	set := setFlags(fs)
	modes := 0
	for _, given := range []bool{len(pos) == 1, *fromStdin, set["hash"], set["client"] || set["subject"]} {
		if given {
			modes++
		}
	}
	if modes != 1 {
		return usagef("name the tokens one way: ID, --hash, --token-stdin, or --client and/or --subject")
	}
	req := wire.RevokeRequest{Reason: *reason}
	switch {
	case len(pos) == 1:
		if req.ID, err = parseID("ID", pos[0]); err != nil {
			return err
		}
		res, err := m.client().RevokeToken(m.ctx, *sid, req.ID, wire.RevokeReason{Reason: req.Reason})
		if err != nil {
			return err
		}
		return m.printRevoked(res)
	case *fromStdin:
		if req.Token, err = m.readSecret(); err != nil {
			return err
		}
	case set["hash"]:
		if *hash == "" {
			return usagef("--hash must not be empty")
		}
		req.Hash = *hash
	default:
		if set["client"] && *clientRef == "" || set["subject"] && *subject == "" {
			return usagef("--client and --subject must not be empty")
		}
		req.Client = *clientRef
		if set["subject"] {
			req.Subject = subject
		}
	}
	res, err := m.client().RevokeTokens(m.ctx, *sid, req)
	if err != nil {
		return err
	}
	return m.printRevoked(res)
}

func (m *manager) printRevoked(res *wire.RevokeResult) error {
	if m.json {
		return m.printJSON(res)
	}
	noun := "tokens"
	if res.Count == 1 {
		noun = "token"
	}
	_, err := fmt.Fprintf(m.stdout, "revoked %d %s\n", res.Count, noun)
	return err
}
