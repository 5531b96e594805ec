package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

// BenchmarkListBySubjectHTTP measures the management list of one subject's
// 50 tokens end to end (key check, query, total count, JSON) with 20,000
// tokens stored. Run with -cpuprofile to see where the time goes. cpu-ns/op
// is the process's CPU time per request, client and server together: on a
// shared machine it varies less than the wall time.
func BenchmarkListBySubjectHTTP(b *testing.B) {
	e := MustEnv(b)
	svc := MustService(b, e, e.root, wire.ServiceInput{Name: ptr("bench"), ScopesSupported: &[]string{"read", "write"}})
	cl := MustClient(b, e, e.root, svc.ID, wire.ClientInput{Name: ptr("app")})
	var toks []*tokend.Token
	now := e.clock.Now()
	for i := range 20_000 {
		toks = append(toks, &tokend.Token{
			ServiceID: svc.ID, ClientID: cl.ID, Subject: fmt.Sprintf("user-%03d", i%400), GrantType: tokend.GrantAuthorizationCode,
			AccessHash: tokend.HashSecret(fmt.Sprint("a", i)), RefreshHash: tokend.HashSecret(fmt.Sprint("r", i)),
			Scopes: []string{"read", "write"}, CreatedAt: now, AccessExpiresAt: now.Add(1e12), RefreshExpiresAt: now.Add(1e15),
		})
	}
	if err := e.store.ImportTokens(context.Background(), toks); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	before := cpuTime()
	defer func() {
		b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		i := 0
		for pb.Next() {
			i++
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/services/%d/tokens?subject=user-%03d&page_size=50", e.url, svc.ID, i%400), nil)
			req.Header.Set("Authorization", "Bearer "+e.root)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("list: %d", resp.StatusCode)
			}
		}
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
