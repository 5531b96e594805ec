package api

import (
	"fmt"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

// The callers of the permission matrix, in the order of a route's wants.
const (
	noKey = iota
	badKey
	orgWith    // organization key holding exactly the route's permission
	orgWithout // organization key holding every other permission
	aWith      // key of service A (the route's service) with the permission
	aWithout
	bWith // key of service B
	bWithout
	nCallers
)

var callerNames = [nCallers]string{"NoKey", "BadKey", "OrgWith", "OrgWithout", "AWith", "AWithout", "BWith", "BWithout"}

// scoped is what a route on service A answers: a service B key is told
// service A does not exist, whatever it may do.
func scoped(ok int) [nCallers]int {
	return [nCallers]int{401, 401, ok, 403, ok, 403, 404, 404}
}

// orgOnly is what a route only organization keys may use answers.
func orgOnly(ok int) [nCallers]int {
	return [nCallers]int{401, 401, ok, 403, 403, 403, 403, 403}
}

// request is what one matrix cell sends; setup makes it fresh per cell,
// because the successful cells change or delete things.
type request struct {
	method, path string
	body         any
}

func TestPermissionMatrix(t *testing.T) {
	f := MustFixture(t)
	e := f.e
	a := f.svc
	b := MustPhotos(t, e, "service-b")
	MustClient(t, e, e.root, b.ID, wire.ClientInput{})
	sa := fmt.Sprintf("/v1/services/%d", a.ID)

	// Keys per permission: with it alone, and with every other one.
	type keySet [nCallers]string
	keys := map[tokend.Permission]keySet{}
	for _, perm := range tokend.Permissions[1:] {
		var others []tokend.Permission
		for _, p := range tokend.Permissions[1:] {
			if p != perm {
				others = append(others, p)
			}
		}
		keys[perm] = keySet{
			noKey:      "",
			badKey:     tokend.NewSecret(tokend.KindManagementKey),
			orgWith:    MustKey(t, e, 0, perm),
			orgWithout: MustKey(t, e, 0, others...),
			aWith:      MustKey(t, e, a.ID, perm),
			aWithout:   MustKey(t, e, a.ID, others...),
			bWith:      MustKey(t, e, b.ID, perm),
			bWithout:   MustKey(t, e, b.ID, others...),
		}
	}

	MustUser(t, e, a.ID, wire.UserInput{Username: "matrix"})
	MustUser(t, e, b.ID, wire.UserInput{Username: "matrix"}) // B's own "matrix" must not answer for A's
	seq := 0
	freshName := func() string { seq++; return fmt.Sprint("user-", seq) }

	token := func(tb testing.TB) wire.Token { return f.mint(tb, wire.TokenInput{Subject: "matrix"}) }
	fixed := func(method, path string, body any) func(testing.TB) request {
		return func(testing.TB) request { return request{method, path, body} }
	}
	routes := []struct {
		name  string
		perm  tokend.Permission
		setup func(tb testing.TB) request
		want  [nCallers]int
	}{
		{"CreateService", tokend.PermServicesWrite, fixed("POST", "/v1/services", wire.ServiceInput{Name: ptr("new")}), orgOnly(201)},
		{"ListServices", tokend.PermServicesRead, fixed("GET", "/v1/services", nil), [nCallers]int{401, 401, 200, 403, 200, 403, 200, 403}},
		{"GetService", tokend.PermServicesRead, fixed("GET", sa, nil), scoped(200)},
		{"UpdateService", tokend.PermServicesWrite, fixed("PATCH", sa, wire.ServiceInput{Description: ptr("d")}), scoped(200)},
		{"DeleteService", tokend.PermServicesWrite, func(tb testing.TB) request {
			s := MustService(tb, e, e.root, wire.ServiceInput{Name: ptr("doomed")})
			return request{"DELETE", fmt.Sprintf("/v1/services/%d", s.ID), nil}
		}, orgOnly(204)},

		{"CreateClient", tokend.PermClientsWrite, fixed("POST", sa+"/clients", wire.ClientInput{Name: ptr("c")}), scoped(201)},
		{"ListClients", tokend.PermClientsRead, fixed("GET", sa+"/clients", nil), scoped(200)},
		{"GetClient", tokend.PermClientsRead, fixed("GET", sa+"/clients/web-app", nil), scoped(200)},
		{"UpdateClient", tokend.PermClientsWrite, fixed("PATCH", sa+"/clients/web-app", wire.ClientInput{Description: ptr("d")}), scoped(200)},
		{"DeleteClient", tokend.PermClientsWrite, func(tb testing.TB) request {
			c := MustClient(tb, e, e.root, a.ID, wire.ClientInput{})
			return request{"DELETE", fmt.Sprintf("%s/clients/%d", sa, c.ID), nil}
		}, scoped(204)},
		{"RotateSecret", tokend.PermClientsWrite, fixed("POST", sa+"/clients/cli-app/secret", nil), scoped(200)},

		{"CreateOrgKey", tokend.PermKeysWrite, fixed("POST", "/v1/keys", wire.KeyInput{Name: "k", Permissions: []string{"keys.write"}}), orgOnly(201)},
		{"ListOrgKeys", tokend.PermKeysRead, fixed("GET", "/v1/keys", nil), orgOnly(200)},
		{"DeleteOrgKey", tokend.PermKeysWrite, func(tb testing.TB) request {
			var k wire.Key
			e.MustDo(tb, "POST", "/v1/keys", e.root, wire.KeyInput{Name: "doomed", Permissions: []string{"tokens.read"}}, 201, &k)
			return request{"DELETE", fmt.Sprintf("/v1/keys/%d", k.ID), nil}
		}, orgOnly(204)},
		{"CreateServiceKey", tokend.PermKeysWrite, fixed("POST", sa+"/keys", wire.KeyInput{Name: "k", Permissions: []string{"keys.write"}}), scoped(201)},
		{"ListServiceKeys", tokend.PermKeysRead, fixed("GET", sa+"/keys", nil), scoped(200)},
		{"DeleteServiceKey", tokend.PermKeysWrite, func(tb testing.TB) request {
			var k wire.Key
			e.MustDo(tb, "POST", sa+"/keys", e.root, wire.KeyInput{Name: "doomed", Permissions: []string{"tokens.read"}}, 201, &k)
			return request{"DELETE", fmt.Sprintf("%s/keys/%d", sa, k.ID), nil}
		}, scoped(204)},

		{"ListTokens", tokend.PermTokensRead, fixed("GET", sa+"/tokens?subject=matrix", nil), scoped(200)},
		{"CreateToken", tokend.PermTokensWrite, fixed("POST", sa+"/tokens", wire.TokenInput{Client: "web-app", GrantType: "AUTHORIZATION_CODE", Subject: "m"}), scoped(201)},
		{"GetToken", tokend.PermTokensRead, func(tb testing.TB) request {
			return request{"GET", fmt.Sprintf("%s/tokens/%d", sa, token(tb).ID), nil}
		}, scoped(200)},
		{"UpdateToken", tokend.PermTokensWrite, func(tb testing.TB) request {
			return request{"PATCH", fmt.Sprintf("%s/tokens/%d", sa, token(tb).ID), wire.TokenUpdate{Roles: &[]string{"r"}}}
		}, scoped(200)},
		{"DeleteToken", tokend.PermTokensWrite, func(tb testing.TB) request {
			return request{"DELETE", fmt.Sprintf("%s/tokens/%d", sa, token(tb).ID), nil}
		}, scoped(204)},
		{"LookupToken", tokend.PermTokensRead, func(tb testing.TB) request {
			return request{"POST", sa + "/tokens/lookup", wire.TokenLookup{Token: token(tb).AccessToken}}
		}, scoped(200)},
		{"RevokeToken", tokend.PermTokensWrite, func(tb testing.TB) request {
			return request{"POST", fmt.Sprintf("%s/tokens/%d/revoke", sa, token(tb).ID), nil}
		}, scoped(200)},
		{"RevokeTokens", tokend.PermTokensWrite, fixed("POST", sa+"/tokens/revoke", wire.RevokeRequest{Subject: ptr("matrix")}), scoped(200)},
		{"ListGrants", tokend.PermTokensRead, fixed("GET", sa+"/subjects/matrix/grants", nil), scoped(200)},
		{"RevokeGrant", tokend.PermTokensWrite, fixed("DELETE", sa+"/subjects/matrix/grants/web-app", nil), scoped(200)},

		{"CreateCode", tokend.PermTokensWrite, fixed("POST", sa+"/authorization-codes", wire.CodeInput{Client: "web-app", Subject: "m", RedirectURI: webRedirect}), scoped(201)},

		{"CreateUser", tokend.PermUsersWrite, func(tb testing.TB) request {
			return request{"POST", sa + "/users", wire.UserInput{Username: freshName(), Password: ptr("long enough password")}}
		}, scoped(201)},
		{"ListUsers", tokend.PermUsersRead, fixed("GET", sa+"/users", nil), scoped(200)},
		{"GetUser", tokend.PermUsersRead, fixed("GET", sa+"/users/matrix", nil), scoped(200)},
		{"UpdateUser", tokend.PermUsersWrite, fixed("PATCH", sa+"/users/matrix", wire.UserInput{Roles: &[]string{"r"}}), scoped(200)},
		{"DeleteUser", tokend.PermUsersWrite, func(tb testing.TB) request {
			u := MustUser(tb, e, a.ID, wire.UserInput{Username: freshName()})
			return request{"DELETE", sa + "/users/" + u.Username, nil}
		}, scoped(204)},
		{"Healthz", tokend.PermServicesRead, fixed("GET", "/healthz", nil), [nCallers]int{200, 200, 200, 200, 200, 200, 200, 200}},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			for caller := range nCallers {
				req := rt.setup(t)
				want := rt.want[caller]
				// Refused writes must change nothing. (Reads are spared the
				// check: under the race detector it dominates the run.)
				check := want >= 400 && req.method != "GET"
				var before snapshot
				if check {
					before = MustSnapshot(t, e)
				}
				res := e.Do(t, req.method, req.path, keys[rt.perm][caller], req.body)
				if res.status != rt.want[caller] {
					t.Errorf("%s: %s %s = %s, want %d", callerNames[caller], req.method, req.path, res, rt.want[caller])
					continue
				}
				if check {
					MustUnchanged(t, e, before)
				}
				if res.status == 401 && res.header.Get("WWW-Authenticate") != `Bearer realm="tokend"` {
					t.Errorf("%s: 401 without WWW-Authenticate", callerNames[caller])
				}
			}
		})
	}

	// Lists made by a service key show only its own service.
	var list wire.ServiceList
	e.MustDo(t, "GET", "/v1/services", keys[tokend.PermServicesRead][bWith], nil, 200, &list)
	if len(list.Services) != 1 || list.Services[0].ID != b.ID {
		t.Fatalf("service B key lists %+v", list.Services)
	}
	var kl wire.KeyList
	e.MustDo(t, "GET", sa+"/keys", keys[tokend.PermKeysRead][aWith], nil, 200, &kl)
	for _, k := range kl.Keys {
		if k.ServiceID == nil || *k.ServiceID != a.ID || k.Key != "" {
			t.Fatalf("service A key lists %+v", k)
		}
	}
}
