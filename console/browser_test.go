package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokend/tokend/client"
)

// The browser tests drive the console in headless Chromium (Debian's
// chromium package; scripts/test.sh installs it) through the DevTools
// protocol with chromedp, and check what the pages show and what the API
// then reports. Without Chromium they are skipped, except on CI
// (CI=true), where they fail. A failing test leaves a screenshot and the
// page's HTML in console/testdata/artifacts/ (ignored by git).

// chromiumPath finds the browser: $TOKEND_CHROMIUM, or one of the names
// distributions install it under.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("TOKEND_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("Chromium is required on CI for the console's browser tests: apt-get install chromium (scripts/test.sh does)")
	}
	tb.Skip("Chromium not installed (apt-get install chromium); skipping the browser tests")
	return ""
}

// tab is one browser tab of a fresh headless Chromium.
type tab struct {
	t   testing.TB
	ctx context.Context
}

// stepTimeout bounds one step (a navigation, a click, a read), so that a
// page that never comes fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

func newTab(t testing.TB) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // tests may run as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	tb := &tab{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveArtifacts()
		}
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now, with the tab's own context: chromedp ties the
	// browser's life to the context of the first call, so a step's
	// timeout must not be that one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return tb
}

// artifactsDir is where failing tests leave what the browser showed.
func artifactsDir() string {
	if d := os.Getenv("TOKEND_TEST_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "artifacts")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (b *tab) saveArtifacts() {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	dir := artifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("artifacts: %v", err)
		return
	}
	base := filepath.Join(dir, unsafeName.ReplaceAllString(b.t.Name(), "_"))
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		if err := os.WriteFile(base+".png", png, 0o644); err == nil {
			b.t.Logf("screenshot of the failing page: %s.png", base)
		}
	} else {
		b.t.Logf("screenshot: %v", err)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		os.WriteFile(base+".html", []byte(html), 0o644)
	}
}

func (b *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// open loads a URL and waits for the page.
func (b *tab) open(url string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
}

// submit clicks what leads to another page (a link, a form's button) and
// waits for that page; it returns the page's HTTP status.
func (b *tab) submit(id string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		b.t.Fatalf("click #%s: %v", id, err)
	}
	return resp.Status
}

// fill replaces an input's value.
func (b *tab) fill(id, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), value)); err != nil {
		b.t.Fatalf("fill #%s: %v", id, err)
	}
}

// typeInto types into an input, as a person would.
func (b *tab) typeInto(id, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID(id), value)); err != nil {
		b.t.Fatalf("type into #%s: %v", id, err)
	}
}

func (b *tab) click(sel string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

// text is the visible text of the element sel selects.
func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// count is how many elements sel selects now (zero included).
func (b *tab) count(sel string) int {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// html is the page's markup, for what is not on the screen (attributes).
func (b *tab) html() string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("page html: %v", err)
	}
	return s
}

func (b *tab) location() string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// tokenIDs are the ids of the token rows on the page, in order.
func (b *tab) tokenIDs() []string {
	return regexp.MustCompile(`data-token-id="(\d+)"`).FindAllString(b.html(), -1)
}

func (b *tab) signIn(e *env) {
	b.t.Helper()
	b.open(e.url + "/console/")
	if !strings.HasSuffix(b.location(), "/console/signin") {
		b.t.Fatalf("without a session /console/ went to %s", b.location())
	}
	b.typeInto("key", e.key)
	if status := b.submit("signin"); status != 200 {
		b.t.Fatalf("sign in: status %d", status)
	}
	if got := b.text("#actor"); !strings.HasPrefix(got, "key:") {
		b.t.Fatalf("signed in as %q", got)
	}
}

