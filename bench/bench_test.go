package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver, as in store
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // "sqlite" database/sql driver, as in store

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/store"
	"github.com/atrium-console/atrium/web"
)

// Load shape: b.RunParallel runs clientsPerCPU × GOMAXPROCS client goroutines,
// each with its own keep-alive connection (MaxIdleConnsPerHost is larger than
// the number of goroutines, so connections are reused, never re-dialled). With
// -cpu 2 that is 16 requests in flight, enough to keep both cores busy.
// Override with: go test ./bench/ -run '^$' -bench Me -args -clients-per-cpu 1
var clientsPerCPU = flag.Int("clients-per-cpu", 8, "client goroutines per GOMAXPROCS in the Me benchmarks")

const maxIdlePerHost = 64

const (
	benchUsername = "bench"
	benchPassword = "Lantern-Orbit-2741"
	mePath        = "/api/v1/me"
)

// The bare handler runs the same SQL as store.SessionByTokenHash and
// store.AccountByID (store's sessionSelect and accountSelect, copied: they are
// unexported).
const (
	bareSessionSQL = `SELECT id, account_id, created_at, last_seen_at, expires_at, client_ip, user_agent FROM sessions WHERE token_hash = $1`
	bareAccountSQL = `SELECT a.id, a.kind, a.role, COALESCE(a.msp_id, 0), COALESCE(a.tenant_id, 0),
	a.username, COALESCE(a.email, ''), COALESCE(a.phone, ''), a.language, a.password_hash,
	a.password_changed_at, a.password_must_change, a.agreements_pending, a.two_factor_enabled,
	a.failed_logins, a.locked_until, a.avatar_id, a.last_login_at, a.created_at,
	COALESCE(m.name, t.name, ''), COALESCE(m.authenticated, FALSE), a.totp_enabled
FROM accounts a
LEFT JOIN msps m ON m.id = a.msp_id
LEFT JOIN tenants t ON t.id = a.tenant_id WHERE a.id = $1`
)

// fixture is a fresh database holding one MSP with its owner and one live
// session of the owner, plus the Atrium app on it.
type fixture struct {
	dialect string
	app     *app.App
	token   string // bearer token of the owner's session
	// bareDriver and bareDSN open the bare handler's own database/sql handle on
	// the same data: the same PostgreSQL schema, or on SQLite a copy of the
	// database file (VACUUM INTO) opened with store's pragmas.
	bareDriver, bareDSN string
}

func dialects() []string { return []string{store.SQLite, store.Postgres} }

