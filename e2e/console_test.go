package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Helpers of the console's flows: signing in through the gates, the flow
// dialog of app.js, and the operator API.

// operator calls the operator API with the operator token: in (if not nil) is
// the JSON body, out (if not nil) receives the JSON answer. The test fails
// unless the answer is 2xx.
func (inst *instance) operator(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, inst.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+inst.OperatorToken)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, path, res.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Selectors of the console beyond those of browser_test.go.
const (
	notice      = chromedp.CSS(`main [role=status]`) // the toast or notice of a page
	progressBar = chromedp.CSS(`.completeness progress`)
	devLink     = chromedp.CSS(`footer a.dev-link`)
)

// dlg is a selector inside the flow dialog of app.js.
func dlg(sel string) chromedp.CSS {
	return chromedp.CSS(`dialog.flow-dialog[open] ` + sel)
}

// signIn fills in the sign-in form of the current page and submits it, and
// returns the path it lands on.
func (b *browser) signIn(step, identifier, password string) string {
	b.t.Helper()
	b.do(step,
		chromedp.WaitVisible(chromedp.CSS("#identifier")),
		chromedp.Clear(chromedp.CSS("#identifier")),
		chromedp.SendKeys(chromedp.CSS("#identifier"), identifier),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	)
	return b.clickAndLoad(step, loginSubmit)
}

// firstSignIn signs in an account that the operator created: it signs the
// agreements and, when asked, changes the operator's password to
// nextPassword. It ends on /console and returns the account's password.
func (b *browser) firstSignIn(baseURL, username, password, nextPassword string) string {
	b.t.Helper()
	b.navigate("open the sign-in page", baseURL+"/login")
	got := b.signIn("sign in as "+username+" for the first time", username, password)
	if got == "/agreements/sign" {
		b.do("tick the agreement box", chromedp.WaitVisible(agreeBox), chromedp.Click(agreeBox), chromedp.WaitEnabled(agreeSubmit))
		got = b.clickAndLoad("sign the agreements", agreeSubmit)
	}
	if got == "/password/change" {
		b.do("fill in the password change",
			chromedp.SendKeys(chromedp.CSS("#current_password"), password),
			chromedp.SendKeys(chromedp.CSS("#new_password"), nextPassword),
			chromedp.SendKeys(chromedp.CSS("#confirm_password"), nextPassword),
		)
		got = b.clickAndLoad("change the password", passwordSubmit)
		password = nextPassword
	}
	if got != "/console" {
		b.failf("first sign-in of "+username, "landed on %s, want /console", got)
	}
	b.do("see the console's shell", chromedp.WaitVisible(menuSummary))
	return password
}

// signedInDemo signs the demo account in for the first time: agreements, then
// the forced change of the initial password to newPassword. It ends on
// /console and returns the password.
func signedInDemo(t *testing.T, inst *instance, b *browser) string {
	t.Helper()
	if inst.Username != "demo" {
		t.Fatalf("banner's demo account = %q, want demo", inst.Username)
	}
	return b.firstSignIn(inst.URL, inst.Username, inst.Password, newPassword)
}

// signOut signs out with the account menu and expects the sign-in page.
func (b *browser) signOut() {
	b.t.Helper()
	b.do("open the account menu", chromedp.Click(menuSummary), chromedp.WaitVisible(menuSignOut))
	if got := b.clickAndLoad("sign out", menuSignOut); got != "/login" {
		b.failf("sign out", "landed on %s, want /login", got)
	}
	b.do("see the sign-in form", chromedp.WaitVisible(loginSubmit))
}

// personal opens the Personal Center.
func (b *browser) personal(baseURL string) {
	b.t.Helper()
	b.navigate("open the Personal Center", baseURL+"/console/personal")
	b.expectPath("open the Personal Center", "/console/personal")
	b.do("see the Personal Information card", chromedp.WaitVisible(chromedp.CSS(`#personal-information`)))
}

// expectNotice waits for the page's notice and checks its text.
func (b *browser) expectNotice(step, want string) {
	b.t.Helper()
	if got := b.text(step, notice); got != want {
		b.failf(step, "notice = %q, want %q", got, want)
	}
}

// openFlow clicks a link with data-dialog and waits for the dialog to show
// the flow's first step.
func (b *browser) openFlow(step string, link chromedp.CSS, want string) {
	b.t.Helper()
	b.do(step, chromedp.WaitVisible(link), chromedp.Click(link))
	b.waitStep(step, want)
}

// waitStep waits until the flow dialog shows the step want (the
// data-step of its section.flow). It fails at once with the message when the
// dialog shows an error instead.
func (b *browser) waitStep(step, want string) {
	b.t.Helper()
	js := `(() => {
		const d = document.querySelector('dialog.flow-dialog[open]');
		if (!d) return false;
		const err = d.querySelector('.field-error:not([hidden]), .form-error');
		if (err && err.textContent.trim()) return 'error: ' + err.textContent.trim();
		const s = d.querySelector('section.flow');
		return s && s.dataset.step === ` + jsString(want) + ` ? 'ok' : false;
	})()`
	got := run(b, step, chromedp.Poll[string](js, chromedp.WithPollingInterval(50*time.Millisecond)))
	if got != "ok" {
		b.failf(step, "the dialog shows %s, not the step %q", got, want)
	}
}