// TestBrowserOperator walks an operator through the console: sign in, pick
// the service, filter, page, open a token, preview a bulk revocation and
// confirm it, then create a client and see its secret once.
func TestBrowserOperator(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := newTab(t)
	ctx := context.Background()

	b.signIn(e)
	t.Run("OKPickService", func(t *testing.T) {
		b.t = t
		b.click(fmt.Sprintf(`a[href="/console/services/%d/"]`, f.svc.ID))
		ctx, cancel := b.step()
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("ul.actions"))); err != nil {
			t.Fatal(err)
		}
		if got := b.text("h1"); got != "photos" {
			t.Fatalf("service page heading %q", got)
		}
	})
	t.Run("OKFilter", func(t *testing.T) {
		b.t = t
		b.open(e.url + servicePath(f) + "/tokens")
		if got := b.text("#total"); got != "33" {
			t.Fatalf("unfiltered total %s, want 33", got)
		}
		b.fill("f-subject", "alice")
		b.fill("f-client", f.app.ClientID)
		b.fill("f-page_size", "10")
		b.submit("apply-filters")
		if got := b.text("#total"); got != "30" {
			t.Fatalf("total for alice at Photo Printer: %s, want 30", got)
		}
		if n := b.count("#tokens tbody tr"); n != 10 {
			t.Fatalf("%d rows on a page of 10", n)
		}
	})
	t.Run("OKPage", func(t *testing.T) {
		b.t = t
		seen := map[string]bool{}
		for page := 1; ; page++ {
			for _, id := range b.tokenIDs() {
				if seen[id] {
					t.Fatalf("%s on two pages", id)
				}
				seen[id] = true
			}
			if b.count("#next-page") == 0 {
				if page != 3 {
					t.Fatalf("%d pages of 10 for 30 tokens", page)
				}
				break
			}
			b.submit("next-page")
			if b.count("#first-page") != 1 {
				t.Fatal("a later page has no link to the first")
			}
		}
		if len(seen) != 30 {
			t.Fatalf("pages showed %d tokens, want 30", len(seen))
		}
	})
	t.Run("OKOpenToken", func(t *testing.T) {
		b.t = t
		want := f.aliceApp[0] // the oldest: on the last page
		b.click(fmt.Sprintf(`tr[data-token-id="%d"] a`, want.ID))
		ctx, cancel := b.step()
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("access-hash"))); err != nil {
			t.Fatal(err)
		}
		if got := b.text("#access-hash"); got != want.AccessTokenHash {
			t.Fatalf("access token hash %q, want %q", got, want.AccessTokenHash)
		}
		if strings.Contains(b.html(), want.AccessToken) {
			t.Fatal("the token page shows the token's value")
		}
		if got := b.text("#token-status"); got != "active" {
			t.Fatalf("status %q", got)
		}
	})
	t.Run("OKBulkRevokeWithPreview", func(t *testing.T) {
		b.t = t
		b.open(e.url + servicePath(f) + "/tokens?subject=alice&client=" + f.printer.ClientID)
		b.submit("bulk-revoke")
		if got := b.text("#preview-count"); got != "2" {
			t.Fatalf("preview count %s, want 2", got)
		}
		// The preview revoked nothing.
		list, err := e.api.ListTokens(ctx, f.svc.ID, client.TokenQuery{Client: f.printer.ClientID, Subject: "alice"})
		if err != nil || list.TotalCount != 2 {
			t.Fatalf("after the preview: %v active (%v), want 2", list, err)
		}
		b.fill("reason", "compromised printer")
		b.submit("confirm-revoke")
		if got := b.text("#revoked-count"); got != "2" {
			t.Fatalf("revoked %s, want 2", got)
		}
		list, err = e.api.ListTokens(ctx, f.svc.ID, client.TokenQuery{Client: f.printer.ClientID, Subject: "alice", Status: "all"})
		if err != nil || list.TotalCount != 2 {
			t.Fatalf("tokens of the printer: %v, %v", list, err)
		}
		for _, tok := range list.Tokens {
			if tok.Status != "revoked" || tok.RevokedReason != "compromised printer" {
				t.Fatalf("token %d is %s (%q) after the bulk revocation", tok.ID, tok.Status, tok.RevokedReason)
			}
		}
	})
	t.Run("OKCreateClientSecretOnce", func(t *testing.T) {
		b.t = t
		b.open(e.url + servicePath(f) + "/clients")
		b.submit("new-client")
		b.typeInto("name", "Nightly Backup")
		b.click(`input[name="scopes"][value="photos.read"]`)
		b.click(`input[name="grant_types"][value="CLIENT_CREDENTIALS"]`)
		if status := b.submit("create-client"); status != 201 {
			t.Fatalf("create: status %d", status)
		}
		secret := b.text("#client-secret")
		clientID := b.text("#client-id")
		if !strings.HasPrefix(secret, "tks_") || b.count("#secret-once") != 1 {
			t.Fatalf("secret %q shown without the warning", secret)
		}
		got, err := e.api.GetClient(ctx, f.svc.ID, clientID)
		if err != nil || got.Name != "Nightly Backup" || strings.Join(got.Scopes, " ") != "photos.read" {
			t.Fatalf("the API has %+v, %v", got, err)
		}
		b.submit("client-link")
		if strings.Contains(b.html(), secret) {
			t.Fatal("the client's page shows its secret again")
		}
		if got := b.text("h1"); got != "Nightly Backup" {
			t.Fatalf("client page heading %q", got)
		}
	})
}

// TestBrowserConnectedApps: an end user signs in with the first-party
// portal's access token, sees the two apps holding tokens for them, and
// removes one.
func TestBrowserConnectedApps(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := newTab(t)
	ctx := context.Background()

	b.open(e.url + "/console/apps/")
	if !strings.HasSuffix(b.location(), "/console/apps/signin") {
		t.Fatalf("without a session the apps page went to %s", b.location())
	}
	b.typeInto("access_token", f.portalToken(t, e))
	b.submit("apps-signin")
	if got := b.text("#subject"); got != "alice" {
		t.Fatalf("signed in as %q", got)
	}
	if n := b.count("#apps li.app"); n != 2 {
		t.Fatalf("%d connected apps, want 2 (the portal itself is not listed)", n)
	}
	if !strings.Contains(b.text(fmt.Sprintf(`li[data-client="%s"]`, f.app.ClientID)), "Photo Printer") {
		t.Fatal("Photo Printer is not listed")
	}
	b.submit("revoke-" + f.app.ClientID)
	if got := b.text("#flash"); !strings.Contains(got, "30 token(s) revoked") {
		t.Fatalf("flash %q", got)
	}
	if n := b.count(fmt.Sprintf(`li[data-client="%s"]`, f.app.ClientID)); n != 0 {
		t.Fatal("Photo Printer is still listed")
	}
	if n := b.count("#apps li.app"); n != 1 {
		t.Fatalf("%d apps left, want 1", n)
	}
	list, err := e.api.ListTokens(ctx, f.svc.ID, client.TokenQuery{Client: f.app.ClientID, Subject: "alice", Status: "revoked"})
	if err != nil || list.TotalCount != 30 {
		t.Fatalf("revoked tokens of Photo Printer for alice: %v, %v; want 30", list, err)
	}
	list, err = e.api.ListTokens(ctx, f.svc.ID, client.TokenQuery{Client: f.app.ClientID, Subject: "bob"})
	if err != nil || list.TotalCount != 1 {
		t.Fatalf("bob's token of the same app: %v, %v; want it active", list, err)
	}
}
