package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

func TestHealthz(t *testing.T) {
	e := MustEnv(t)
	var h wire.Health
	e.MustDo(t, "GET", "/healthz", "", nil, http.StatusOK, &h)
	if h.Status != "ok" {
		t.Fatalf("healthz = %+v", h)
	}
}

func TestServices(t *testing.T) {
	e := MustEnv(t)
	var s wire.Service
	e.MustDo(t, "POST", "/v1/services", e.root, wire.ServiceInput{
		Name:               ptr("photos"),
		ScopesSupported:    &[]string{"read", "write"},
		AccessTokenTTL:     ptr[int64](600),
		RefreshTokenPolicy: &wire.RefreshPolicy{Rotate: ptr(false), ReuseGrace: ptr[int64](30)},
	}, http.StatusCreated, &s)
	if s.ID == 0 || s.Name != "photos" || s.AccessTokenTTL != 600 || s.RefreshTokenTTL != int64(tokend.DefaultRefreshTokenTTL/time.Second) {
		t.Fatalf("created %+v", s)
	}
	if want := fmt.Sprintf("%s/oauth/%d", baseURL, s.ID); s.Issuer != want {
		t.Errorf("issuer = %q, want %q", s.Issuer, want)
	}
	if *s.RefreshTokenPolicy.Rotate || *s.RefreshTokenPolicy.ReuseGrace != 30 || *s.RefreshTokenPolicy.KeepExpiry {
		t.Errorf("refresh policy = %+v", s.RefreshTokenPolicy)
	}
	if !slices.Equal(s.ScopesSupported, []string{"read", "write"}) || len(s.GrantTypesSupported) == 0 {
		t.Errorf("scopes %v grants %v", s.ScopesSupported, s.GrantTypesSupported)
	}

	var got wire.Service
	path := fmt.Sprintf("/v1/services/%d", s.ID)
	e.MustDo(t, "GET", path, e.root, nil, http.StatusOK, &got)
	if got.ID != s.ID || got.Name != "photos" {
		t.Errorf("get = %+v", got)
	}

	e.clock.Advance(time.Second)
	var upd wire.Service
	e.MustDo(t, "PATCH", path, e.root, wire.ServiceInput{
		Description: ptr("pictures"), Issuer: ptr("https://photos.example.com"),
		RefreshTokenPolicy: &wire.RefreshPolicy{KeepExpiry: ptr(true)},
	}, http.StatusOK, &upd)
	if upd.Description != "pictures" || upd.Issuer != "https://photos.example.com" || upd.Name != "photos" ||
		!*upd.RefreshTokenPolicy.KeepExpiry || *upd.RefreshTokenPolicy.ReuseGrace != 30 || !upd.UpdatedAt.After(upd.CreatedAt) {
		t.Errorf("patched %+v", upd)
	}
	e.MustDo(t, "PATCH", path, e.root, wire.ServiceInput{Issuer: ptr("")}, http.StatusOK, &upd)
	if want := fmt.Sprintf("%s/oauth/%d", baseURL, s.ID); upd.Issuer != want {
		t.Errorf("issuer reset = %q, want %q", upd.Issuer, want)
	}

	other := MustService(t, e, e.root, wire.ServiceInput{Name: ptr("other")})
	var list wire.ServiceList
	e.MustDo(t, "GET", "/v1/services", e.root, nil, http.StatusOK, &list)
	if len(list.Services) != 2 {
		t.Fatalf("list = %+v", list)
	}
	if other.ScopesSupported == nil {
		t.Errorf("empty scopes_supported should be [], not null")
	}

	e.MustDo(t, "DELETE", path, e.root, nil, http.StatusNoContent, nil)
	e.MustError(t, "GET", path, e.root, nil, http.StatusNotFound, "not_found", "")
	e.MustDo(t, "GET", "/v1/services", e.root, nil, http.StatusOK, &list)
	if len(list.Services) != 1 || list.Services[0].ID != other.ID {
		t.Fatalf("after delete: %+v", list)
	}
	e.MustError(t, "PATCH", "/v1/services/abc", e.root, wire.ServiceInput{}, http.StatusBadRequest, "invalid", "sid")
	e.MustError(t, "DELETE", "/v1/services/0", e.root, nil, http.StatusBadRequest, "invalid", "sid")
}

