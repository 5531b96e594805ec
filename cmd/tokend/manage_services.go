package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

func init() {
	manageCommands["services"] = map[string]subcommand{
		"list":   {"[--json]", servicesList},
		"get":    {"SID", servicesGet},
		"create": {"--name NAME [--scopes a,b] [--grant-types G,…] [--access-ttl 1h] [--refresh-ttl 720h] [--issuer URL] [--password-callback-url URL] [--allow-plain-pkce] [--time-zone ZONE]", servicesCreate},
		"update": {"SID [--name …] [--scopes …] [--grant-types …] [--access-ttl …] [--refresh-ttl …] [--issuer …] [--password-callback-url URL] [--allow-plain-pkce=BOOL] [--time-zone ZONE]", servicesUpdate},
		"delete": {"SID", servicesDelete},
	}
	manageCommands["clients"] = map[string]subcommand{
		"list":          {"--service SID [--page-size N] [--page-token T] [--all]", clientsList},
		"get":           {"--service SID CLIENT", clientsGet},
		"create":        {"--service SID --name NAME [--type confidential|public] [--grant-types …] [--scopes …] [--redirect-uris …] [--first-party] [--client-url URL] [--client-id ID]", clientsCreate},
		"update":        {"--service SID CLIENT [--name …] [--type …] [--grant-types …] [--scopes …] [--redirect-uris …] [--first-party=BOOL]", clientsUpdate},
		"delete":        {"--service SID CLIENT", clientsDelete},
		"rotate-secret": {"--service SID CLIENT", clientsRotateSecret},
	}
	manageCommands["keys"] = map[string]subcommand{
		"list":   {"[--service SID]", keysList},
		"create": {"[--service SID] --name NAME --permissions P,… [--ttl 720h]", keysCreate},
		"delete": {"[--service SID] KID", keysDelete},
	}
	manageCommands["subjects"] = map[string]subcommand{
		"grants": {"--service SID SUBJECT", subjectsGrants},
		"revoke": {"--service SID SUBJECT CLIENT", subjectsRevoke},
	}
}

// serviceFlags are the flags of services create and update.
type serviceFlags struct {
	fs                        *flag.FlagSet
	name, description, issuer *string
	scopes, grantTypes        *listFlag
	accessTTL, refreshTTL     *secondsFlag
	rotate, keepExpiry        *bool
	reuseGrace                *secondsFlag
	passwordCallback          *string
	plainPKCE                 *bool
	timeZone                  *string
}

func addServiceFlags(fs *flag.FlagSet) *serviceFlags {
	return &serviceFlags{
		fs:               fs,
		name:             fs.String("name", "", "service name"),
		description:      fs.String("description", "", "description"),
		issuer:           fs.String("issuer", "", "issuer `URL` (\"\" derives it from the server's base URL)"),
		scopes:           listVar(fs, "scopes", "scopes the service supports"),
		grantTypes:       listVar(fs, "grant-types", "grant types the service supports, e.g. authorization_code,refresh_token"),
		accessTTL:        secondsVar(fs, "access-ttl", "access token lifetime"),
		refreshTTL:       secondsVar(fs, "refresh-ttl", "refresh token lifetime"),
		rotate:           fs.Bool("rotate-refresh", false, "issue a new refresh token on each refresh"),
		reuseGrace:       secondsVar(fs, "reuse-grace", "how long a rotated refresh token may be replayed"),
		keepExpiry:       fs.Bool("keep-refresh-expiry", false, "a rotated refresh token keeps its predecessor's expiry"),
		passwordCallback: fs.String("password-callback-url", "", "`URL` the password grant asks to check a user (\"\" uses the built-in users table)"),
		plainPKCE:        fs.Bool("allow-plain-pkce", false, "let authorization codes use the PKCE \"plain\" method (S256 otherwise)"),
		timeZone:         fs.String("time-zone", "", "IANA `ZONE` the Kustvakt dialect shows dates in, e.g. Europe/Berlin (\"\" means UTC)"),
	}
}

