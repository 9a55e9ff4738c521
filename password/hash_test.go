package password

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	crand "crypto/rand"
)

// testParams are cheap argon2id parameters that keep the tests fast.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher(t *testing.T) *Hasher {
	t.Helper()
	return NewHasher(testParams, 4, crand.Reader)
}

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	phc, err := h.Hash(context.Background(), pw)
	if err != nil {
		t.Fatalf("Hash(%q): %v", pw, err)
	}
	return phc
}

func TestVerifyAcceptsOnlyTheHashedPassword(t *testing.T) {
	long := strings.Repeat("abcdefghij", 12) // 120 characters
	changedAt100 := long[:100] + "X" + long[101:]

	tests := []struct {
		name     string
		hashed   string
		verified string
		want     bool
	}{
		{"same password", "correct horse battery staple", "correct horse battery staple", true},
		{"wrong password", "correct horse battery staple", "correct horse battery stapler", false},
		{"case matters", "Secret-Tulip-42", "secret-tulip-42", false},
		{"empty password", "", "", true},
		{"empty against non-empty", "Secret-Tulip-42", "", false},
		{"long password", long, long, true},
		{"long password changed at position 100 (no truncation)", long, changedAt100, false},
		{"fullwidth digits verify as ASCII digits", "Secret-Tulip-42", "Secret-Tulip-４２", true},
		{"ASCII digits verify as fullwidth digits", "Secret-Tulip-４２", "Secret-Tulip-42", true},
		{"decomposed é verifies composed é", "caf\u00e9-au-lait-7", "cafe\u0301-au-lait-7", true},
		{"composed é verifies decomposed é", "cafe\u0301-au-lait-7", "caf\u00e9-au-lait-7", true},
		{"é is not e", "caf\u00e9-au-lait-7", "cafe-au-lait-7", false},
		{"ligature verifies as its letters", "\ufb03ne-dining-9", "ffine-dining-9", true},
	}
	h := newTestHasher(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phc := mustHash(t, h, tt.hashed)
			ok, rehash, err := h.Verify(context.Background(), tt.verified, phc)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.want {
				t.Errorf("Verify(%q) against hash of %q = %v, want %v", tt.verified, tt.hashed, ok, tt.want)
			}
			if rehash {
				t.Errorf("Verify needsRehash = true for a hash made with the hasher's own params")
			}
		})
	}
}

func TestHashWithDefaultParamsUsesPHCFormat(t *testing.T) {
	h := NewHasher(DefaultParams(), 1, crand.Reader)
	phc := mustHash(t, h, "correct horse battery staple")

	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(phc, prefix) {
		t.Fatalf("Hash = %q, want prefix %q", phc, prefix)
	}
	fields := strings.Split(strings.TrimPrefix(phc, prefix), "$")
	if len(fields) != 2 {
		t.Fatalf("Hash = %q, want salt and hash after the params", phc)
	}
	for i, want := range []int{16, 32} {
		b, err := b64().DecodeString(fields[i])
		if err != nil || len(b) != want {
			t.Errorf("field %d %q decodes to %d bytes (err %v), want %d", i, fields[i], len(b), err, want)
		}
	}
	ok, rehash, err := h.Verify(context.Background(), "correct horse battery staple", phc)
	if !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestHashSaltsEachHash(t *testing.T) {
	h := newTestHasher(t)
	a := mustHash(t, h, "correct horse battery staple")
	b := mustHash(t, h, "correct horse battery staple")
	if a == b {
		t.Errorf("two hashes of the same password are equal: %q", a)
	}
}

func TestHashReadsSaltFromRand(t *testing.T) {
	salt := bytes.Repeat([]byte{0xAB}, int(testParams.SaltLen))
	h := NewHasher(testParams, 1, bytes.NewReader(salt))
	phc := mustHash(t, h, "pw")
	if want := "$" + b64().EncodeToString(salt) + "$"; !strings.Contains(phc, want) {
		t.Errorf("Hash = %q, want it to contain the salt %q", phc, want)
	}
	// The reader is now exhausted.
	if _, err := h.Hash(context.Background(), "pw"); err == nil {
		t.Errorf("Hash with an exhausted salt source succeeded, want error")
	}
	h = NewHasher(testParams, 1, iotest.ErrReader(errors.New("no entropy")))
	if _, err := h.Hash(context.Background(), "pw"); err == nil {
		t.Errorf("Hash with a failing salt source succeeded, want error")
	}
}

func TestVerifyReportsNeedsRehashWhenParamsChange(t *testing.T) {
	old := NewHasher(testParams, 1, crand.Reader)
	phc := mustHash(t, old, "correct horse battery staple")

	with := func(f func(*Params)) Params {
		p := testParams
		f(&p)
		return p
	}
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"same params", testParams, false},
		{"more memory", with(func(p *Params) { p.Memory = 128 }), true},
		{"more time", with(func(p *Params) { p.Time = 2 }), true},
		{"more threads", with(func(p *Params) { p.Threads = 2 }), true},
		{"longer salt", with(func(p *Params) { p.SaltLen = 32 }), true},
		{"longer key", with(func(p *Params) { p.KeyLen = 64 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(tt.params, 1, crand.Reader)
			ok, rehash, err := h.Verify(context.Background(), "correct horse battery staple", phc)
			if !ok || err != nil {
				t.Fatalf("Verify = %v, %v; want true, nil (the stored params verify)", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("needsRehash = %v, want %v", rehash, tt.want)
			}
			ok, rehash, err = h.Verify(context.Background(), "wrong password", phc)
			if ok || rehash || err != nil {
				t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestVerifyRejectsMalformedHash(t *testing.T) {
	h := newTestHasher(t)
	good := mustHash(t, h, "pw")
	i := strings.LastIndexByte(good, '$')
	j := strings.LastIndexByte(good[:i], '$')
	salt, key := good[j+1:i], good[i+1:]
	phc := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }

	tests := []struct {
		name string
		phc  string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"no version", strings.Replace(good, "v=19$", "", 1)},
		{"missing hash", good[:i]},
		{"extra field", good + "$AAAA"},
		{"params out of order", phc("t=1,m=64,p=1")},
		{"missing param", phc("m=64,t=1")},
		{"extra param", phc("m=64,t=1,p=1,keyid=abc")},
		{"non-numeric param", phc("m=sixty,t=1,p=1")},
		{"signed param", phc("m=+64,t=1,p=1")},
		{"negative param", phc("m=-64,t=1,p=1")},
		{"memory over 1 GiB", phc("m=1048577,t=1,p=1")},
		{"memory overflows uint32", phc("m=4294967296,t=1,p=1")},
		{"memory below 8 KiB per thread", phc("m=8,t=1,p=2")},
		{"time over 100", phc("m=64,t=101,p=1")},
		{"time zero", phc("m=64,t=0,p=1")},
		{"threads zero", phc("m=64,t=1,p=0")},
		{"threads over 255", phc("m=4096,t=1,p=256")},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key},
		{"hash too short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA"},
		{"hash too long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 1000)},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("!", len(salt)) + "$" + key},
		{"hash padded", good + "=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "pw", tt.phc)
			if !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Verify(%q) error = %v, want ErrInvalidHash", tt.phc, err)
			}
			if ok || rehash {
				t.Errorf("Verify(%q) = %v, %v; want false, false", tt.phc, ok, rehash)
			}
		})
	}
}

func TestHashingWaitsForAFreeSlot(t *testing.T) {
	h := NewHasher(testParams, 1, crand.Reader)
	phc := mustHash(t, h, "pw")
	h.slots <- struct{}{} // occupy the only slot

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Hash", func(ctx context.Context) error {
			_, err := h.Hash(ctx, "pw")
			return err
		}},
		{"Verify", func(ctx context.Context) error {
			_, _, err := h.Verify(ctx, "pw", phc)
			return err
		}},
		{"VerifyDummy", func(ctx context.Context) error {
			h.VerifyDummy(ctx, "pw")
			return ctx.Err()
		}},
	}
	for _, c := range calls {
		t.Run(c.name+" gives up when cancelled while waiting", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.call(ctx) }()
			select {
			case err := <-done:
				t.Fatalf("returned %v while the only slot was taken", err)
			case <-time.After(20 * time.Millisecond):
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("did not return after its context was cancelled")
			}
		})
		t.Run(c.name+" gives up when already cancelled", func(t *testing.T) {
			<-h.slots // even with a free slot
			defer func() { h.slots <- struct{}{} }()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := c.call(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
		})
	}

	<-h.slots // free the slot
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Errorf("Hash after the slot was freed: %v", err)
	}
}

