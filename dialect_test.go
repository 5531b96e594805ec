package tokend_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// Tests of the core functions the Authlete dialect needs: identifiers,
// grants to clients, the access check and bulk import.

// keyWith returns a principal of f's service holding only perms.
func (f *fixture) keyWith(tb testing.TB, perms ...tokend.Permission) *tokend.Principal {
	tb.Helper()
	ctx := context.Background()
	_, raw, err := f.core.CreateKey(ctx, f.org, f.svc.ID, tokend.KeyInput{Name: "k", Permissions: perms})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := f.core.AuthenticateKey(ctx, raw)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func hashOf(v string) string { h := tokend.HashSecret(v); return h.String() }

func TestResolveToken(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	it := f.MustIssue(t, "john", "read")
	migrated, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
		Client: f.cl.ClientID, GrantType: tokend.GrantPassword, Subject: "mig",
		AccessToken:  "tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco", // shaped like a hash, as Authlete's values are
		RefreshToken: "jv4B_7_kpY-Rez_E7bYIxGYnZk43w18uigkaeUe6tc4",
	})
	if err != nil {
		t.Fatal(err)
	}
	revoked := f.MustIssue(t, "ann", "read")
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		id     tokend.TokenIdentifier
		sid    int64
		wantID int64
		code   string
		field  string
	}{
		{"OKByValue", tokend.TokenIdentifier{Value: it.AccessToken}, 0, it.Token.ID, "", ""},
		{"OKByHash", tokend.TokenIdentifier{Value: hashOf(it.AccessToken)}, 0, it.Token.ID, "", ""},
		{"OKForeignValueShapedLikeAHash", tokend.TokenIdentifier{Value: "tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco"}, 0, migrated.Token.ID, "", ""},
		{"OKRefreshByValue", tokend.TokenIdentifier{Value: it.RefreshToken, Refresh: true}, 0, it.Token.ID, "", ""},
		{"OKRefreshByHash", tokend.TokenIdentifier{Value: hashOf(it.RefreshToken), Refresh: true, Match: tokend.MatchHash}, 0, it.Token.ID, "", ""},
		{"OKRevokedWhenNotSkipped", tokend.TokenIdentifier{Value: revoked.AccessToken}, 0, revoked.Token.ID, "", ""},
		{"ErrRevokedSkipped", tokend.TokenIdentifier{Value: revoked.AccessToken, SkipRevoked: true}, 0, 0, tokend.ENOTFOUND, ""},
		{"ErrRefreshValueAsAccess", tokend.TokenIdentifier{Value: it.RefreshToken}, 0, 0, tokend.ENOTFOUND, ""},
		{"ErrHashReadAsValueOnly", tokend.TokenIdentifier{Value: hashOf(it.AccessToken), Match: tokend.MatchValue}, 0, 0, tokend.ENOTFOUND, ""},
		{"ErrValueReadAsHashOnly", tokend.TokenIdentifier{Value: it.AccessToken, Match: tokend.MatchHash}, 0, 0, tokend.EINVALID, "access_token_hash"},
		{"ErrEmpty", tokend.TokenIdentifier{}, 0, 0, tokend.EINVALID, "access_token"},
		{"ErrUnknown", tokend.TokenIdentifier{Value: "no-such-token-value-at-all"}, 0, 0, tokend.ENOTFOUND, ""},
		{"ErrAnotherServicesToken", tokend.TokenIdentifier{Value: it.AccessToken}, other.ID, 0, tokend.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid := f.svc.ID
			if tt.sid != 0 {
				sid = tt.sid
			}
			got, err := f.core.ResolveToken(ctx, f.org, sid, tt.id, tokend.PermTokensWrite)
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.field)
				return
			}
			if err != nil || got.ID != tt.wantID {
				t.Fatalf("ResolveToken = %v, %v; want token %d", got, err, tt.wantID)
			}
		})
	}
	t.Run("ErrForbiddenWithoutThePermission", func(t *testing.T) {
		_, err := f.core.ResolveToken(ctx, f.keyWith(t, tokend.PermTokensRead), f.svc.ID, tokend.TokenIdentifier{Value: it.AccessToken}, tokend.PermTokensWrite)
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
}

func TestGrantScopes(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	first := f.MustIssue(t, "john", "read", "write")
	f.clock.Advance(time.Minute)
	second := f.MustIssue(t, "john", "read")
	other := f.MustIssue(t, "ann", "read", "write")

	got, err := f.core.GrantedScopes(ctx, f.org, f.svc.ID, f.cl.ClientID, "john")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Latest, []string{"read"}) || !slices.Equal(got.Merged, []string{"read", "write"}) || !got.ModifiedAt.Equal(second.Token.CreatedAt) {
		t.Fatalf("GrantedScopes = %+v; want latest [read], merged [read write], modified at the second token", got)
	}
	none, err := f.core.GrantedScopes(ctx, f.org, f.svc.ID, formatInt(f.cl.ID), "nobody")
	if err != nil || none.Latest != nil || none.Merged != nil || !none.ModifiedAt.IsZero() || none.Client.ID != f.cl.ID {
		t.Fatalf("GrantedScopes(nobody) = %+v, %v; want the client and nothing granted", none, err)
	}

	refusals := []struct {
		name   string
		p      *tokend.Principal
		client string
		scopes []string
		code   string
		field  string
	}{
		{"ErrScopeNotAllowedToClient", f.org, f.cl.ClientID, []string{"admin"}, tokend.EINVALID, "scopes"},
		{"ErrUnknownClient", f.org, "no-such-client", []string{"read"}, tokend.ENOTFOUND, ""},
		{"ErrForbidden", f.keyWith(t, tokend.PermTokensRead), f.cl.ClientID, []string{"read"}, tokend.EFORBIDDEN, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			n, err := f.core.UpdateGrantScopes(ctx, tt.p, f.svc.ID, tt.client, "john", tt.scopes)
			wantCode(t, err, tt.code, tt.field)
			if n != 0 {
				t.Fatalf("a refused update changed %d tokens", n)
			}
			tok, _ := f.core.GetToken(ctx, f.org, f.svc.ID, first.Token.ID)
			if !slices.Equal(tok.Scopes, []string{"read", "write"}) {
				t.Fatalf("a refused update changed the scopes to %v", tok.Scopes)
			}
		})
	}
	t.Run("OKReplacesScopesOfTheSubjectsTokens", func(t *testing.T) {
		n, err := f.core.UpdateGrantScopes(ctx, f.org, f.svc.ID, f.cl.ClientID, "john", []string{"write"})
		if err != nil || n != 2 {
			t.Fatalf("UpdateGrantScopes = %d, %v; want 2 tokens changed", n, err)
		}
		for _, it := range []*tokend.IssuedToken{first, second} {
			tok, _ := f.core.GetToken(ctx, f.org, f.svc.ID, it.Token.ID)
			if !slices.Equal(tok.Scopes, []string{"write"}) || !slices.Equal(tok.EffectiveRefreshScopes(), []string{"write"}) {
				t.Fatalf("token %d scopes %v refresh %v; want [write] for both", tok.ID, tok.Scopes, tok.EffectiveRefreshScopes())
			}
		}
		tok, _ := f.core.GetToken(ctx, f.org, f.svc.ID, other.Token.ID)
		if !slices.Equal(tok.Scopes, []string{"read", "write"}) {
			t.Fatalf("another subject's token changed: %v", tok.Scopes)
		}
	})

	t.Run("AuthorizedClientsByDeveloper", func(t *testing.T) {
		for _, tt := range []struct {
			name      string
			developer *string
			want      int
		}{{"All", nil, 1}, {"OtherDeveloper", ptr("acme"), 0}, {"OwnDeveloper", ptr(""), 1}} {
			gs, err := f.core.AuthorizedClients(ctx, f.org, f.svc.ID, "john", tt.developer)
			if err != nil || len(gs) != tt.want {
				t.Fatalf("%s: AuthorizedClients = %d, %v; want %d", tt.name, len(gs), err, tt.want)
			}
		}
	})
}

