// Command atrium runs Atrium, the account center of a multi-tenant cloud console.
//
//	atrium [serve]   serve the console and the APIs (the default)
//	atrium migrate   apply database migrations and exit
//	atrium admin …   operator actions on the database (see "atrium admin help")
//	atrium version   print the version
//
// Settings come from flags and ATRIUM_* environment variables; see
// docs/configuration.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/media"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/password"
	"github.com/atrium-console/atrium/store"
	"github.com/atrium-console/atrium/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if code := atrium.ErrorCode(err); code != atrium.EInternal {
			fmt.Fprintf(os.Stderr, "atrium: %s (%s)\n", atrium.ErrorMessage(err), code)
		} else {
			fmt.Fprintln(os.Stderr, "atrium:", err)
		}
		os.Exit(1)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "admin":
		return admin(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "atrium", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: atrium [serve|migrate|admin|version] [flags]\n\nRun \"atrium serve -h\" for the settings.")
		return nil
	}
	return fmt.Errorf("unknown command %q; try serve, migrate, admin or version", cmd)
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openApp opens and migrates the database and builds the use cases.
func openApp(ctx context.Context, c *config, log *slog.Logger) (*app.App, error) {
	db, err := store.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	secret, err := c.secret()
	if err != nil {
		db.Close()
		return nil, err
	}
	senders, err := c.senders()
	if err != nil {
		db.Close()
		return nil, err
	}
	queue, err := notify.New(ctx, db, notify.Config{Secret: secret, Senders: senders, Development: c.development(), Log: log})
	if err != nil {
		db.Close()
		return nil, err
	}
	cfg := app.DefaultConfig()
	cfg.SessionIdle, cfg.SessionAbsolute, cfg.PasswordValidity = c.SessionIdle, c.SessionAbsolute, c.PasswordValidity
	cfg.PhoneRegion, cfg.CheckTimeout = c.PhoneRegion, c.DeletionCheckTimeout
	checkers, err := c.checkers()
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app.App{
		Notify:   queue,
		Secret:   secret,
		Images:   media.NewProcessor(media.DefaultLimits(), 2),
		Checkers: checkers,
		DB:       db,
		Hasher:   password.NewHasher(password.DefaultParams(), c.HashConcurrency, rand.Reader),
		Policy:   password.DefaultPolicy(),
		Config:   cfg,
		Now:      time.Now,
		Rand:     rand.Reader,
		Log:      log,
	}
	if err := a.SeedAgreements(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("seed agreements: %w", err)
	}
	return a, nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, _, err := parseConfig("atrium migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, c, newLogger(c.LogLevel, stderr))
	if err != nil {
		return err
	}
	defer a.DB.Close()
	v, err := a.DB.MigrationVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database (%s) is at migration %d\n", a.DB.Dialect, v)
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, _, err := parseConfig("atrium serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(c.LogLevel, stderr)
	a, err := openApp(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()

	queue := a.Notify.(*notify.Queue)
	wcfg := web.Config{Version: buildVersion(), Development: c.development(), SecureCookies: c.secure(), OperatorToken: c.OperatorToken, Outbox: queue, MetricsToken: c.MetricsToken}
	wcfg.TrustedProxies, _ = c.proxies()
	var banner []string
	if c.development() {
		demo, err := a.EnsureDemo(ctx)
		if err != nil {
			return fmt.Errorf("demo account: %w", err)
		}
		wcfg.DemoUsername = demo.Username
		if demo.Created {
			banner = append(banner, "Demo MSP account: "+demo.Username, "Initial password (shown once): "+demo.InitialPassword)
		} else {
			banner = append(banner, "Demo MSP account: "+demo.Username+" (its initial password was shown at the first start)")
		}
		if wcfg.OperatorToken == "" {
			tok, created, err := devOperatorToken(c.DataDir)
			if err != nil {
				return err
			}
			wcfg.OperatorToken = tok
			if created {
				banner = append(banner, "Operator token: "+tok)
			} else {
				banner = append(banner, "Operator token: in "+filepath.Join(c.DataDir, "operator-token"))
			}
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atrium_password_hashes_total", Help: "argon2id keys computed (sign-ins, verifications, changes)."},
			func() float64 { return float64(a.Hasher.Derivations()) }))
	srv, err := web.New(a, wcfg, log, reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	if c.PublicURL != "" {
		url = c.PublicURL
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("atrium started", "url", url, "addr", ln.Addr().String(), "env", c.Env, "database", a.DB.Dialect, "version", wcfg.Version)
	if len(banner) > 0 {
		fmt.Fprintf(stdout, "\nAtrium is running at %s (development mode)\n", url)
		for _, line := range banner {
			fmt.Fprintln(stdout, "  "+line)
		}
		fmt.Fprintln(stdout)
	}

	jobs, stopJobs := context.WithCancel(context.Background())
	if err := queue.Start(jobs); err != nil {
		stopJobs()
		return fmt.Errorf("start delivery: %w", err)
	}
	done := make(chan struct{})
	go func() { defer close(done); maintain(jobs, a, log) }()

	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- hs.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		stopJobs()
		<-done
		queue.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	// Deliveries under way finish (within the same timeout); no new ones start.
	if qerr := queue.Stop(sctx); qerr != nil {
		log.Warn("delivery stop", "error", qerr.Error())
	}
	stopJobs()
	<-done
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// maintain runs the scheduled jobs until ctx ends: every five minutes it
// deletes ended sessions and messages sent over 30 days ago, and sends the password expiry reminders that are due
// (each account is claimed in the database, so several nodes may run it).
func maintain(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		if n, err := a.SweepSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("session sweep", "error", err.Error())
		} else if n > 0 {
			log.Info("session sweep", "deleted", n)
		}
		if n, err := a.SweepMessages(ctx, 30*24*time.Hour); err != nil && ctx.Err() == nil {
			log.Warn("outbox sweep", "error", err.Error())
		} else if n > 0 {
			log.Info("outbox sweep", "deleted", n)
		}
		if n, err := a.RemindPasswordExpiry(ctx); err != nil && ctx.Err() == nil {
			log.Warn("password reminders", "error", err.Error())
		} else if n > 0 {
			log.Info("password reminders", "sent", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// devOperatorToken returns the development operator token kept in the data
// directory, creating it on the first start.
func devOperatorToken(dataDir string) (string, bool, error) {
	path := filepath.Join(dataDir, "operator-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), false, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, err
	}
	tok := "atrd_" + rand.Text()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", false, err
	}
	return tok, true, nil
}