func TestHasherIsSafeForConcurrentUse(t *testing.T) {
	// bytes.Reader is not safe for concurrent use; the Hasher must
	// serialise its reads.
	const n = 16
	h := NewHasher(testParams, 3, bytes.NewReader(bytes.Repeat([]byte("0123456789abcdef"), n)))
	var wg sync.WaitGroup
	phcs := make([]string, n)
	for i := range n {
		wg.Go(func() {
			phc, err := h.Hash(context.Background(), "pw")
			if err != nil {
				t.Errorf("Hash: %v", err)
				return
			}
			phcs[i] = phc
			if ok, _, err := h.Verify(context.Background(), "pw", phc); !ok || err != nil {
				t.Errorf("Verify = %v, %v; want true, nil", ok, err)
			}
		})
	}
	wg.Wait()
	if len(h.slots) != 0 {
		t.Errorf("%d hashing slots still taken after all calls returned", len(h.slots))
	}
}

func TestVerifyDummyDoesTheWorkOfAFailedVerify(t *testing.T) {
	h := newTestHasher(t)
	p, _, _, err := decode(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash %q is not a valid hash: %v", h.dummy, err)
	}
	if p != h.Params() {
		t.Errorf("dummy hash params = %+v, want the hasher's %+v", p, h.Params())
	}
	for _, pw := range []string{"", "pw", "correct horse battery staple"} {
		if ok, _, err := h.Verify(context.Background(), pw, h.dummy); ok || err != nil {
			t.Errorf("Verify(%q, dummy) = %v, %v; want false, nil", pw, ok, err)
		}
		h.VerifyDummy(context.Background(), pw)
	}
}

func TestNewHasherPanicsOnInvalidParams(t *testing.T) {
	tests := []struct {
		name   string
		params Params
	}{
		{"zero", Params{}},
		{"zero threads", Params{Memory: 64, Time: 1, SaltLen: 16, KeyLen: 32}},
		{"memory over 1 GiB", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"time over 100", Params{Memory: 64, Time: 101, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"short salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		{"short key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", tt.params)
				}
			}()
			NewHasher(tt.params, 1, crand.Reader)
		})
	}
}

func TestNewHasherDefaultsConcurrencyAndRand(t *testing.T) {
	h := NewHasher(testParams, 0, nil)
	if cap(h.slots) < 1 {
		t.Errorf("maxConcurrent 0 gave %d slots, want at least 1", cap(h.slots))
	}
	a, b := mustHash(t, h, "pw"), mustHash(t, h, "pw")
	if a == b {
		t.Errorf("nil rand: two hashes are equal, want crypto/rand salts")
	}
}

func TestNormalizeUsesNFKC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"１２３", "123"},
		{"cafe\u0301", "caf\u00e9"},
		{"\ufb01", "fi"},
		{"Ⅻ", "XII"},
		{"ｶ", "カ"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