func TestClients(t *testing.T) {
	e := MustEnv(t)
	svc := MustPhotos(t, e, "photos")
	base := fmt.Sprintf("/v1/services/%d/clients", svc.ID)

	conf := MustClient(t, e, e.root, svc.ID, wire.ClientInput{
		Name: ptr("web"), RedirectURIs: &[]string{"https://app.example.com/cb"}, Scopes: &[]string{"photos.read"},
	})
	if conf.ClientSecret == "" || !strings.HasPrefix(conf.ClientSecret, "tks_") || conf.Type != "CONFIDENTIAL" || conf.ServiceID != svc.ID {
		t.Fatalf("created %+v", conf)
	}
	pub := MustClient(t, e, e.root, svc.ID, wire.ClientInput{Name: ptr("mobile"), Type: ptr("PUBLIC"), ClientID: ptr("mobile-app")})
	if pub.ClientSecret != "" || pub.ClientID != "mobile-app" || slices.Contains(pub.GrantTypes, "CLIENT_CREDENTIALS") {
		t.Fatalf("public client %+v", pub)
	}

	for _, ref := range []string{fmt.Sprint(conf.ID), conf.ClientID} {
		var got wire.Client
		e.MustDo(t, "GET", base+"/"+ref, e.root, nil, http.StatusOK, &got)
		if got.ID != conf.ID || got.ClientSecret != "" {
			t.Errorf("GET by %q = %+v", ref, got)
		}
	}
	var upd wire.Client
	e.MustDo(t, "PATCH", base+"/mobile-app", e.root, wire.ClientInput{Description: ptr("ios"), FirstParty: ptr(true)}, http.StatusOK, &upd)
	if upd.Description != "ios" || !upd.FirstParty || upd.Name != "mobile" {
		t.Errorf("patched %+v", upd)
	}
	e.MustError(t, "PATCH", base+"/mobile-app", e.root, wire.ClientInput{ClientID: ptr("x")}, http.StatusBadRequest, "invalid", "client_id")

	var rotated wire.Client
	e.MustDo(t, "POST", base+"/"+conf.ClientID+"/secret", e.root, nil, http.StatusOK, &rotated)
	if rotated.ClientSecret == "" || rotated.ClientSecret == conf.ClientSecret {
		t.Errorf("rotate gave %q (was %q)", rotated.ClientSecret, conf.ClientSecret)
	}
	e.MustError(t, "POST", base+"/mobile-app/secret", e.root, nil, http.StatusBadRequest, "invalid", "client")

	// A client of another service is not found through this one.
	other := MustPhotos(t, e, "other")
	foreign := MustClient(t, e, e.root, other.ID, wire.ClientInput{})
	e.MustError(t, "GET", fmt.Sprintf("%s/%d", base, foreign.ID), e.root, nil, http.StatusNotFound, "not_found", "")
	e.MustError(t, "GET", base+"/"+foreign.ClientID, e.root, nil, http.StatusNotFound, "not_found", "")

	e.MustDo(t, "DELETE", base+"/mobile-app", e.root, nil, http.StatusNoContent, nil)
	e.MustError(t, "GET", base+"/mobile-app", e.root, nil, http.StatusNotFound, "not_found", "")
}

func TestClientPaging(t *testing.T) {
	e := MustEnv(t)
	svc := MustPhotos(t, e, "photos")
	base := fmt.Sprintf("/v1/services/%d/clients", svc.ID)
	var want []int64
	for i := range 7 {
		want = append(want, MustClient(t, e, e.root, svc.ID, wire.ClientInput{Name: ptr(fmt.Sprint("app", i))}).ID)
	}
	slices.Sort(want)

	var all wire.ClientList
	e.MustDo(t, "GET", base, e.root, nil, http.StatusOK, &all)
	if len(all.Clients) != 7 || all.NextPageToken != "" {
		t.Fatalf("default page: %d clients, next %q", len(all.Clients), all.NextPageToken)
	}

	// A page that ends exactly at the last client promises no next page.
	var exact wire.ClientList
	e.MustDo(t, "GET", base+"?page_size=7", e.root, nil, http.StatusOK, &exact)
	if len(exact.Clients) != 7 || exact.NextPageToken != "" {
		t.Fatalf("page_size=7: %d clients, next %q", len(exact.Clients), exact.NextPageToken)
	}

	var got []int64
	token, pages := "", 0
	for {
		var page wire.ClientList
		q := "?page_size=3"
		if token != "" {
			q += "&page_token=" + token
		}
		e.MustDo(t, "GET", base+q, e.root, nil, http.StatusOK, &page)
		for _, c := range page.Clients {
			got = append(got, c.ID)
		}
		pages++
		if page.NextPageToken == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		token = page.NextPageToken
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("paged ids %v in %d pages, want %v in 3", got, pages, want)
	}
	for _, bad := range []string{"page_token=%21%21", "page_token=MTIz%3D", "page_token=LTU", "page_token=YWJj"} {
		before := MustSnapshot(t, e)
		e.MustError(t, "GET", base+"?"+bad, e.root, nil, http.StatusBadRequest, "invalid", "page_token")
		MustUnchanged(t, e, before)
	}
	for _, bad := range []string{"page_size=0", "page_size=1001", "page_size=-1", "page_size=ten"} {
		e.MustError(t, "GET", base+"?"+bad, e.root, nil, http.StatusBadRequest, "invalid", "page_size")
	}
	e.MustError(t, "GET", base+"?pagesize=3", e.root, nil, http.StatusBadRequest, "invalid", "pagesize")
}