func TestCheckAccessToken(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	cert := []byte("a DER certificate, as far as the thumbprint cares")
	sum := sha256.Sum256(cert)
	thumb := base64.RawURLEncoding.EncodeToString(sum[:])
	live := f.MustIssue(t, "john", "read")
	issue := func(in tokend.TokenInput) *tokend.IssuedToken {
		in.Client, in.GrantType, in.Subject = f.cl.ClientID, tokend.GrantAuthorizationCode, "john"
		it, err := f.core.CreateToken(ctx, f.org, f.svc.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	bound := issue(tokend.TokenInput{CertThumbprint: thumb})
	dpop := issue(tokend.TokenInput{DPoPThumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"})
	short := issue(tokend.TokenInput{AccessTokenTTL: time.Minute})
	revoked := f.MustIssue(t, "john", "read")
	if _, err := f.core.RevokeTokens(ctx, f.org, f.svc.ID, tokend.RevokeRequest{TokenID: revoked.Token.ID}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)

	tests := []struct {
		name                                  string
		q                                     tokend.AccessCheck
		want                                  tokend.AccessProblem
		existent, usable, sufficient, refresh bool
	}{
		{"OK", tokend.AccessCheck{Token: live.AccessToken, Scopes: []string{"read"}, Subject: "john"}, tokend.AccessOK, true, true, true, true},
		{"Missing", tokend.AccessCheck{}, tokend.AccessMissing, false, false, false, false},
		{"Unknown", tokend.AccessCheck{Token: "never-issued-value-123"}, tokend.AccessUnknown, false, false, false, false},
		{"RefreshTokenIsNoAccessToken", tokend.AccessCheck{Token: live.RefreshToken}, tokend.AccessUnknown, false, false, false, false},
		{"RevokedIsGone", tokend.AccessCheck{Token: revoked.AccessToken}, tokend.AccessUnknown, false, false, false, false},
		{"Expired", tokend.AccessCheck{Token: short.AccessToken}, tokend.AccessExpired, true, false, true, true},
		{"InsufficientScope", tokend.AccessCheck{Token: live.AccessToken, Scopes: []string{"write"}}, tokend.AccessScope, true, true, false, true},
		{"OtherSubject", tokend.AccessCheck{Token: live.AccessToken, Subject: "ann"}, tokend.AccessSubject, true, true, true, true},
		{"CertificateMissing", tokend.AccessCheck{Token: bound.AccessToken}, tokend.AccessCertificate, true, false, true, true},
		{"CertificateWrong", tokend.AccessCheck{Token: bound.AccessToken, Certificate: []byte("another")}, tokend.AccessCertificate, true, false, true, true},
		{"CertificateRight", tokend.AccessCheck{Token: bound.AccessToken, Certificate: cert}, tokend.AccessOK, true, true, true, true},
		{"DPoPUnchecked", tokend.AccessCheck{Token: dpop.AccessToken}, tokend.AccessDPoP, true, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.core.CheckAccessToken(ctx, f.org, f.svc.ID, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Problem != tt.want || got.Existent != tt.existent || got.Usable != tt.usable ||
				got.Sufficient != tt.sufficient || got.Refreshable != tt.refresh {
				t.Fatalf("CheckAccessToken = %+v; want problem %q existent %v usable %v sufficient %v refreshable %v",
					got, tt.want, tt.existent, tt.usable, tt.sufficient, tt.refresh)
			}
			if tt.existent && (got.Token == nil || got.Client == nil || got.Client.ID != f.cl.ID) {
				t.Fatalf("an existing token comes with its record and client: %+v", got)
			}
		})
	}
	t.Run("ErrBadScope", func(t *testing.T) {
		_, err := f.core.CheckAccessToken(ctx, f.org, f.svc.ID, tokend.AccessCheck{Token: live.AccessToken, Scopes: []string{"a b"}})
		wantCode(t, err, tokend.EINVALID, "scopes")
	})
	t.Run("ErrForbiddenWithoutIntrospect", func(t *testing.T) {
		_, err := f.core.CheckAccessToken(ctx, f.keyWith(t, tokend.PermTokensRead), f.svc.ID, tokend.AccessCheck{Token: live.AccessToken})
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
}

func TestImports(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	im := tokend.NewImports(f.core)
	if _, err := f.core.CreateToken(ctx, f.org, f.svc.ID, tokend.TokenInput{
		Client: f.cl.ClientID, GrantType: tokend.GrantPassword, Subject: "old", AccessToken: "existing-access-value-0001",
	}); err != nil {
		t.Fatal(err)
	}
	item := func(i int) tokend.TokenInput {
		return tokend.TokenInput{
			Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: fmt.Sprintf("user%d", i),
			Scopes: []string{"read"}, AccessToken: fmt.Sprintf("migrated-access-value-%04d", i),
			RefreshToken: fmt.Sprintf("migrated-refresh-value-%04d", i),
		}
	}
	count := func(t *testing.T) int {
		l, err := f.core.ListTokens(ctx, f.org, f.svc.ID, tokend.TokenQuery{Status: tokend.StatusAll})
		if err != nil {
			t.Fatal(err)
		}
		return l.TotalCount
	}

	t.Run("RejectedPerItemAndNothingWritten", func(t *testing.T) {
		before := count(t)
		items := []tokend.TokenInput{item(1), item(2), item(3), item(4), item(5), item(6)}
		items[1].AccessToken = ""                           // generated values would be lost
		items[2].Scopes = []string{"admin"}                 // not allowed to the client
		items[3].AccessToken = items[0].AccessToken         // twice in the batch
		items[4].AccessToken = "existing-access-value-0001" // already stored
		items[5].Client = "no-such-client"                  // unknown client
		_, err := im.Import(ctx, f.org, f.svc.ID, items, false)
		var rej *tokend.ImportRejected
		if !errors.As(err, &rej) || tokend.ErrorCode(err) != tokend.EINVALID {
			t.Fatalf("Import = %v; want an ImportRejected", err)
		}
		want := []struct {
			index int
			code  string
			field string
		}{{1, tokend.EINVALID, "access_token"}, {2, tokend.EINVALID, "scopes"}, {3, tokend.ECONFLICT, "access_token"},
			{4, tokend.ECONFLICT, "access_token"}, {5, tokend.ENOTFOUND, ""}}
		if len(rej.Items) != len(want) {
			t.Fatalf("items refused: %+v; want %d of them", rej.Items, len(want))
		}
		for i, w := range want {
			got := rej.Items[i]
			if got.Index != w.index || tokend.ErrorCode(got.Err) != w.code || tokend.ErrorField(got.Err) != w.field {
				t.Errorf("item %d refused with %v; want index %d code %s field %q", i, got, w.index, w.code, w.field)
			}
		}
		if after := count(t); after != before {
			t.Fatalf("a refused batch stored %d tokens", after-before)
		}
	})
	t.Run("ErrEmptyAndTooLarge", func(t *testing.T) {
		_, err := im.Import(ctx, f.org, f.svc.ID, nil, false)
		wantCode(t, err, tokend.EINVALID, "body")
		_, err = im.Import(ctx, f.org, f.svc.ID, make([]tokend.TokenInput, tokend.MaxImportTokens+1), false)
		wantCode(t, err, tokend.EINVALID, "body")
	})
	t.Run("ErrForbiddenReadOnlyKey", func(t *testing.T) {
		_, err := im.Import(ctx, f.keyWith(t, tokend.PermTokensRead), f.svc.ID, []tokend.TokenInput{item(1)}, false)
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
	t.Run("DryRunValidatesWithoutWriting", func(t *testing.T) {
		before := count(t)
		st, err := im.Import(ctx, f.org, f.svc.ID, []tokend.TokenInput{item(1), item(2)}, true)
		if err != nil || st.State != tokend.ImportValidated || st.Total != 2 || st.Stored != 0 || !st.DryRun {
			t.Fatalf("dry run = %+v, %v", st, err)
		}
		if after := count(t); after != before {
			t.Fatalf("a dry run stored %d tokens", after-before)
		}
		got, err := im.Status(f.org, f.svc.ID, st.ID)
		if err != nil || got.State != tokend.ImportValidated {
			t.Fatalf("Status of a dry run = %+v, %v", got, err)
		}
	})
	t.Run("OKStoresAllWithTheirValues", func(t *testing.T) {
		items := []tokend.TokenInput{item(1), item(2), item(3)}
		items[2].RefreshToken = "" // no refresh value: no refresh token
		st, err := im.Import(ctx, f.org, f.svc.ID, items, false)
		if err != nil || st.State != tokend.ImportSucceeded || st.Stored != 3 {
			t.Fatalf("Import = %+v, %v", st, err)
		}
		for i, in := range items {
			tok, err := f.core.FindToken(ctx, f.org, f.svc.ID, tokend.TokenRef{Value: in.AccessToken})
			if err != nil || tok.Subject != in.Subject || tok.HasRefresh() != (i < 2) {
				t.Fatalf("item %d stored as %+v, %v", i, tok, err)
			}
		}
		got, err := im.Status(f.org, f.svc.ID, st.ID)
		if err != nil || got.State != tokend.ImportSucceeded || got.Stored != 3 {
			t.Fatalf("Status = %+v, %v", got, err)
		}
		// The same batch again is refused whole: every value is now stored.
		_, err = im.Import(ctx, f.org, f.svc.ID, items, false)
		var rej *tokend.ImportRejected
		if !errors.As(err, &rej) || len(rej.Items) != 3 {
			t.Fatalf("re-sent batch: %v; want all 3 items refused as existing", err)
		}
	})
	t.Run("StatusOfAnotherServiceIsNotFound", func(t *testing.T) {
		st, err := im.Import(ctx, f.org, f.svc.ID, []tokend.TokenInput{item(9)}, true)
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = im.Status(f.org, other.ID, st.ID)
		wantCode(t, err, tokend.ENOTFOUND, "")
		_, err = im.Status(f.org, f.svc.ID, "no-such-batch")
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
}
