// Package web serves Atrium over HTTP: the JSON API, the operator API and the
// server-rendered console, with the middleware every response goes through. All
// routes are registered in routes.go.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/notify"
	"github.com/atrium-console/atrium/store"
)

// Config is what the web layer needs to know about the deployment.
type Config struct {
	Version        string
	Development    bool           // shows the development outbox link; never in production
	SecureCookies  bool           // served over TLS (directly or behind a TLS proxy): Secure, __Host- cookies and HSTS
	OperatorToken  string         // the configured operator token; tokens created by the CLI work too
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	DemoUsername   string         // shown on the sign-in page in development mode
	Outbox         Outbox         // the messages shown at /dev/outbox in development mode
	MetricsToken   string         // when set, /metrics needs "Authorization: Bearer <token>"
}

// Outbox lists queued and sent messages with their bodies.
type Outbox interface {
	Outbox(ctx context.Context, f store.MessageFilter) ([]notify.OutboxEntry, error)
}

// Server is Atrium's HTTP server.
type Server struct {
	app       *app.App
	cfg       Config
	log       *slog.Logger
	pages     map[string]*template.Template
	assets    *assets
	bundle    *i18n.Bundle
	metrics   *metrics
	registry  *prometheus.Registry
	handler   http.Handler
	startedAt time.Time
}

// New builds the server: templates, translations and assets are parsed once here.
// reg receives the server's Prometheus metrics and is what /metrics serves.
func New(a *app.App, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Server, error) {
	s := &Server{app: a, cfg: cfg, log: log, startedAt: time.Now(), registry: reg}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.bundle, err = loadBundle(); err != nil {
		return nil, err
	}
	if s.pages, err = s.loadTemplates(); err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// frame is the one middleware every request goes through: request ID, security
// headers (set before the handler runs, so 404s, 500s and panics carry them too),
// panic recovery, a JSON access log and metrics. One wrapper instead of a chain
// keeps the hot path short.
func (s *Server) frame(next http.Handler) http.Handler {
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		h := w.Header()
		h.Set("X-Request-ID", id)
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", slog.Any("panic", v), slog.String("request_id", id))
				if sw.status == 0 {
					s.writeProblem(sw, r, errPanic)
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.metrics.observe(route, status, elapsed)
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if s.log.Enabled(r.Context(), level) {
				s.log.LogAttrs(r.Context(), level, "request",
					slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", status), slog.Duration("duration", elapsed), slog.String("client_ip", s.clientIP(r)))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

var errPanic = &panicError{}

type panicError struct{}

func (*panicError) Error() string { return "panic in handler" }

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// clientIP returns the address of the client: the peer, or, when the peer is a
// trusted proxy, the nearest untrusted address in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(s.cfg.TrustedProxies) == 0 {
		return host
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
