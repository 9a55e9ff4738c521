package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/atrium-console/atrium/atriumtest"
)

// postgresEnv names the variable with the PostgreSQL URL the tests use.
const postgresEnv = atriumtest.PostgresEnv

const (
	startTimeout = 30 * time.Second // until the banner is complete
	stopTimeout  = 10 * time.Second // from SIGTERM until the process is killed
)

// binDir holds the binary that TestMain's run builds once.
var binDir string

// minParallel is the least number of parallel tests (go test -parallel) that
// TestMain allows when the command line does not say: a browser test spends
// most of its time waiting, on the browser and on the server's resend cooldown
// of codes (60 s per address), so the number of CPUs, the default, is a poor
// limit.
const minParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if p := flag.Lookup("test.parallel"); p != nil && !explicit && runtime.GOMAXPROCS(0) < minParallel {
		p.Value.Set(strconv.Itoa(minParallel))
	}
	dir, err := os.MkdirTemp("", "atrium-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var build struct {
	once sync.Once
	path string
	err  error
}

// atriumBinary builds cmd/atrium the first time a test needs it and returns its path.
func atriumBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			build.err = err
			return
		}
		out := filepath.Join(binDir, "atrium")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/atrium")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/atrium in %s: %v\n%s", root, err, b)
			return
		}
		build.path = out
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// moduleRoot is the nearest directory at or above the working directory (e2e/
// under go test) that has a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// instance is a running Atrium subprocess.
type instance struct {
	URL           string // http://127.0.0.1:port, without a trailing slash
	Username      string // of the demo MSP account
	Password      string // the demo account's initial password
	OperatorToken string
	DataDir       string

	cmd    *exec.Cmd
	stdout *bannerWriter
	stderr *syncBuffer
}

// startAtrium runs the binary in development mode on a fresh data directory,
// listening on a free port, with the extra environment env. It returns once the
// banner gave the URL, the demo account and the operator token. At cleanup the
// process gets SIGTERM and must exit with status 0 within 10 s; its logs are
// shown when the test failed.
func startAtrium(t *testing.T, env map[string]string) *instance {
	t.Helper()
	bin := atriumBinary(t)
	inst := &instance{DataDir: t.TempDir(), stdout: newBannerWriter(), stderr: &syncBuffer{}}

	vars := map[string]string{
		"ATRIUM_ADDR":     "127.0.0.1:0",
		"ATRIUM_DATA_DIR": inst.DataDir,
		"ATRIUM_ENV":      "development",
	}
	for k, v := range env {
		vars[k] = v
	}
	cmd := exec.Command(bin)
	cmd.Dir = inst.DataDir
	// Settings of the developer's shell (ATRIUM_OPERATOR_TOKEN, …) must not leak in.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ATRIUM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = inst.stdout
	cmd.Stderr = inst.stderr
	inst.cmd = cmd
	if err := cmd.Start(); err != nil {
		t.Fatalf("start atrium: %v", err)
	}

	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
			t.Errorf("atrium exited before the end of the test: %v", waitErr)
		default:
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Errorf("SIGTERM atrium: %v", err)
			}
			timer := time.NewTimer(stopTimeout)
			defer timer.Stop()
			select {
			case <-exited:
				if waitErr != nil {
					t.Errorf("atrium did not shut down cleanly on SIGTERM: %v", waitErr)
				}
			case <-timer.C:
				t.Errorf("atrium still running %s after SIGTERM; killing it", stopTimeout)
				cmd.Process.Kill()
				<-exited
			}
		}
		if t.Failed() {
			inst.logOutput(t)
		}
	})

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-inst.stdout.done:
	case <-exited:
		t.Fatalf("atrium exited before printing its banner: %v", waitErr)
	case <-timer.C:
		t.Fatalf("no complete banner on atrium's stdout within %s", startTimeout)
	}
	b := inst.stdout.banner()
	inst.URL = strings.TrimSuffix(b["url"], "/")
	inst.Username, inst.Password, inst.OperatorToken = b["username"], b["password"], b["token"]
	return inst
}

func (inst *instance) logOutput(t *testing.T) {
	t.Helper()
	t.Logf("atrium stdout:\n%s", inst.stdout.String())
	t.Logf("atrium stderr:\n%s", inst.stderr.String())
}

// setMSPAuthenticated calls the operator API to mark the MSP (not) authenticated.
func (inst *instance) setMSPAuthenticated(ctx context.Context, mspID int64, authenticated bool) error {
	body := fmt.Sprintf(`{"authenticated":%t}`, authenticated)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/admin/v1/msps/%d/authentication", inst.URL, mspID), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+inst.OperatorToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %s: %s", req.URL.Path, res.Status, b)
	}
	return nil
}

// bannerPatterns find the values of the development banner, such as
//
//	Atrium is running at http://127.0.0.1:18080 (development mode)
//	  Demo MSP account: demo
//	  Initial password (shown once): 2K68hQymjsh5dssx
//	  Operator token: atrd_2GKNGW5XYJPTUKMTAHJMXXNILY
var bannerPatterns = map[string]*regexp.Regexp{
	"url":      regexp.MustCompile(`^Atrium is running at (\S+)`),
	"username": regexp.MustCompile(`^\s*Demo MSP account: (\S+)`),
	"password": regexp.MustCompile(`^\s*Initial password \(shown once\): (\S+)`),
	"token":    regexp.MustCompile(`^\s*Operator token: (\S+)`),
}

// bannerWriter is atrium's stdout: it keeps everything and closes done once
// every value of the banner has been seen.
type bannerWriter struct {
	mu     sync.Mutex
	all    bytes.Buffer
	line   []byte
	values map[string]string
	done   chan struct{}
}

func newBannerWriter() *bannerWriter {
	return &bannerWriter{values: map[string]string{}, done: make(chan struct{})}
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		line := string(w.line[:i])
		w.line = w.line[i+1:]
		if len(w.values) == len(bannerPatterns) {
			continue
		}
		for k, re := range bannerPatterns {
			if m := re.FindStringSubmatch(line); m != nil {
				w.values[k] = m[1]
			}
		}
		if len(w.values) == len(bannerPatterns) {
			close(w.done)
		}
	}
	return len(p), nil
}

func (w *bannerWriter) banner() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.values))
	for k, v := range w.values {
		out[k] = v
	}
	return out
}

func (w *bannerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// forEachDatabase runs f as a subtest on SQLite, and on PostgreSQL when
// ATRIUM_TEST_DATABASE_URL is set (without it, the PostgreSQL subtest skips, or
// fails when ATRIUM_REQUIRE_ALL is set). f gets the extra environment of Atrium.
func forEachDatabase(t *testing.T, f func(t *testing.T, env map[string]string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, map[string]string{}) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(postgresEnv) == "" {
			atriumtest.Skip(t, "PostgreSQL tests skipped: set "+postgresEnv+" (e.g. postgres://postgres@127.0.0.1:5432/test) to run them")
		}
		f(t, map[string]string{"ATRIUM_DATABASE_URL": postgresSchema(t)})
	})
}

// postgresSchema creates a fresh schema in the database of
// ATRIUM_TEST_DATABASE_URL, dropped at cleanup, and returns a URL that uses it.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	schema := "e2e_" + strings.ToLower(rand.Text()[:16])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		t.Fatalf("create schema (is PostgreSQL running at %s?): %v", base, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
