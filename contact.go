package atrium

import "strings"

// MaskContact hides the middle of an email address's local part or of a phone
// number, as the console shows them: o***@example.com, +86138****8000.
func MaskContact(v string) string {
	if v == "" {
		return ""
	}
	if at := strings.LastIndexByte(v, '@'); at > 0 {
		local := []rune(v[:at])
		return string(local[0]) + "***" + v[at:]
	}
	r := []rune(v)
	if len(r) <= 7 {
		return string(r[:1]) + "****"
	}
	return string(r[:len(r)-8]) + "****" + string(r[len(r)-4:])
}
