package redact

import (
	"strings"
	"testing"
)

func TestExcerpt(t *testing.T) {
	secrets := Secrets("Your code is 482913. Valid 5 minutes.")
	for _, c := range []struct {
		name, in, want string
		max            int
	}{
		{"the whole message goes", "550 rejected: Your code is 482913. Valid 5 minutes.", "550 rejected: [redacted]", 200},
		{"a code alone goes", "bad content near 482913", "bad content near [redacted]", 200},
		{"line breaks cannot forge lines", "a\r\nb\tc", "a b c", 200},
		{"long answers are cut on a rune boundary", strings.Repeat("验", 100), strings.Repeat("验", 5) + "...", 18},
	} {
		if got := Excerpt(c.in, secrets, c.max); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
