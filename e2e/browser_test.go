package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// newPassword passes the password policy: long, letters and digits, not common.
const newPassword = "Lantern-Orbit-2741"

// Selectors of the console (web/templates).
const (
	loginSubmit    = chromedp.CSS(`form[action="/login"] button[type=submit]`)
	agreeBox       = chromedp.CSS(`input[name=agree][data-agree]`)
	agreeSubmit    = chromedp.CSS(`[data-agree-submit]`)
	passwordSubmit = chromedp.CSS(`form[action="/password/change"] button[type=submit]`)
	menuSummary    = chromedp.CSS(`header details.account-menu > summary`)
	menuPersonal   = chromedp.CSS(`header details.account-menu a[href="/console/personal"]`)
	menuSignOut    = chromedp.CSS(`header details.account-menu form[action="/logout"] button[type=submit]`)
	headerBadge    = chromedp.CSS(`header details.account-menu > summary .badge-auth`)
	langZH         = chromedp.CSS(`form.lang-switch button[name=lang][value="zh-CN"]`)
	langEN         = chromedp.CSS(`form.lang-switch button[name=lang][value="en"]`)
	formError      = chromedp.CSS(`.auth-card .form-error`)
)

// TestBrowserFirstSignInToPersonalCenter walks the demo MSP account through its
// first sign-in (agreements, forced password change) to the Personal Center,
// and signs out.
func TestBrowserFirstSignInToPersonalCenter(t *testing.T) {
	chrome := chromiumPath(t)
	forEachDatabase(t, func(t *testing.T, env map[string]string) {
		inst := startAtrium(t, env)
		if inst.Username != "demo" {
			t.Fatalf("banner's demo account = %q, want demo", inst.Username)
		}
		b := newBrowser(t, chrome)

		b.navigate("open the sign-in page", inst.URL+"/login")
		b.do("type the initial credentials",
			chromedp.SendKeys(chromedp.CSS("#identifier"), inst.Username),
			chromedp.SendKeys(chromedp.CSS("#password"), inst.Password),
		)
		if got := b.clickAndLoad("sign in", loginSubmit); got != "/agreements/sign" {
			b.failf("sign in", "landed on %s, want /agreements/sign", got)
		}

		// app.js keeps the button disabled until the box is ticked.
		if disabled := run(b, "read the agree button", chromedp.JavascriptAttribute[bool](agreeSubmit, "disabled")); !disabled {
			b.failf("read the agree button", "the agree button is enabled before the box is ticked")
		}
		b.do("tick the agreement box", chromedp.Click(agreeBox), chromedp.WaitEnabled(agreeSubmit))
		if got := b.clickAndLoad("sign the agreements", agreeSubmit); got != "/password/change" {
			b.failf("sign the agreements", "landed on %s, want /password/change", got)
		}

		b.do("fill in the password change",
			chromedp.SendKeys(chromedp.CSS("#current_password"), inst.Password),
			chromedp.SendKeys(chromedp.CSS("#new_password"), newPassword),
			chromedp.SendKeys(chromedp.CSS("#confirm_password"), newPassword),
		)
		if got := b.clickAndLoad("change the password", passwordSubmit); got != "/console" {
			b.failf("change the password", "landed on %s, want /console", got)
		}
		b.do("see the console's shell", chromedp.WaitVisible(menuSummary), chromedp.WaitNotPresent(headerBadge))

		if err := inst.setMSPAuthenticated(b.ctx, 1, true); err != nil {
			t.Fatalf("authenticate MSP 1 with the operator API: %v", err)
		}
		b.do("reload the console", chromedp.Reload())
		b.do("see the Authenticated badge in the header", chromedp.WaitVisible(headerBadge))

		b.do("open the account menu", chromedp.Click(menuSummary), chromedp.WaitVisible(menuPersonal))
		if got := b.clickAndLoad("open the Personal Center", menuPersonal); got != "/console/personal" {
			b.failf("open the Personal Center", "landed on %s, want /console/personal", got)
		}

		if got := b.text("read the username row", chromedp.CSS(`#personal-information [data-field=username]`)); got != "demo" {
			b.failf("read the username row", "username = %q, want demo", got)
		}
		if got := b.text("read the account name in the header", chromedp.CSS(`header .account-name`)); got != "demo" {
			b.failf("read the account name in the header", "account name = %q, want demo", got)
		}
		b.do("see the Authenticated badge in the header", chromedp.WaitVisible(headerBadge))
		if label := run(b, "read the badge's label", chromedp.AttributeValue(headerBadge, "aria-label")); label.Value != "Authenticated" {
			b.failf("read the badge's label", "badge aria-label = %q, want Authenticated", label.Value)
		}
		mspName := eval[string](b, "read the MSP name", `(() => {
			for (const row of document.querySelectorAll('#msp-information .row')) {
				const dt = row.querySelector('dt'), dd = row.querySelector('dd');
				if (dt && dd && dt.innerText.trim() === 'MSP name') return dd.innerText.trim();
			}
			return '';
		})()`)
		if mspName != "Demo MSP" {
			b.failf("read the MSP name", "MSP name row = %q, want Demo MSP", mspName)
		}
		b.do("see the MSP Information card", chromedp.WaitVisible(chromedp.CSS(`#msp-information`)))
		if card := b.text("read the MSP Information card", chromedp.CSS(`#msp-information`)); !strings.Contains(card, "Demo MSP") {
			b.failf("read the MSP Information card", "no Demo MSP in %q", card)
		}
		rows := eval[int](b, "count the first sign-in signings",
			`document.querySelectorAll('table[data-table="signings"] tbody tr:has(> td[data-scenario="first_login"])').length`)
		if rows != 2 {
			table := b.text("read the signings table", chromedp.CSS(`table[data-table="signings"]`))
			b.failf("count the first sign-in signings", "%d rows with scenario first_login, want 2; the table:\n%s", rows, table)
		}

		b.do("open the account menu", chromedp.Click(menuSummary), chromedp.WaitVisible(menuSignOut))
		if got := b.clickAndLoad("sign out", menuSignOut); got != "/login" {
			b.failf("sign out", "landed on %s, want /login", got)
		}
		b.do("see the sign-in form", chromedp.WaitVisible(loginSubmit), chromedp.WaitNotPresent(menuSummary))

		b.navigate("go back to the Personal Center", inst.URL+"/console/personal")
		u := b.location("go back to the Personal Center")
		if u.Path != "/login" {
			b.failf("go back to the Personal Center", "the signed-out browser is at %s, want /login", u)
		}
		if next := u.Query().Get("next"); next != "/console/personal" {
			b.failf("go back to the Personal Center", "next = %q, want /console/personal", next)
		}
		b.do("see the sign-in form", chromedp.WaitVisible(loginSubmit))
	})
}