// input returns the body for the flags that were given; the rest stay nil,
// which PATCH reads as "unchanged".
func (f *serviceFlags) input() wire.ServiceInput {
	set := setFlags(f.fs)
	var in wire.ServiceInput
	if set["name"] {
		in.Name = f.name
	}
	if set["description"] {
		in.Description = f.description
	}
	if set["issuer"] {
		in.Issuer = f.issuer
	}
	if set["scopes"] {
		in.ScopesSupported = &f.scopes.v
	}
	if set["grant-types"] {
		g := upper(f.grantTypes.v)
		in.GrantTypesSupported = &g
	}
	if set["access-ttl"] {
		in.AccessTokenTTL = &f.accessTTL.secs
	}
	if set["refresh-ttl"] {
		in.RefreshTokenTTL = &f.refreshTTL.secs
	}
	if set["password-callback-url"] {
		in.PasswordCallbackURL = f.passwordCallback
	}
	if set["allow-plain-pkce"] {
		in.AllowPlainPKCE = f.plainPKCE
	}
	if set["time-zone"] {
		in.TimeZone = f.timeZone
	}
	var p wire.RefreshPolicy
	if set["rotate-refresh"] {
		p.Rotate = f.rotate
	}
	if set["reuse-grace"] {
		p.ReuseGrace = &f.reuseGrace.secs
	}
	if set["keep-refresh-expiry"] {
		p.KeepExpiry = f.keepExpiry
	}
	if p != (wire.RefreshPolicy{}) {
		in.RefreshTokenPolicy = &p
	}
	return in
}

func servicesList(m *manager, args []string) error {
	fs := m.flags()
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	list, err := m.client().ListServices(m.ctx)
	if err != nil {
		return err
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Services))
	for _, s := range list.Services {
		rows = append(rows, []string{fmtInt(s.ID), s.Name, fmtSeconds(s.AccessTokenTTL), fmtSeconds(s.RefreshTokenTTL), orDash(join(s.ScopesSupported)), s.Issuer})
	}
	return m.table([]string{"ID", "NAME", "ACCESS_TTL", "REFRESH_TTL", "SCOPES", "ISSUER"}, rows)
}

func (m *manager) printService(s *wire.Service) error {
	if m.json {
		return m.printJSON(s)
	}
	p := s.RefreshTokenPolicy
	pairs := [][2]string{
		{"id", fmtInt(s.ID)},
		{"name", s.Name},
		{"description", s.Description},
		{"issuer", s.Issuer},
		{"access_token_ttl", fmtSeconds(s.AccessTokenTTL)},
		{"refresh_token_ttl", fmtSeconds(s.RefreshTokenTTL)},
		{"scopes_supported", join(s.ScopesSupported)},
		{"grant_types_supported", join(s.GrantTypesSupported)},
	}
	if p.Rotate != nil {
		pairs = append(pairs, [2]string{"refresh_rotate", fmtBool(*p.Rotate)})
	}
	if p.ReuseGrace != nil {
		pairs = append(pairs, [2]string{"refresh_reuse_grace", fmtSeconds(*p.ReuseGrace)})
	}
	if p.KeepExpiry != nil {
		pairs = append(pairs, [2]string{"refresh_keep_expiry", fmtBool(*p.KeepExpiry)})
	}
	pairs = append(pairs,
		[2]string{"password_callback_url", s.PasswordCallbackURL},
		[2]string{"allow_plain_pkce", fmtBool(s.AllowPlainPKCE)},
		[2]string{"time_zone", s.TimeZone}, // empty, so not shown: UTC
		[2]string{"token_endpoint", s.TokenEndpoint},
		[2]string{"introspection_endpoint", s.IntrospectionEndpoint},
		[2]string{"revocation_endpoint", s.RevocationEndpoint},
		[2]string{"discovery_url", s.DiscoveryURL},
		[2]string{"created_at", fmtTime(s.CreatedAt)}, [2]string{"updated_at", fmtTime(s.UpdatedAt)})
	return m.block(pairs)
}