func TestKeys(t *testing.T) {
	e := MustEnv(t)
	svc := MustPhotos(t, e, "photos")
	for _, base := range []string{"/v1/keys", fmt.Sprintf("/v1/services/%d/keys", svc.ID)} {
		t.Run(base, func(t *testing.T) {
			var k wire.Key
			e.MustDo(t, "POST", base, e.root, wire.KeyInput{Name: "ci", Permissions: []string{"tokens.read", "tokens.read"}, TTL: 3600}, http.StatusCreated, &k)
			if !strings.HasPrefix(k.Key, "tkk_") || !slices.Equal(k.Permissions, []string{"tokens.read"}) ||
				k.ExpiresAt == nil || !k.ExpiresAt.Equal(k.CreatedAt.Add(time.Hour)) {
				t.Fatalf("created %+v", k)
			}
			if base == "/v1/keys" && k.ServiceID != nil || base != "/v1/keys" && (k.ServiceID == nil || *k.ServiceID != svc.ID) {
				t.Errorf("service_id = %v", k.ServiceID)
			}
			var list wire.KeyList
			e.MustDo(t, "GET", base, e.root, nil, http.StatusOK, &list)
			found := false
			for _, l := range list.Keys {
				if l.Key != "" {
					t.Errorf("list shows a key's value")
				}
				found = found || l.ID == k.ID
			}
			if !found {
				t.Fatalf("new key %d not listed in %+v", k.ID, list)
			}
			// The new key works, and only for what it may do.
			e.MustDo(t, "GET", fmt.Sprintf("/v1/services/%d/tokens", svc.ID), k.Key, nil, http.StatusOK, nil)
			e.MustError(t, "GET", fmt.Sprintf("/v1/services/%d/clients", svc.ID), k.Key, nil, http.StatusForbidden, "forbidden", "")

			e.MustDo(t, "DELETE", fmt.Sprintf("%s/%d", base, k.ID), e.root, nil, http.StatusNoContent, nil)
			e.MustError(t, "GET", fmt.Sprintf("/v1/services/%d/tokens", svc.ID), k.Key, nil, http.StatusUnauthorized, "unauthorized", "")
			e.MustError(t, "DELETE", fmt.Sprintf("%s/%d", base, k.ID), e.root, nil, http.StatusNotFound, "not_found", "")
			e.MustError(t, "DELETE", base+"/k1", e.root, nil, http.StatusBadRequest, "invalid", "kid")
		})
	}
	// A key expires.
	var k wire.Key
	e.MustDo(t, "POST", "/v1/keys", e.root, wire.KeyInput{Name: "short", Permissions: []string{"services.read"}, TTL: 60}, http.StatusCreated, &k)
	e.MustDo(t, "GET", "/v1/services", k.Key, nil, http.StatusOK, nil)
	e.clock.Advance(time.Minute)
	e.MustError(t, "GET", "/v1/services", k.Key, nil, http.StatusUnauthorized, "unauthorized", "")
	// A key cannot grant what it does not hold.
	weak := MustKey(t, e, 0, tokend.PermKeysWrite)
	e.MustError(t, "POST", "/v1/keys", weak, wire.KeyInput{Name: "x", Permissions: []string{"tokens.write"}}, http.StatusForbidden, "forbidden", "")
}

func TestAuthentication(t *testing.T) {
	e := MustEnv(t)
	// One character of the key changed; never to the one it had.
	swap := "x"
	if strings.HasSuffix(e.root, swap) {
		swap = "y"
	}
	for name, header := range map[string]string{
		"Missing":     "",
		"WrongScheme": "Basic dXNlcjpwYXNz",
		"EmptyBearer": "Bearer ",
		"Unknown":     "Bearer " + tokend.NewSecret(tokend.KindManagementKey),
		"Mistyped":    "Bearer " + e.root[:len(e.root)-1] + swap,
		"NotAKey":     "Bearer " + tokend.NewSecret(tokend.KindAccessToken),
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/v1/services", nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Bearer realm="tokend"` {
				t.Fatalf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	req, _ := http.NewRequest("GET", e.url+"/v1/services", nil)
	req.Header.Set("Authorization", "bearer "+e.root)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("lower-case scheme: %d, want 200 (RFC 7235: schemes are case-insensitive)", res.StatusCode)
	}
}