// verifyByPassword chooses Password in the dialog's "Verify identity" step,
// types it and presses Next; the dialog must then show the step next.
func (b *browser) verifyByPassword(step, password, next string) {
	b.t.Helper()
	b.fillPassword(step, password)
	b.do(step, chromedp.Click(dlg(`button.btn-primary`)))
	b.waitStep(step, next)
}

// fillPassword chooses Password in the "Verify identity" step and types it.
func (b *browser) fillPassword(step, password string) {
	b.t.Helper()
	b.do(step,
		chromedp.WaitVisible(dlg(`section.flow[data-step=verify]`)),
		chromedp.Click(dlg(`input[name=method][value=password]`)),
		chromedp.WaitVisible(dlg(`#flow-password`)),
		chromedp.SendKeys(dlg(`#flow-password`), password),
	)
}

// sendCode chooses the channel's code in the "Verify identity" step and
// presses its "Send code": the step comes back with a notice and the button
// counting down, disabled. It returns the countdown's text.
func (b *browser) sendCode(step, channel string) string {
	b.t.Helper()
	button := dlg(`button.send-code[data-channel=` + channel + `]`)
	b.do(step,
		chromedp.Click(dlg(`input[name=method][value=`+channel+`]`)),
		chromedp.WaitVisible(dlg(`#flow-code`)),
		chromedp.WaitVisible(button),
		chromedp.Click(button),
	)
	js := `(() => {
		const d = document.querySelector('dialog.flow-dialog[open]');
		if (!d) return false;
		const err = d.querySelector('.field-error:not([hidden]), .form-error');
		if (err && err.textContent.trim()) return 'error: ' + err.textContent.trim();
		return d.querySelector('p.notice') ? 'ok' : false;
	})()`
	if got := run(b, step, chromedp.Poll[string](js, chromedp.WithPollingInterval(50*time.Millisecond))); got != "ok" {
		b.failf(step, "no code sent: the dialog shows %s", got)
	}
	return b.countingDown(step, button)
}

// countingDown checks that the button counts down to the next allowed code
// ("Resend in 59 s") and is disabled meanwhile, and returns its text.
func (b *browser) countingDown(step string, button chromedp.CSS) string {
	b.t.Helper()
	js := `(() => {
		const b = document.querySelector(` + jsString(string(button)) + `);
		return b && !b.hidden && b.disabled && /^Resend in \d+ s$/.test(b.textContent.trim()) ? b.textContent.trim() : false;
	})()`
	return run(b, step, chromedp.Poll[string](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
}

// cooldownOver waits until the button's countdown ends and the button is
// enabled again. The server allows one code per address every 60 s, so a test
// that sends a second code to an address waits for this first, as a user would.
func (b *browser) cooldownOver(step string, button chromedp.CSS) {
	b.t.Helper()
	js := `(() => {
		const b = document.querySelector(` + jsString(string(button)) + `);
		return !!b && !b.disabled;
	})()`
	b.do(step, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
}

// evalString evaluates a JavaScript expression that gives a string.
func (b *browser) evalString(step, expr string) string {
	b.t.Helper()
	return eval[string](b, step, expr)
}

// rowText is the value cell of a Personal Information row, such as
// "#row-email".
func (b *browser) rowText(step, row string) string {
	b.t.Helper()
	b.do(step, chromedp.WaitVisible(chromedp.CSS(row)))
	return b.evalString(step, `document.querySelector(`+jsString(row+` dt + dd`)+`).innerText.trim()`)
}

// completeness returns the percent of the progress bar and the texts of the
// chips of missing items.
func (b *browser) completeness(step string) (int, []string) {
	b.t.Helper()
	b.do(step, chromedp.WaitVisible(progressBar))
	v := b.evalString(step, `document.querySelector('.completeness progress').getAttribute('value')`)
	percent, err := strconv.Atoi(v)
	if err != nil {
		b.failf(step, "progress value = %q: %v", v, err)
	}
	chips := eval[[]string](b, step, `Array.from(document.querySelectorAll('.chips a.chip'), a => a.textContent.trim())`)
	return percent, chips
}

func fmtList(list []string) string {
	return fmt.Sprintf("%q", list)
}

// markDialog marks the section the flow dialog shows now, so that
// nextDialogSection can tell when the dialog shows the answer to a submit, even
// one of the same step.
func (b *browser) markDialog(step string) {
	b.t.Helper()
	b.do(step, chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog.flow-dialog[open] section.flow').dataset.e2eSeen = '1'`))
}

// nextDialogSection waits until the flow dialog shows a section that
// markDialog did not mark, and returns its step and its error message ("" if
// none).
func (b *browser) nextDialogSection(step string) (string, string) {
	b.t.Helper()
	js := `(() => {
		const s = document.querySelector('dialog.flow-dialog[open] section.flow');
		if (!s || s.dataset.e2eSeen) return false;
		const err = s.querySelector('.field-error:not([hidden]), .form-error');
		return [s.dataset.step, err ? err.textContent.trim() : ''];
	})()`
	got := run(b, step, chromedp.Poll[[]string](js, chromedp.WithPollingInterval(50*time.Millisecond)))
	if len(got) != 2 {
		b.failf(step, "unexpected dialog state %q", got)
	}
	return got[0], got[1]
}
