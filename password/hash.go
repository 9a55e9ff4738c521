// Package password implements Atrium's password hashing and password policy.
//
// Passwords are hashed with argon2id and stored as PHC strings of the form
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// where salt and hash are unpadded standard base64. Before hashing, verifying
// or checking against the policy a password is normalised to Unicode NFKC, so
// the same password typed on different keyboards or input methods matches.
// Passwords are never truncated.
package password

import (
	"context"
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Limits on argon2id parameters. NewHasher refuses parameters outside them
// and Verify rejects stored hashes outside them, so that a corrupted or
// malicious hash cannot make the server burn unbounded memory or CPU.
const (
	maxMemory              = 1 << 20 // KiB, that is 1 GiB
	maxTime                = 100
	minSaltLen, maxSaltLen = 8, 64
	minKeyLen, maxKeyLen   = 16, 128
)

// ErrInvalidHash is returned, possibly wrapped, by Verify when the stored
// hash is not a well-formed argon2id PHC string or its parameters are
// outside the accepted limits.
var ErrInvalidHash = errors.New("password: invalid hash")

const phcPrefix = "$argon2id$v=19$"

// b64 returns the unpadded standard base64 encoding used by the PHC string
// format. Strict decoding rejects non-canonical encodings.
func b64() *base64.Encoding {
	return base64.RawStdEncoding.Strict()
}

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams returns the argon2id parameters recommended by OWASP:
// 19 MiB of memory, 2 passes, 1 thread, a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// validate reports whether p is within the accepted limits.
func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("memory %d KiB is less than 8 KiB per thread", p.Memory)
	case p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB exceeds %d KiB", p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d is outside 1..%d", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d is outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d is outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Normalize returns pw in Unicode normalisation form NFKC. Hash, Verify and
// Policy.Check apply it themselves; it is exported for callers that need to
// compare or store passwords in the same form.
func Normalize(pw string) string {
	return norm.NFKC.String(pw)
}

// A Hasher hashes and verifies passwords with argon2id. It bounds the number
// of hashes computed at once so that a flood of sign-in attempts cannot
// exhaust memory. A Hasher is safe for concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{} // semaphore: one element per running hash
	dummy  string        // PHC string with params that matches no password

	randMu sync.Mutex // serialises reads from rand, which may not be concurrency-safe
	rand   io.Reader

	derivations atomic.Uint64 // argon2id computations so far
}

// Derivations returns how many argon2id keys h has computed: the cost of the
// work done. Tests use it to check that an unknown account costs as much as a
// wrong password; metrics export it.
func (h *Hasher) Derivations() uint64 { return h.derivations.Load() }

// NewHasher returns a Hasher that uses p for new hashes and lets at most
// maxConcurrent hashes run at once (argon2id at m=19 MiB: bound memory under
// a sign-in flood). If maxConcurrent is less than 1, runtime.GOMAXPROCS(0) is
// used. rand is the salt source (crypto/rand.Reader in production); if it
// is nil, crypto/rand.Reader is used.
//
// NewHasher panics if p is outside the limits that Verify accepts, since
// such a Hasher would produce hashes it could not verify.
func NewHasher(p Params, maxConcurrent int, rand io.Reader) *Hasher {
	if err := p.validate(); err != nil {
		panic("password: NewHasher: invalid params: " + err.Error())
	}
	if maxConcurrent < 1 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	if rand == nil {
		rand = crand.Reader
	}
	// The dummy hash has h's parameters, a fixed salt and an all-zero key.
	// No password derives an all-zero key in practice, so verifying against
	// it costs exactly as much as verifying a real hash and always fails.
	salt := make([]byte, p.SaltLen)
	for i := range salt {
		salt[i] = byte(i)
	}
	return &Hasher{
		params: p,
		slots:  make(chan struct{}, maxConcurrent),
		dummy:  encode(p, salt, make([]byte, p.KeyLen)),
		rand:   rand,
	}
}

// Params returns the parameters h uses for new hashes.
func (h *Hasher) Params() Params {
	return h.params
}

// Hash returns the argon2id hash of the NFKC-normalised pw as a PHC string,
// such as $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. It waits for a free
// hashing slot and returns ctx.Err() if ctx is done first.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	h.randMu.Lock()
	_, err := io.ReadFull(h.rand, salt)
	h.randMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	key, err := h.derive(ctx, pw, salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether pw, once NFKC-normalised, matches the PHC string
// phc. The derived keys are compared in constant time. When ok is true,
// needsRehash reports whether phc was made with parameters other than h's,
// in which case the caller should store a fresh Hash of pw; needsRehash is
// always false when ok is false.
//
// Verify returns an error wrapping ErrInvalidHash if phc is malformed or its
// parameters are outside the accepted limits, and ctx.Err() if ctx is done
// before a hashing slot is free.
func (h *Hasher) Verify(ctx context.Context, pw, phc string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decode(phc)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, pw, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy does the same work as Verify against a fixed dummy hash made
// with h's parameters, so an unknown account costs the same time as a wrong
// password. Like Verify it waits for a hashing slot, and it returns early if
// ctx is done first.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) {
	_, _, _ = h.Verify(ctx, pw, h.dummy)
}

// derive computes the argon2id key of the normalised pw with salt and p,
// holding a hashing slot while it runs.
func (h *Hasher) derive(ctx context.Context, pw string, salt []byte, p Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	h.derivations.Add(1)
	return argon2.IDKey([]byte(Normalize(pw)), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// encode formats an argon2id PHC string.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s",
		phcPrefix, p.Memory, p.Time, p.Threads, b64().EncodeToString(salt), b64().EncodeToString(key))
}

// decode parses an argon2id PHC string and checks its parameters against
// the accepted limits before anything is allocated for them.
func decode(phc string) (p Params, salt, key []byte, err error) {
	invalid := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidHash}, args...)...)
	}
	rest, ok := strings.CutPrefix(phc, phcPrefix)
	if !ok {
		return invalid("not an argon2id v=19 PHC string")
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return invalid("want params, salt and hash fields, got %d fields", len(fields))
	}
	kv := strings.Split(fields[0], ",")
	if len(kv) != 3 {
		return invalid("want parameters m, t and p, got %q", fields[0])
	}
	var vals [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		bits := 32
		if name == "p" {
			bits = 8
		}
		if vals[i], err = parseParam(kv[i], name, bits); err != nil {
			return invalid("%v", err)
		}
	}
	p = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	// Check lengths before decoding to avoid allocating for absurd inputs.
	if n := b64().DecodedLen(len(fields[1])); n < minSaltLen || n > maxSaltLen {
		return invalid("salt length %d is outside %d..%d", n, minSaltLen, maxSaltLen)
	}
	if n := b64().DecodedLen(len(fields[2])); n < minKeyLen || n > maxKeyLen {
		return invalid("hash length %d is outside %d..%d", n, minKeyLen, maxKeyLen)
	}
	if salt, err = b64().DecodeString(fields[1]); err != nil {
		return invalid("salt: %v", err)
	}
	if key, err = b64().DecodeString(fields[2]); err != nil {
		return invalid("hash: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return invalid("%v", err)
	}
	return p, salt, key, nil
}

// parseParam parses the PHC parameter kv, which must be named name and have
// a decimal value that fits in bits bits.
func parseParam(kv, name string, bits int) (uint64, error) {
	val, ok := strings.CutPrefix(kv, name+"=")
	if !ok {
		return 0, fmt.Errorf("want parameter %s, got %q", name, kv)
	}
	n, err := strconv.ParseUint(val, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("parameter %s: %w", name, err)
	}
	return n, nil
}
