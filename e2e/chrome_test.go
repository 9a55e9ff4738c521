package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atrium-console/atrium/atriumtest"
)

const (
	testTimeout  = 60 * time.Second // for all the browser actions of a test, by default
	browserGrace = 15 * time.Second // after that, for the screenshot of a failure
)

// chromiumPath returns the browser to drive: $CHROME_PATH, Debian's
// /usr/bin/chromium, or chromium on PATH. It skips the test when there is none
// (fails it when ATRIUM_REQUIRE_ALL is set, as in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
		t.Fatalf("CHROME_PATH=%s is not an executable", p)
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if path, err := exec.LookPath("chromium"); err == nil {
		return path
	}
	atriumtest.Skip(t, "browser tests skipped: Debian's chromium is not installed (apt-get install chromium)")
	return ""
}

// browser is one headless Chromium with one tab.
type browser struct {
	t    *testing.T
	ctx  context.Context // the test's actions: ends testTimeout (or newBrowserFor's timeout) after the start
	tab  context.Context // the tab, alive until cleanup
	logs *syncBuffer     // the browser's own output
}

// newBrowser starts headless Chromium (from chromiumPath) with a fresh profile,
// closed at cleanup. The test's actions get testTimeout in all.
func newBrowser(t *testing.T, execPath string) *browser {
	t.Helper()
	return newBrowserFor(t, execPath, testTimeout)
}

// newBrowserFor is newBrowser for a test whose actions take up to timeout in
// all, such as one that waits for the server's 60 s resend cooldown of codes.
func newBrowserFor(t *testing.T, execPath string, timeout time.Duration) *browser {
	t.Helper()
	profile := t.TempDir() // removed after the browser's cleanup below
	logs := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(logs),
	)
	// The browser lives a little longer than the test's actions, so that a
	// timed-out step still gets its screenshot.
	life, cancelLife := context.WithTimeout(context.Background(), timeout+browserGrace)
	alloc, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	// chromedp reports from its own goroutines, which may outlive the test:
	// keep its errors with the browser's output rather than in t.Logf.
	errorf := func(format string, args ...any) { fmt.Fprintf(logs, "chromedp: "+format+"\n", args...) }
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(errorf))
	b := &browser{t: t, tab: tab, logs: logs}
	t.Cleanup(func() {
		if err := chromedp.Cancel(tab); err != nil && life.Err() == nil {
			t.Logf("close browser: %v", err)
		}
		cancelTab()
		cancelAlloc()
		cancelLife()
		if t.Failed() {
			t.Logf("chromium output (without D-Bus noise):\n%s", tail(withoutDBus(logs.String()), 4000))
		}
	})
	// The first action starts the browser and binds it to tab's life.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v\n%s", execPath, err, logs.String())
	}
	ctx, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(cancel)
	b.ctx = ctx
	return b
}

// withoutDBus drops the complaints of a browser that finds no D-Bus, as in
// a container.
func withoutDBus(s string) string {
	var keep []string
	for line := range strings.Lines(s) {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// do runs the actions of a step, failing the test with a screenshot when one fails.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// run runs an action that returns a value, failing the test with a screenshot
// when it fails.
func run[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// navigate opens a URL and waits for it to load.
func (b *browser) navigate(step, u string) {
	b.t.Helper()
	b.do(step, chromedp.Navigate(u))
}

// clickAndLoad clicks the element, which must load a page (a link, a form's
// button), waits for that page to load, and returns the page's path.
func (b *browser) clickAndLoad(step string, sel chromedp.CSS) string {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.WaitVisible(sel), chromedp.Click(sel))
	if err != nil {
		b.fail(step, err)
	}
	if resp != nil && resp.Status >= 500 {
		b.fail(step, &statusError{resp.URL, resp.Status})
	}
	return b.path(step)
}

type statusError struct {
	url    string
	status int64
}

func (e *statusError) Error() string {
	return "HTTP " + http.StatusText(int(e.status)) + " from " + e.url
}

// location is the URL of the current page.
func (b *browser) location(step string) *url.URL {
	b.t.Helper()
	loc := run(b, step, chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.fail(step, err)
	}
	return u
}

// path is the path of the current page.
func (b *browser) path(step string) string {
	b.t.Helper()
	return b.location(step).Path
}

// expectPath fails the test unless the current page's path is want.
func (b *browser) expectPath(step, want string) {
	b.t.Helper()
	if u := b.location(step); u.Path != want {
		b.failf(step, "the browser is at %s, want path %s", u, want)
	}
}

// text returns the visible text of the first element that matches sel, once it is visible.
func (b *browser) text(step string, sel chromedp.CSS) string {
	b.t.Helper()
	b.do(step, chromedp.WaitVisible(sel))
	return run(b, step, chromedp.Text(sel))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, step, expr string) T {
	b.t.Helper()
	return run(b, step, chromedp.Evaluate[T](expr))
}

// fail ends the test with err, after it saves a screenshot of the page.
func (b *browser) fail(step string, err error) {
	b.t.Helper()
	b.failf(step, "%v", err)
}

func (b *browser) failf(step, format string, args ...any) {
	b.t.Helper()
	b.t.Logf("step %q failed", step)
	b.screenshot(step)
	b.t.Fatalf(step+": "+format, args...)
}

// screenshot saves the tab's screen in a temporary file that outlives the
// test, and logs the file's path and the page's URL.
func (b *browser) screenshot(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, 10*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		b.t.Logf("the browser was at %s", loc)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	f, err := os.CreateTemp("", "atrium-e2e-*.png")
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.Write(png); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot of the failed step %q: %s", step, f.Name())
}
