package e2e

import (
	"testing"
)

func TestBrowserSelfCheckLangNext(t *testing.T) {
	chrome := chromiumPath(t)
	inst := startAtrium(t, nil)
	b := newBrowser(t, chrome)
	b.navigate("open", inst.URL+"/console/personal")
	t.Logf("before: %s", b.location("loc"))
	b.clickAndLoad("zh", langZH)
	t.Logf("after: %s", b.location("loc"))
	b.navigate("open", inst.URL+"/login?reason=signed_out")
	t.Logf("notice: %q", eval[string](b, "n", `(document.querySelector('.notice')||{}).innerText||''`))
}