// TestBrowserSignInPageInChinese switches the sign-in page to Simplified
// Chinese, fails a sign-in there, and switches back to English.
func TestBrowserSignInPageInChinese(t *testing.T) {
	chrome := chromiumPath(t)
	inst := startAtrium(t, nil)
	b := newBrowser(t, chrome)

	b.navigate("open the sign-in page", inst.URL+"/login")
	if lang := eval[string](b, "read the page language", `document.documentElement.lang`); lang != "en" {
		b.failf("read the page language", "<html lang> = %q, want en by default", lang)
	}

	if got := b.clickAndLoad("switch to 简体中文", langZH); got != "/login" {
		b.failf("switch to 简体中文", "landed on %s, want /login", got)
	}
	expectChinese := func(step string) {
		t.Helper()
		if lang := eval[string](b, step, `document.documentElement.lang`); lang != "zh-CN" {
			b.failf(step, "<html lang> = %q, want zh-CN", lang)
		}
		if h1 := b.text(step, chromedp.CSS(`h1`)); h1 != "登录控制台" {
			b.failf(step, "h1 = %q, want 登录控制台", h1)
		}
		if button := b.text(step, loginSubmit); button != "登录" {
			b.failf(step, "submit button = %q, want 登录", button)
		}
	}
	expectChinese("read the Chinese sign-in page")

	b.do("type a wrong password",
		chromedp.SendKeys(chromedp.CSS("#identifier"), inst.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), "Not-The-Password-1"),
	)
	if got := b.clickAndLoad("sign in with the wrong password", loginSubmit); got != "/login" {
		b.failf("sign in with the wrong password", "landed on %s, want /login", got)
	}
	if msg := b.text("read the error", formError); msg != "账号名或密码错误。" {
		b.failf("read the error", "error = %q, want 账号名或密码错误。", msg)
	}
	expectChinese("read the Chinese sign-in page after the error")

	if got := b.clickAndLoad("switch to English", langEN); got != "/login" {
		b.failf("switch to English", "landed on %s, want /login", got)
	}
	if lang := eval[string](b, "read the page language", `document.documentElement.lang`); lang != "en" {
		b.failf("read the page language", "<html lang> = %q, want en", lang)
	}
	if h1 := b.text("read the English heading", chromedp.CSS(`h1`)); h1 != "Sign in to the console" {
		b.failf("read the English heading", "h1 = %q, want Sign in to the console", h1)
	}
	if button := b.text("read the English button", loginSubmit); button != "Sign in" {
		b.failf("read the English button", "submit button = %q, want Sign in", button)
	}
}
