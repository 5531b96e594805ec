package oauth

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

// BenchmarkIntrospectHTTP measures the resource servers' hot path end to
// end over loopback: form parsing, client authentication, the token lookup
// and the JSON answer. Run with -cpuprofile to see where the time goes.
func BenchmarkIntrospectHTTP(b *testing.B) {
	e := MustEnv(b, Options{})
	svc := MustService(b, e, tokend.ServiceInput{})
	cl, secret := MustClient(b, e, svc.ID, tokend.ClientInput{})
	const live = 1000
	tokens := make([]string, live)
	for i := range tokens {
		it, err := e.core.CreateToken(context.Background(), e.root, svc.ID, tokend.TokenInput{
			Client: cl.ClientID, GrantType: tokend.GrantPassword, Subject: "user" + string(rune('a'+i%26)), Scopes: []string{"read"},
		})
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = it.AccessToken
	}
	endpoint := e.endpoint(svc.ID, "introspect")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		i := 0
		for pb.Next() {
			i++
			req, _ := http.NewRequest("POST", endpoint, strings.NewReader(url.Values{"token": {tokens[i%live]}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(cl.ClientID, secret)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"active":true`) {
				b.Fatalf("introspect: %d %s", resp.StatusCode, body)
			}
		}
	})
}

// BenchmarkClientCredentialsHTTP measures token issuance end to end: client
// authentication, the core's rules, a durable insert and the JSON answer.
// Its CPU profile tells what share client authentication takes.
func BenchmarkClientCredentialsHTTP(b *testing.B) {
	e := MustEnv(b, Options{})
	svc := MustService(b, e, tokend.ServiceInput{})
	cl, secret := MustClient(b, e, svc.ID, tokend.ClientInput{})
	endpoint := e.endpoint(svc.ID, "token")
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		for pb.Next() {
			req, _ := http.NewRequest("POST", endpoint, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(cl.ClientID, secret)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("token: %d %s", resp.StatusCode, out)
			}
		}
	})
}
