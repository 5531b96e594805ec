package oauth

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokend/tokend"
)

// MustCode mints an authorization code the way a host application does
// after it authenticated the user (the management API calls the same).
func MustCode(tb testing.TB, e *env, sid int64, cl *tokend.Client, verifier string) string {
	tb.Helper()
	in := tokend.CodeInput{Client: cl.ClientID, Subject: "alice", Scopes: []string{"read"}, RedirectURI: redirectURI,
		AccountID: "acct-1", Resources: []string{"https://api.example/"}}
	if verifier != "" {
		in.CodeChallenge = oauth2.S256ChallengeFromVerifier(verifier)
	}
	code, _, err := e.core.CreateAuthorizationCode(context.Background(), e.root, sid, in)
	if err != nil {
		tb.Fatalf("CreateAuthorizationCode: %v", err)
	}
	return code
}

func TestAuthorizationCode(t *testing.T) {
	e := MustEnv(t, Options{})
	svc := MustService(t, e, tokend.ServiceInput{})
	cl, secret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	other, otherSecret := MustClient(t, e, svc.ID, tokend.ClientInput{})
	pub, _ := MustClient(t, e, svc.ID, tokend.ClientInput{Type: ptr(tokend.ClientPublic)})
	cfg := e.oauthConfig(svc.ID, cl.ClientID, secret, oauth2.AuthStyleInHeader)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(ctx, MustCode(t, e, svc.ID, cl, v), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken == "" || tok.Extra("scope") != "read" {
			t.Fatalf("token = %+v", tok)
		}
		in := e.Introspect(t, svc.ID, tok.AccessToken)
		if in["sub"] != "alice" || in["account_id"] != "acct-1" || in["client_id"] != cl.ClientID {
			t.Fatalf("introspect = %v", in)
		}
	})
	t.Run("OKPublicClient", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		pcfg := e.oauthConfig(svc.ID, pub.ClientID, "", oauth2.AuthStyleInParams)
		if _, err := pcfg.Exchange(ctx, MustCode(t, e, svc.ID, pub, v), oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrWrongVerifier", func(t *testing.T) {
		code := MustCode(t, e, svc.ID, cl, oauth2.GenerateVerifier())
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ErrMissingVerifier", func(t *testing.T) {
		_, err := cfg.Exchange(ctx, MustCode(t, e, svc.ID, cl, oauth2.GenerateVerifier()))
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_request")
	})
	t.Run("ErrWrongRedirectURI", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		wrong := *cfg
		wrong.RedirectURL = "https://app.example/other"
		_, err := wrong.Exchange(ctx, MustCode(t, e, svc.ID, cl, v), oauth2.VerifierOption(v))
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ErrOtherClientsCode", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		ocfg := e.oauthConfig(svc.ID, other.ClientID, otherSecret, oauth2.AuthStyleInParams)
		_, err := ocfg.Exchange(ctx, MustCode(t, e, svc.ID, cl, v), oauth2.VerifierOption(v))
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ErrExpired", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := MustCode(t, e, svc.ID, cl, v)
		e.clock.Advance(tokend.AuthorizationCodeTTL + time.Second)
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ErrSecondUseRevokesFirst", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := MustCode(t, e, svc.ID, cl, v)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		e.MustActive(t, svc.ID, tok.AccessToken, true)
		_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		e.MustActive(t, svc.ID, tok.AccessToken, false)
		e.MustActive(t, svc.ID, tok.RefreshToken, false)
	})
	t.Run("ErrMalformedCode", func(t *testing.T) {
		_, err := cfg.Exchange(ctx, "tkc_not-a-code")
		MustRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
}
