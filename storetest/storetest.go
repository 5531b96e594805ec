// Package storetest is the conformance suite every tokend.Store backend must
// pass. A backend's test calls RunTests with a constructor for an empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storetest.RunTests(t, func(t *testing.T) tokend.Store { return mustOpen(t) })
//	}
//
// The suite checks the contracts written on tokend.Store, so that SQLite and
// PostgreSQL behave alike where the core can see it. Where it asks for more
// than the contract spells out (token ids are never reused), the test says
// why.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// RunTests runs the whole suite. newStore must return an empty store and
// arrange for it to be closed when t ends; every group gets its own.
func RunTests(t *testing.T, newStore func(t *testing.T) tokend.Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, s tokend.Store)
	}{
		{"Ready", testReady},
		{"Services", testServices},
		{"Clients", testClients},
		{"ClientsByClientID", testClientsByClientID},
		{"Keys", testKeys},
		{"Tokens", testTokens},
		{"TokenFilters", testTokenFilters},
		{"TokenPaging", testTokenPaging},
		{"TokenStatus", testTokenStatus},
		{"RevokeTokens", testRevokeTokens},
		{"DeleteClient", testDeleteClient},
		{"DeleteService", testDeleteService},
		{"SubjectGrants", testSubjectGrants},
		{"Concurrency", testConcurrency},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ImportTokens", testImportTokens},
		{"Rotation", testRotation},
		{"RotationRace", testRotationRace},
		{"AuthorizationCodes", testCodes},
		{"Users", testUsers},
		{"Context", testContext},
		{"Janitor", testJanitor},
		{"JanitorUnderLoad", testJanitorUnderLoad},
		{"Audit", testAudit},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			g.run(t, newStore(t))
		})
	}
}

// t0 is a fixed, millisecond-precise instant well after the epoch, so
// relative times in tests never cross it.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

var hashSeq atomic.Uint64

// newHash returns a hash no other call returns.
func newHash() tokend.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], hashSeq.Add(1))
	return sha256.Sum256(b[:])
}

// mustNoErr fails the test now if err is set.
func mustNoErr(tb testing.TB, err error, what string, args ...any) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantCode checks that err is a domain error with the code and, when field
// is not "", the field.
func wantCode(tb testing.TB, err error, code, field string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s", code)
	}
	var e *tokend.Error
	if !errors.As(err, &e) {
		tb.Fatalf("got %T %v, want a *tokend.Error with code %s", err, err, code)
	}
	if e.Code != code {
		tb.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	if field != "" && e.Field != field {
		tb.Fatalf("got field %q (%v), want %q", e.Field, err, field)
	}
}

// nilSensitive names the slice fields where nil means something an empty
// slice does not; elsewhere nil and empty are the same value.
var nilSensitive = map[string]bool{"RefreshScopes": true}

var timeType = reflect.TypeFor[time.Time]()

// diff lists where got differs from want. Times compare by instant and must
// come back in UTC; slices compare by content.
func diff(path string, got, want reflect.Value, out *[]string) {
	switch got.Kind() {
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, got, want))
			}
			return
		}
		diff(path, got.Elem(), want.Elem(), out)
	case reflect.Struct:
		if got.Type() == timeType {
			g, w := got.Interface().(time.Time), want.Interface().(time.Time)
			switch {
			case !g.Equal(w) || g.IsZero() != w.IsZero():
				*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, g, w))
			case !g.IsZero() && g.Location() != time.UTC:
				*out = append(*out, fmt.Sprintf("%s: got %v, want it in UTC", path, g))
			}
			return
		}
		for i := range got.NumField() {
			if f := got.Type().Field(i); f.IsExported() {
				diff(path+"."+f.Name, got.Field(i), want.Field(i), out)
			}
		}
	case reflect.Slice:
		name := path[strings.LastIndex(path, ".")+1:]
		if nilSensitive[name] && got.IsNil() != want.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", path, got, want))
			return
		}
		if got.Len() != want.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d elements %v, want %d %v", path, got.Len(), got, want.Len(), want))
			return
		}
		for i := range got.Len() {
			diff(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), out)
		}
	default:
		if got.Interface() != want.Interface() {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
	}
}

// mustEqual fails unless got and want (of the same type) are equal in the
// sense of diff.
func mustEqual[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	var out []string
	diff(what, reflect.ValueOf(got), reflect.ValueOf(want), &out)
	if len(out) > 0 {
		tb.Fatalf("%s differs:\n\t%s", what, strings.Join(out, "\n\t"))
	}
}

