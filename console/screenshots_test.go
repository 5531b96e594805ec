package console_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshots renders the README's pictures of the console into the
// directory $TOKEND_SCREENSHOTS names (docs/img from the repository's
// root: TOKEND_SCREENSHOTS=$PWD/docs/img go test -run TestScreenshots
// ./console/). Without the variable it does nothing: the pictures are
// committed, and the browser tests check the same pages.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("TOKEND_SCREENSHOTS")
	if dir == "" {
		t.Skip("set TOKEND_SCREENSHOTS to a directory to render the README's screenshots")
	}
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := newTab(t)
	shoot := func(name string) {
		t.Helper()
		ctx, cancel := b.step()
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.signIn(e)
	b.open(e.url + servicePath(f) + "/tokens?subject=alice&page_size=8")
	shoot("console-tokens.png")
	b.open(e.url + servicePath(f) + "/tokens/" + strconv.FormatInt(f.aliceApp[5].ID, 10))
	shoot("console-token.png")
	b.open(e.url + servicePath(f) + "/revoke?client=" + f.printer.ClientID)
	shoot("console-bulk-revoke.png")
	b.open(e.url + servicePath(f) + "/tokens/" + strconv.FormatInt(f.aliceApp[6].ID, 10))
	b.fill("reason", "lost phone")
	b.submit("revoke-token")
	b.open(e.url + servicePath(f) + "/audit?page_size=12")
	shoot("console-audit.png")

	b.open(e.url + "/console/apps/signin")
	b.typeInto("access_token", f.portalToken(t, e))
	b.submit("apps-signin")
	shoot("connected-apps.png")
}
