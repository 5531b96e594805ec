package authlete

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func TestClientAuthorizations(t *testing.T) {
	e := MustEnv(t)
	other, _ := e.MustClient(t, e.svc, tokend.ClientInput{Name: ptr("other app"), Developer: ptr("globex")})
	e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read"}})
	e.clock.Advance(time.Second)
	e.MustIssue(t, tokend.TokenInput{Client: other.ClientID, Scopes: []string{"write"}})
	e.MustIssue(t, tokend.TokenInput{Subject: "ann", Scopes: []string{"read"}})

	t.Run("ListBothForms", func(t *testing.T) {
		for _, tt := range []struct {
			name, method, path string
			body               any
		}{
			{"SDK", "GET", "client/authorization/get/list/john?subject=john", nil},
			{"Java", "POST", "client/authorization/get/list", obj{"subject": "john"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				o := e.MustResult(t, tt.method, e.path("%s", tt.path), e.root, tt.body, "A201101")
				cs := o.objs("clients")
				if o.num("totalCount") != 2 || len(cs) != 2 || o.str("subject") != "john" || o.num("start") != 0 || o.num("end") != 2 {
					t.Fatalf("list %v", o)
				}
				// Newest grant first.
				if cs[0].num("clientId") != other.ID || cs[0].str("clientName") != "other app" || cs[1].num("clientId") != e.cl.ID || cs[1].str("clientIdAlias") != e.cl.ClientID {
					t.Fatalf("clients %v", cs)
				}
			})
		}
	})
	t.Run("ListByDeveloperAndRange", func(t *testing.T) {
		o := e.MustResult(t, "GET", e.path("client/authorization/get/list/john?developer=acme"), e.root, nil, "A201101")
		if cs := o.objs("clients"); o.num("totalCount") != 1 || len(cs) != 1 || cs[0].num("clientId") != e.cl.ID || o.str("developer") != "acme" {
			t.Fatalf("developer acme: %v", o)
		}
		o = e.MustResult(t, "POST", e.path("client/authorization/get/list"), e.root, obj{"subject": "john", "start": 1, "end": 5}, "A201101")
		if cs := o.objs("clients"); o.num("totalCount") != 2 || len(cs) != 1 || cs[0].num("clientId") != e.cl.ID || o.num("end") != 2 {
			t.Fatalf("range 1..5: %v", o)
		}
	})
	t.Run("GrantedScopesBothForms", func(t *testing.T) {
		e.MustIssue(t, tokend.TokenInput{Scopes: []string{"write"}})
		for _, tt := range []struct {
			name, method, path string
			body               any
		}{
			{"SDK", "GET", fmt.Sprintf("client/granted_scopes/get/%d/john?subject=john", e.cl.ID), nil},
			{"Java", "POST", fmt.Sprintf("client/granted_scopes/get/%s", e.cl.ClientID), obj{"subject": "john"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				o := e.MustResult(t, tt.method, e.path("%s", tt.path), e.root, tt.body, "A204101")
				if !slices.Equal(o.strs("latestGrantedScopes"), []string{"write"}) || !slices.Equal(o.strs("mergedGrantedScopes"), []string{"read", "write"}) ||
					o.num("clientId") != e.cl.ID || o.num("serviceApiKey") != e.svc.ID || o.str("subject") != "john" || o.num("modifiedAt") != e.clock.Now().UnixMilli() {
					t.Fatalf("granted scopes %v", o)
				}
			})
		}
		o := e.MustResult(t, "GET", e.path("client/granted_scopes/get/%d/nobody", e.cl.ID), e.root, nil, "A204101")
		if o["latestGrantedScopes"] != nil || o["mergedGrantedScopes"] != nil || o.num("modifiedAt") != 0 {
			t.Fatalf("nothing granted: %v", o)
		}
	})
	t.Run("UpdateReplacesScopes", func(t *testing.T) {
		e.MustResult(t, "POST", e.path("client/authorization/update/%d", e.cl.ID), e.root, obj{"subject": "john", "scopes": []string{"read"}}, "A202101")
		o := e.MustResult(t, "GET", e.path("client/granted_scopes/get/%d/john", e.cl.ID), e.root, nil, "A204101")
		if !slices.Equal(o.strs("mergedGrantedScopes"), []string{"read"}) {
			t.Fatalf("after update: %v", o)
		}
		o = e.MustResult(t, "GET", e.path("client/granted_scopes/get/%d/ann", e.cl.ID), e.root, nil, "A204101")
		if !slices.Equal(o.strs("mergedGrantedScopes"), []string{"read"}) {
			t.Fatalf("ann's tokens are not john's: %v", o)
		}
	})
	t.Run("DeleteRevokesBothForms", func(t *testing.T) {
		o := e.MustResult(t, "DELETE", e.path("client/authorization/delete/%d/john?subject=john", e.cl.ID), e.root, nil, "A203101")
		if o.num("count") != 2 || o.num("clientId") != e.cl.ID || o.str("subject") != "john" {
			t.Fatalf("delete %v", o)
		}
		o = e.MustResult(t, "POST", e.path("client/granted_scopes/delete/%s", other.ClientID), e.root, obj{"subject": "john"}, "A205101")
		if o.num("count") != 1 {
			t.Fatalf("granted scopes delete %v", o)
		}
		o = e.MustResult(t, "GET", e.path("client/authorization/get/list/john"), e.root, nil, "A201101")
		if o.num("totalCount") != 0 {
			t.Fatalf("john still has connected apps: %v", o)
		}
		o = e.MustResult(t, "POST", e.path("client/authorization/delete/%d", e.cl.ID), e.root, obj{"subject": "ann"}, "A203101")
		if o.num("count") != 1 {
			t.Fatalf("ann: %v", o)
		}
	})

	refusals := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"ErrListSubjectsDiffer", "GET", "client/authorization/get/list/john?subject=ann", nil, 400, "A201201", "subject"},
		{"ErrListNoSubject", "POST", "client/authorization/get/list", obj{}, 400, "A201201", "subject"},
		{"ErrListBadRange", "GET", "client/authorization/get/list/john?start=5&end=1", nil, 400, "A201201", "end"},
		{"ErrUpdateNoScopes", "POST", fmt.Sprintf("client/authorization/update/%d", e.cl.ID), obj{"subject": "john"}, 400, "A202201", "scopes"},
		{"ErrUpdateScopeNotAllowed", "POST", fmt.Sprintf("client/authorization/update/%d", e.cl.ID), obj{"subject": "john", "scopes": []string{"admin"}}, 400, "A202201", "scopes"},
		{"ErrUpdateUnknownClient", "POST", "client/authorization/update/12345", obj{"subject": "john", "scopes": []string{}}, 404, "A202301", ""},
		{"ErrDeleteUnknownClient", "DELETE", "client/authorization/delete/nobody/john", nil, 404, "A203301", ""},
		{"ErrDeleteNoSubject", "POST", fmt.Sprintf("client/authorization/delete/%d", e.cl.ID), obj{}, 400, "A203201", "subject"},
		{"ErrScopesSubjectsDiffer", "GET", fmt.Sprintf("client/granted_scopes/get/%d/john?subject=x", e.cl.ID), nil, 400, "A204201", "subject"},
		{"ErrScopesUnknownClient", "GET", "client/granted_scopes/get/12345/john", nil, 404, "A204301", ""},
		{"ErrScopesDeleteUnknownField", "POST", fmt.Sprintf("client/granted_scopes/delete/%d", e.cl.ID), obj{"subject": "john", "scopes": []string{}}, 400, "A205201", "scopes"},
	}
	e.MustIssue(t, tokend.TokenInput{Scopes: []string{"read"}})
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			e.MustError(t, tt.method, e.path("%s", tt.path), e.root, tt.body, tt.status, tt.code, tt.field)
			e.MustUnchanged(t, before)
		})
	}
}