func servicesGet(m *manager, args []string) error {
	fs := m.flags()
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	sid, err := parseID("SID", pos[0])
	if err != nil {
		return err
	}
	s, err := m.client().GetService(m.ctx, sid)
	if err != nil {
		return err
	}
	return m.printService(s)
}

func servicesCreate(m *manager, args []string) error {
	fs := m.flags()
	f := addServiceFlags(fs)
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *f.name == "" {
		return usagef("--name is required")
	}
	s, err := m.client().CreateService(m.ctx, f.input())
	if err != nil {
		return err
	}
	return m.printService(s)
}

func servicesUpdate(m *manager, args []string) error {
	fs := m.flags()
	f := addServiceFlags(fs)
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	sid, err := parseID("SID", pos[0])
	if err != nil {
		return err
	}
	in := f.input()
	if reflect.ValueOf(in).IsZero() {
		return usagef("nothing to update: give at least one field flag")
	}
	s, err := m.client().UpdateService(m.ctx, sid, in)
	if err != nil {
		return err
	}
	return m.printService(s)
}

func servicesDelete(m *manager, args []string) error {
	fs := m.flags()
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	sid, err := parseID("SID", pos[0])
	if err != nil {
		return err
	}
	if err := m.client().DeleteService(m.ctx, sid); err != nil {
		return err
	}
	return m.done("deleted service " + fmtInt(sid))
}

// done confirms a command that returns no body. With --json it prints
// nothing: the exit status is the answer.
func (m *manager) done(msg string) error {
	if !m.json {
		_, err := io.WriteString(m.stdout, msg+"\n")
		return err
	}
	return nil
}

// clientFlags are the flags of clients create and update.
type clientFlags struct {
	fs                                        *flag.FlagSet
	clientID, name, description, url, dev, ty *string
	grantTypes, scopes, redirectURIs          *listFlag
	firstParty                                *bool
}

func addClientFlags(fs *flag.FlagSet, create bool) *clientFlags {
	f := &clientFlags{
		fs:          fs,
		name:        fs.String("name", "", "client (app) name"),
		description: fs.String("description", "", "description"),
		// Not --url: that global flag names the tokend server.
		url:          fs.String("client-url", "", "the app's home page `URL`"),
		dev:          fs.String("developer", "", "developer name"),
		ty:           fs.String("type", "", "client `type`: confidential or public"),
		grantTypes:   listVar(fs, "grant-types", "grant types the client may use"),
		scopes:       listVar(fs, "scopes", "scopes the client may request"),
		redirectURIs: listVar(fs, "redirect-uris", "registered redirect URIs"),
		firstParty:   fs.Bool("first-party", false, "the app belongs to the service's operator (no consent screen)"),
	}
	if create {
		f.clientID = fs.String("client-id", "", "client_id to use instead of a generated one (e.g. when migrating)")
	}
	return f
}

func (f *clientFlags) input() wire.ClientInput {
	set := setFlags(f.fs)
	var in wire.ClientInput
	str := map[string]**string{"client-id": &in.ClientID, "name": &in.Name, "description": &in.Description, "client-url": &in.URL, "developer": &in.Developer, "type": &in.Type}
	val := map[string]*string{"client-id": f.clientID, "name": f.name, "description": f.description, "client-url": f.url, "developer": f.dev, "type": f.ty}
	for k, dst := range str {
		if set[k] {
			*dst = val[k]
		}
	}
	if set["grant-types"] {
		g := upper(f.grantTypes.v)
		in.GrantTypes = &g
	}
	if set["scopes"] {
		in.Scopes = &f.scopes.v
	}
	if set["redirect-uris"] {
		in.RedirectURIs = &f.redirectURIs.v
	}
	if set["first-party"] {
		in.FirstParty = f.firstParty
	}
	return in
}

