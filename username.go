package atrium

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateUsername checks a username against the rules: 4 to 32 characters,
// letters, digits, "_", "-" and ".", starting with a letter. It returns an
// EInvalid error whose message says what to fix.
func ValidateUsername(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 4 || n > 32 {
		return Errorf(EInvalid, "A username has 4 to 32 characters.").With("field", "username").With("reason", "username_length")
	}
	for i, r := range name {
		if i == 0 && !unicode.IsLetter(r) {
			return Errorf(EInvalid, "A username starts with a letter.").With("field", "username").With("reason", "username_start")
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' {
			return Errorf(EInvalid, "A username has only letters, digits, \"_\", \"-\" and \".\".").With("field", "username").With("reason", "username_chars")
		}
	}
	return nil
}

// UsernameKey returns the form of a username that uniqueness is enforced on: case
// folded, full-width forms narrowed, and letters that look like Latin letters
// (Cyrillic and Greek homoglyphs) mapped to them, so "Admin", "ＡＤＭＩＮ" and
// "аdmin" with a Cyrillic "а" are the same name.
func UsernameKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		r = unicode.ToLower(r)
		if l, ok := lookalikes[r]; ok {
			r = l
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lookalikes maps lower-case letters of other scripts to the Latin letter they are
// confused with (a subset of Unicode's confusables, UTS #39, for the letters that
// render identically in common fonts).
var lookalikes = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j', 'к': 'k',
	'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's',
	'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l', 'ɡ': 'g',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ζ': 'z',
	// Latin look-alikes
	'ı': 'i', 'ℓ': 'l',
}