func ptr[T any](v T) *T { return &v }

// mustService stores a service with every field set.
func mustService(tb testing.TB, s tokend.Store, id int64) *tokend.Service {
	tb.Helper()
	sv := &tokend.Service{
		ID:                  id,
		Name:                fmt.Sprintf("Service %d", id),
		Description:         "tenant for tests\nsecond line",
		Issuer:              fmt.Sprintf("https://issuer.example/%d", id),
		AccessTokenTTL:      90 * time.Minute,
		RefreshTokenTTL:     7*24*time.Hour + time.Nanosecond,
		ScopesSupported:     []string{"openid", "profile", "email", "read", "read:all"},
		GrantTypesSupported: []tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantRefreshToken, tokend.GrantClientCredentials},
		RefreshPolicy:       tokend.RefreshPolicy{Rotate: true, ReuseGrace: 30 * time.Second, KeepExpiry: true},
		PasswordCallbackURL: fmt.Sprintf("https://app.example/%d/check password", id),
		AllowPlainPKCE:      true,
		TimeZone:            "Europe/Berlin",
		CreatedAt:           t0,
		UpdatedAt:           t0.Add(time.Second),
	}
	mustNoErr(tb, s.CreateService(context.Background(), sv), "CreateService %d", id)
	return sv
}

// mustClient stores a confidential client with every field set.
func mustClient(tb testing.TB, s tokend.Store, serviceID, id int64) *tokend.Client {
	tb.Helper()
	c := &tokend.Client{
		ID:           id,
		ServiceID:    serviceID,
		ClientID:     fmt.Sprintf("client-%d", id),
		Name:         fmt.Sprintf("Client %d", id),
		Description:  "an app",
		URL:          "https://app.example/",
		Developer:    "Dev Co",
		Type:         tokend.ClientConfidential,
		GrantTypes:   []tokend.GrantType{tokend.GrantAuthorizationCode, tokend.GrantRefreshToken},
		Scopes:       []string{"openid", "profile"},
		RedirectURIs: []string{"https://app.example/cb", "com.example.app:/cb path"},
		FirstParty:   true,
		SecretHash:   newHash(),
		CreatedAt:    t0,
		UpdatedAt:    t0.Add(time.Millisecond),
	}
	mustNoErr(tb, s.CreateClient(context.Background(), c), "CreateClient %d", id)
	return c
}

// fullToken returns an unsaved token with every field set.
func fullToken(serviceID, clientID int64, subject string) *tokend.Token {
	return &tokend.Token{
		ServiceID:        serviceID,
		ClientID:         clientID,
		Subject:          subject,
		GrantType:        tokend.GrantAuthorizationCode,
		AccessHash:       newHash(),
		RefreshHash:      newHash(),
		Scopes:           []string{"openid", "profile", "read:all"},
		RefreshScopes:    []string{"openid"},
		CreatedAt:        t0,
		AccessExpiresAt:  t0.Add(time.Hour),
		RefreshExpiresAt: t0.Add(30 * 24 * time.Hour),
		LastRefreshedAt:  t0.Add(time.Minute),
		Properties: []tokend.Property{
			{Key: "tier", Value: "gold plated", Hidden: true},
			{Key: "empty", Value: ""},
			{Key: "ünï", Value: "ç\"\\"},
		},
		AccountID:            "acct-1",
		Roles:                []string{"admin", "user"},
		AuthTime:             t0.Add(-time.Minute),
		ACR:                  "urn:acr:level 2",
		SessionID:            "sess-1",
		Resources:            []string{"https://api.example/a b", "urn:example:api"},
		CertThumbprint:       "x5t-S256_thumb=",
		DPoPThumbprint:       "jkt_thumb",
		AuthorizationDetails: []byte(`[{"type":"payment_initiation","amount":"12.50"}]`),
	}
}

// mustToken stores t and returns it with its id set.
func mustToken(tb testing.TB, s tokend.Store, t *tokend.Token) *tokend.Token {
	tb.Helper()
	mustNoErr(tb, s.CreateToken(context.Background(), t), "CreateToken")
	if t.ID == 0 {
		tb.Fatal("CreateToken left the id zero")
	}
	return t
}

func mustGetToken(tb testing.TB, s tokend.Store, id int64) *tokend.Token {
	tb.Helper()
	t, err := s.GetToken(context.Background(), id)
	mustNoErr(tb, err, "GetToken %d", id)
	return t
}
