// Package atriumtest builds real Atrium instances for tests: a fresh SQLite
// database per test, and a fresh PostgreSQL schema per test when
// ATRIUM_TEST_DATABASE_URL is set, with a fake clock and cheap password hashing.
package atriumtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/media"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/password"
	"github.com/atrium-console/atrium/store"
)

// PostgresEnv names the variable with the PostgreSQL URL the tests use.
const PostgresEnv = "ATRIUM_TEST_DATABASE_URL"

// Dialects returns the dialects to run a suite on: SQLite always, PostgreSQL when
// ATRIUM_TEST_DATABASE_URL is set.
func Dialects() []string {
	if os.Getenv(PostgresEnv) != "" {
		return []string{store.SQLite, store.Postgres}
	}
	return []string{store.SQLite}
}

// ForEachDialect runs f as a subtest on every dialect, and reports once why
// PostgreSQL is skipped.
func ForEachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range []string{store.SQLite, store.Postgres} {
		t.Run(d, func(t *testing.T) {
			if d == store.Postgres && os.Getenv(PostgresEnv) == "" {
				Skip(t, "PostgreSQL tests skipped: set "+PostgresEnv+" (e.g. postgres://postgres@127.0.0.1:5432/test) to run them")
			}
			f(t, d)
		})
	}
}

// MustOpenDB opens a fresh, migrated database of the dialect, closed (and on
// PostgreSQL dropped) when the test ends.
func MustOpenDB(tb testing.TB, dialect string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	var db *store.DB
	var err error
	switch dialect {
	case store.SQLite:
		db, err = store.Open(ctx, "", tb.TempDir())
	case store.Postgres:
		db, err = openPostgresSchema(tb)
	default:
		tb.Fatalf("unknown dialect %q", dialect)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func openPostgresSchema(tb testing.TB) (*store.DB, error) {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		Skip(tb, "PostgreSQL tests skipped: set "+PostgresEnv)
	}
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create schema (is PostgreSQL running at %s?): %w", base, err)
	}
	tb.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Open(context.Background(), u.String(), "")
}

// RequireAllEnv names the variable that CI sets so that a test which would skip
// for a missing browser or database fails instead.
const RequireAllEnv = "ATRIUM_REQUIRE_ALL"

// Skip skips the test with why, or fails it when ATRIUM_REQUIRE_ALL is set.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv(RequireAllEnv) != "" {
		tb.Fatal(why + " (" + RequireAllEnv + " is set, so this fails instead of skipping)")
	}
	tb.Skip(why)
}

// Clock is a fake clock that tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at a fixed, round time.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// CheapParams are argon2id parameters cheap enough for tests.
func CheapParams() password.Params {
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	return p
}

// NewApp returns the use cases on a fresh database of the dialect, with a fake
// clock and cheap hashing. Logs go to w (io.Discard when nil).
func NewApp(tb testing.TB, dialect string, clock *Clock, w io.Writer) *app.App {
	tb.Helper()
	if w == nil {
		w = io.Discard
	}
	db := MustOpenDB(tb, dialect)
	q, err := notify.New(context.Background(), db, notify.Config{
		Secret: Secret, Development: true, Log: slog.New(slog.NewJSONHandler(w, nil)), Now: clock.Now,
		Senders: map[string]notify.Sender{notify.ChannelEmail: Discard{}, notify.ChannelSMS: Discard{}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	a := &app.App{
		DB:     db,
		Hasher: password.NewHasher(CheapParams(), 4, rand.Reader),
		Policy: password.DefaultPolicy(),
		Config: app.DefaultConfig(),
		Now:    clock.Now,
		Rand:   rand.Reader,
		Log:    slog.New(slog.NewJSONHandler(w, nil)),
		Notify: q,
		Secret: Secret,
		Images: media.NewProcessor(media.DefaultLimits(), 2),
	}
	if err := a.SeedAgreements(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return a
}

// Secret is the server secret of test instances.
var Secret = []byte("test-secret-0123456789abcdef-0123456789")

// Discard is a Sender that accepts every message; the outbox keeps them.
type Discard struct{}

// Send accepts e.
func (Discard) Send(context.Context, notify.Envelope) error { return nil }

// Outbox returns the messages the app has queued, newest last, with bodies.
func Outbox(tb testing.TB, a *app.App) []notify.OutboxEntry {
	tb.Helper()
	out, err := a.Notify.(*notify.Queue).Outbox(context.Background(), store.MessageFilter{Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

// LastCode returns the newest verification code sent to the address, or fails.
func LastCode(tb testing.TB, a *app.App, to string) string {
	tb.Helper()
	out := Outbox(tb, a)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].To == to && out[i].Kind == notify.KindCode {
			if m := codeRe.FindString(out[i].Body); m != "" {
				return m
			}
		}
	}
	tb.Fatalf("no code was sent to %s", to)
	return ""
}

// TempFile is a helper for tests that need a file path.
func TempFile(tb testing.TB, name, content string) string {
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// SyncBuffer collects output written from several goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// Logger returns a JSON logger that writes to w.
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}