func (m *manager) printClient(c *wire.Client) error {
	if c.ClientSecret != "" {
		m.shownOnce("client secret")
	}
	if m.json {
		return m.printJSON(c)
	}
	return m.block([][2]string{
		{"id", fmtInt(c.ID)},
		{"service_id", fmtInt(c.ServiceID)},
		{"client_id", c.ClientID},
		{"client_secret", c.ClientSecret},
		{"name", c.Name},
		{"description", c.Description},
		{"url", c.URL},
		{"developer", c.Developer},
		{"type", c.Type},
		{"grant_types", join(c.GrantTypes)},
		{"scopes", join(c.Scopes)},
		{"redirect_uris", join(c.RedirectURIs)},
		{"first_party", fmtBool(c.FirstParty)},
		{"created_at", fmtTime(c.CreatedAt)},
		{"updated_at", fmtTime(c.UpdatedAt)},
	})
}

func clientsList(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	pageSize := fs.Int("page-size", 0, "clients per page (0: the server's default)")
	pageToken := fs.String("page-token", "", "continue from this page `token`")
	all := fs.Bool("all", false, "fetch every page")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	c := m.client()
	q := client.ClientQuery{PageSize: *pageSize, PageToken: *pageToken}
	var list *wire.ClientList
	if *all {
		clients, err := collectAll(c.AllClients(m.ctx, *sid, q))
		if err != nil {
			return err
		}
		list = &wire.ClientList{Clients: clients}
	} else {
		var err error
		if list, err = c.ListClients(m.ctx, *sid, q); err != nil {
			return err
		}
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Clients))
	for _, c := range list.Clients {
		rows = append(rows, []string{fmtInt(c.ID), c.ClientID, c.Name, c.Type, fmtBool(c.FirstParty), orDash(join(c.GrantTypes)), orDash(join(c.Scopes))})
	}
	if err := m.table([]string{"ID", "CLIENT_ID", "NAME", "TYPE", "FIRST_PARTY", "GRANT_TYPES", "SCOPES"}, rows); err != nil {
		return err
	}
	m.nextPage(list.NextPageToken)
	return nil
}

// nextPage tells, on stderr so the table stays clean, how to continue.
func (m *manager) nextPage(token string) {
	if token != "" {
		fmt.Fprintf(m.stderr, "tokend: more results: add --page-token %s (or use --all)\n", token)
	}
}

// clientCmd parses the arguments shared by the commands on one client.
func (m *manager) clientCmd(fs *flag.FlagSet, sid *int64, args []string) (string, error) {
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return "", err
	}
	if err := requireService(*sid); err != nil {
		return "", err
	}
	return pos[0], nil
}

func clientsGet(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	ref, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	c, err := m.client().GetClient(m.ctx, *sid, ref)
	if err != nil {
		return err
	}
	return m.printClient(c)
}

func clientsCreate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	f := addClientFlags(fs, true)
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	if *f.name == "" {
		return usagef("--name is required")
	}
	c, err := m.client().CreateClient(m.ctx, *sid, f.input())
	if err != nil {
		return err
	}
	return m.printClient(c)
}

func clientsUpdate(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	f := addClientFlags(fs, false)
	ref, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	in := f.input()
	if reflect.ValueOf(in).IsZero() {
		return usagef("nothing to update: give at least one field flag")
	}
	c, err := m.client().UpdateClient(m.ctx, *sid, ref, in)
	if err != nil {
		return err
	}
	return m.printClient(c)
}

func clientsDelete(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	ref, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	if err := m.client().DeleteClient(m.ctx, *sid, ref); err != nil {
		return err
	}
	return m.done("deleted client " + ref)
}

func clientsRotateSecret(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	ref, err := m.clientCmd(fs, sid, args)
	if err != nil {
		return err
	}
	c, err := m.client().RotateClientSecret(m.ctx, *sid, ref)
	if err != nil {
		return err
	}
	return m.printClient(c)
}