// newFixture builds the fixture with atriumtest.NewApp (fresh database, cheap
// hashing), switched to the real clock and a quiet logger as in production. It
// skips tb for PostgreSQL when ATRIUM_TEST_DATABASE_URL is unset.
func newFixture(tb testing.TB, dialect string) *fixture {
	tb.Helper()
	ctx := context.Background()
	if dialect == store.Postgres && os.Getenv(atriumtest.PostgresEnv) == "" {
		tb.Skip("PostgreSQL benchmarks skipped: set " + atriumtest.PostgresEnv + " (e.g. postgres://postgres@127.0.0.1:5432/test) to run them")
	}
	f := &fixture{dialect: dialect}
	f.app = atriumtest.NewApp(tb, dialect, atriumtest.NewClock(), nil)
	f.app.Now = time.Now
	f.app.Log = quietLogger()
	if _, err := f.app.CreateMSP(ctx, app.MSPInput{Name: "Bench MSP", Owner: app.OwnerInput{Username: benchUsername, Password: benchPassword}}); err != nil {
		tb.Fatal(err)
	}
	res, err := f.app.Login(ctx, app.LoginInput{Identifier: benchUsername, Password: benchPassword, ClientIP: "127.0.0.1", UserAgent: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	if res.Token == "" || len(res.Pending) == 0 {
		tb.Fatalf("expected a session with pending actions, got %+v", res)
	}
	f.token = res.Token

	switch dialect {
	case store.SQLite:
		path := filepath.Join(tb.TempDir(), "bare.db")
		if err := f.app.DB.Exec(ctx, `VACUUM INTO $1`, path); err != nil {
			tb.Fatalf("copy the database for the bare handler: %v", err)
		}
		f.bareDriver, f.bareDSN = "sqlite", sqliteDSN(path)
	case store.Postgres:
		f.bareDriver, f.bareDSN = "pgx", postgresDSN(tb, f.app.DB)
	}
	return f
}

// sqliteDSN is the DSN store.Open uses for its read pool: WAL, foreign keys, busy
// timeout, synchronous=NORMAL.
func sqliteDSN(path string) string {
	params := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		params.Add("_pragma", p)
	}
	return "file:" + path + "?" + params.Encode()
}

// postgresDSN returns a DSN for the schema atriumtest made for db. atriumtest
// does not export the schema name, so db is asked for it: the only way to run
// SQL on a store.DB from outside is Exec, which returns no rows, so the name
// comes back as the message of a raised exception.
func postgresDSN(tb testing.TB, db *store.DB) string {
	err := db.Exec(context.Background(), `DO $$ BEGIN RAISE EXCEPTION 'schema=%', current_schema(); END $$`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || !strings.HasPrefix(pgErr.Message, "schema=") {
		tb.Fatalf("find the PostgreSQL schema: %v", err)
	}
	u, err := url.Parse(os.Getenv(atriumtest.PostgresEnv))
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", strings.TrimPrefix(pgErr.Message, "schema="))
	u.RawQuery = q.Encode()
	return u.String()
}

// quietLogger discards everything and reports Info as disabled, so web's frame
// skips building the access log, as a production server at level Warn would.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// atriumServer serves the real Atrium handler on loopback.
func atriumServer(tb testing.TB, f *fixture) *httptest.Server {
	tb.Helper()
	h, err := web.New(f.app, web.Config{Version: "bench"}, quietLogger(), prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// bareServer serves a plain net/http handler doing Atrium's two lookups on the
// fixture's database, with its own pool sized as store's and statements prepared
// once, and no middleware.
func bareServer(tb testing.TB, f *fixture) *httptest.Server {
	tb.Helper()
	ctx := context.Background()
	db, err := sql.Open(f.bareDriver, f.bareDSN)
	if err != nil {
		tb.Fatal(err)
	}
	if f.dialect == store.SQLite {
		db.SetMaxOpenConns(max(4, runtime.NumCPU()))
		db.SetMaxIdleConns(max(4, runtime.NumCPU()))
		db.SetConnMaxIdleTime(0)
	} else {
		db.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
		db.SetMaxIdleConns(max(8, 4*runtime.NumCPU()))
		db.SetConnMaxLifetime(30 * time.Minute)
	}
	tb.Cleanup(func() { db.Close() })
	sessionStmt, err := db.PrepareContext(ctx, bareSessionSQL)
	if err != nil {
		tb.Fatal(err)
	}
	accountStmt, err := db.PrepareContext(ctx, bareAccountSQL)
	if err != nil {
		tb.Fatal(err)
	}
	idle := app.DefaultConfig().SessionIdle

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+mePath, func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		sum := sha256.Sum256([]byte(tok))
		var s struct {
			id, accountID, created, seen, expires int64
			clientIP, userAgent                   string
		}
		err := sessionStmt.QueryRowContext(r.Context(), sum[:]).Scan(&s.id, &s.accountID, &s.created, &s.seen, &s.expires, &s.clientIP, &s.userAgent)
		if err == sql.ErrNoRows {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		now := time.Now()
		if !now.Before(time.UnixMicro(s.expires)) || !now.Before(time.UnixMicro(s.seen).Add(idle)) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var a struct {
			id, mspID, tenantID, changed, created            int64
			kind, role, username, email, phone, lang, pwHash string
			mustChange, agreements, twoFactor, mspAuth, totp bool
			failed                                           int
			locked, lastLogin                                sql.NullInt64
			avatar, org                                      string
		}
		err = accountStmt.QueryRowContext(r.Context(), s.accountID).Scan(&a.id, &a.kind, &a.role, &a.mspID, &a.tenantID,
			&a.username, &a.email, &a.phone, &a.lang, &a.pwHash,
			&a.changed, &a.mustChange, &a.agreements, &a.twoFactor,
			&a.failed, &a.locked, &a.avatar, &a.lastLogin, &a.created,
			&a.org, &a.mspAuth, &a.totp)
		if err == sql.ErrNoRows {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
			Kind     string `json:"kind"`
			Role     string `json:"role"`
			Org      string `json:"org"`
		}{a.id, a.username, a.kind, a.role, a.org})
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

func newClient(tb testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConns: maxIdlePerHost, MaxIdleConnsPerHost: maxIdlePerHost}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// getMe requests GET /api/v1/me with the bearer token and returns the status
// and body.
func getMe(c *http.Client, base, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, base+mePath, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// runLoad measures GET /api/v1/me against srv and reports req/s.
func runLoad(b *testing.B, srv *httptest.Server, token string) {
	c := newClient(b)
	if status, body, err := getMe(c, srv.URL, token); err != nil || status != http.StatusOK {
		b.Fatalf("warm-up request: status %d, err %v, body %s", status, err, body)
	}
	b.ReportAllocs()
	b.SetParallelism(*clientsPerCPU)
	cpu0, cpuOK := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodGet, srv.URL+mePath, nil)
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode != http.StatusOK {
				b.Errorf("GET %s: status %d", mePath, resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
	}
}

// BenchmarkMeAtrium measures GET /api/v1/me on the real Atrium server (web.New:
// frame middleware, cross-origin protection, mux, api wrapper, App.Authenticate,
// meView) over loopback HTTP/1.1 keep-alive connections.
func BenchmarkMeAtrium(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d, func(b *testing.B) {
			f := newFixture(b, d)
			srv := atriumServer(b, f)
			runLoad(b, srv, f.token)
		})
	}
}

// BenchmarkMeBare is the baseline: a bare net/http handler doing the same two
// prepared lookups on the same kind of database, answering a small JSON.
func BenchmarkMeBare(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d, func(b *testing.B) {
			f := newFixture(b, d)
			srv := bareServer(b, f)
			runLoad(b, srv, f.token)
		})
	}
}

// TestHarnessWorks runs each handler once, without timing, so that CI keeps the
// benchmark harness working.
func TestHarnessWorks(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			c := newClient(t)
			for name, srv := range map[string]*httptest.Server{"atrium": atriumServer(t, f), "bare": bareServer(t, f)} {
				status, body, err := getMe(c, srv.URL, f.token)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if status != http.StatusOK {
					t.Fatalf("%s: status %d, body %s", name, status, body)
				}
				var me struct {
					Username string   `json:"username"`
					Pending  []string `json:"pending"`
				}
				if err := json.Unmarshal(body, &me); err != nil {
					t.Fatalf("%s: %v in %s", name, err, body)
				}
				if me.Username != benchUsername {
					t.Errorf("%s: username %q, want %q", name, me.Username, benchUsername)
				}
				if name == "atrium" && len(me.Pending) == 0 {
					t.Errorf("atrium: want pending actions in %s", body)
				}
				if status, _, _ := getMe(c, srv.URL, "wrong"+f.token); status != http.StatusUnauthorized {
					t.Errorf("%s: unknown token: status %d, want 401", name, status)
				}
			}
		})
	}
}
