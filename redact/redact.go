// Package redact keeps secrets out of error texts: the providers that deliver
// Atrium's messages (SMTP, SMS APIs) may echo a message — and the verification
// code in it — back in their errors.
package redact

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinWordSecret is the length from which a word of a message that holds a
// digit (such as a verification code) counts as a secret.
const MinWordSecret = 4

// Secrets returns the parts of a message that must not appear in an error:
// each whole field, and every word of 4 or more characters that holds a digit,
// such as a verification code.
func Secrets(fields ...string) []string {
	var out []string
	for _, f := range fields {
		if strings.TrimSpace(f) == "" {
			continue
		}
		out = append(out, f)
		words := strings.FieldsFunc(f, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		for _, w := range words {
			if len(w) >= MinWordSecret && strings.ContainsFunc(w, unicode.IsDigit) {
				out = append(out, w)
			}
		}
	}
	return out
}

// Excerpt returns s with every secret replaced by "[redacted]", control
// characters and runs of white space turned into single spaces, invalid UTF-8
// replaced, and cut to at most max bytes (with "..." when cut).
func Excerpt(s string, secrets []string, max int) string {
	secrets = slices.Clone(secrets)
	// Longer secrets first, so a whole body goes before the words in it.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= max {
		return s
	}
	const ellipsis = "..."
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