func keysList(m *manager, args []string) error {
	fs := m.flags()
	sid := fs.Int64("service", 0, "list the keys of service `SID` instead of the organization's")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	var list *wire.KeyList
	var err error
	if *sid != 0 {
		list, err = m.client().ListServiceKeys(m.ctx, *sid)
	} else {
		list, err = m.client().ListKeys(m.ctx)
	}
	if err != nil {
		return err
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Keys))
	for _, k := range list.Keys {
		svc := "org"
		if k.ServiceID != nil {
			svc = fmtInt(*k.ServiceID)
		}
		rows = append(rows, []string{fmtInt(k.ID), k.Name, svc, strings.Join(k.Permissions, ","), fmtTime(k.CreatedAt), orDash(fmtTimePtr(k.ExpiresAt))})
	}
	return m.table([]string{"ID", "NAME", "SERVICE", "PERMISSIONS", "CREATED", "EXPIRES"}, rows)
}

func keysCreate(m *manager, args []string) error {
	fs := m.flags()
	sid := fs.Int64("service", 0, "create a key limited to service `SID` instead of an organization key")
	name := fs.String("name", "", "key name")
	perms := listVar(fs, "permissions", "permissions, e.g. tokens.read,tokens.write or *")
	ttl := secondsVar(fs, "ttl", "lifetime (default: never expires)")
	if _, err := m.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	if len(perms.v) == 0 {
		return usagef("--permissions is required")
	}
	in := wire.KeyInput{Name: *name, Permissions: perms.v, TTL: ttl.secs}
	var k *wire.Key
	var err error
	if *sid != 0 {
		k, err = m.client().CreateServiceKey(m.ctx, *sid, in)
	} else {
		k, err = m.client().CreateKey(m.ctx, in)
	}
	if err != nil {
		return err
	}
	if k.Key != "" {
		m.shownOnce("management key")
	}
	if m.json {
		return m.printJSON(k)
	}
	svc := "org"
	if k.ServiceID != nil {
		svc = fmtInt(*k.ServiceID)
	}
	return m.block([][2]string{
		{"id", fmtInt(k.ID)},
		{"key", k.Key},
		{"name", k.Name},
		{"service", svc},
		{"permissions", strings.Join(k.Permissions, ",")},
		{"created_at", fmtTime(k.CreatedAt)},
		{"expires_at", orDash(fmtTimePtr(k.ExpiresAt))},
	})
}

func keysDelete(m *manager, args []string) error {
	fs := m.flags()
	sid := fs.Int64("service", 0, "the key belongs to service `SID`")
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	kid, err := parseID("KID", pos[0])
	if err != nil {
		return err
	}
	if *sid != 0 {
		err = m.client().DeleteServiceKey(m.ctx, *sid, kid)
	} else {
		err = m.client().DeleteKey(m.ctx, kid)
	}
	if err != nil {
		return err
	}
	return m.done("deleted key " + fmtInt(kid))
}

func subjectsGrants(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	pos, err := m.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	list, err := m.client().SubjectGrants(m.ctx, *sid, pos[0])
	if err != nil {
		return err
	}
	if m.json {
		return m.printJSON(list)
	}
	rows := make([][]string, 0, len(list.Grants))
	for _, g := range list.Grants {
		rows = append(rows, []string{fmtInt(g.Client.ID), g.Client.ClientID, g.Client.Name, orDash(join(g.Scopes)), fmtInt(int64(g.TokenCount)), fmtTime(g.FirstIssuedAt), fmtTime(g.LastIssuedAt)})
	}
	return m.table([]string{"CLIENT", "CLIENT_ID", "NAME", "SCOPES", "TOKENS", "FIRST_ISSUED", "LAST_ISSUED"}, rows)
}

func subjectsRevoke(m *manager, args []string) error {
	fs := m.flags()
	sid := serviceFlag(fs)
	pos, err := m.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if err := requireService(*sid); err != nil {
		return err
	}
	res, err := m.client().RevokeSubjectGrant(m.ctx, *sid, pos[0], pos[1])
	if err != nil {
		return err
	}
	return m.printRevoked(res)
}
