package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"
)

const (
	testUser     = "atrium"
	testPassword = "s3cr3t-Pa55w0rd"
	testFrom     = "Atrium <no-reply@example.com>"
	testTo       = "user@example.com"
	testCode     = "123456"
)

// testMessage returns a message with a Chinese subject, a verification code
// in both bodies and an HTML alternative.
func testMessage() Message {
	return Message{
		To:      testTo,
		Subject: "验证码",
		Text:    "您的验证码是 " + testCode + "。Your code is " + testCode + ".",
		HTML:    "<p>您的验证码是 <b>" + testCode + "</b>。</p>",
	}
}

// received is one message as the test SMTP server saw it.
type received struct {
	from     string
	to       []string
	data     []byte
	tls      bool
	authUser string
}

// backend is a go-smtp Backend that records what it receives. Its fields
// other than mu, sessions and msgs are set before the server starts.
type backend struct {
	user, pass string // required credentials; empty means no AUTH needed
	rcptErr    error  // the answer to RCPT TO, if not nil
	dataErr    error  // the answer at the end of DATA, if not nil
	stall      chan struct{}
	stalled    chan struct{} // closed once a session stalls in RCPT TO
	stallOnce  sync.Once

	mu       sync.Mutex
	sessions int
	msgs     []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	b.sessions++
	b.mu.Unlock()
	return &session{b: b, conn: c}, nil
}

func (b *backend) received() ([]received, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...), b.sessions
}

type session struct {
	b      *backend
	conn   *smtp.Conn
	user   string
	authed bool
	cur    received
}

func (s *session) AuthMechanisms() []string {
	return []string{sasl.Plain, sasl.Login, "CRAM-MD5"}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.b.user || pass != s.b.pass {
			return smtp.ErrAuthFailed
		}
		s.user, s.authed = user, true
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return check(user, pass)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramMD5Server{b: s.b, done: func(user string) { s.user, s.authed = user, true }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = received{from: from, tls: isTLS, authUser: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.stall != nil {
		s.b.stallOnce.Do(func() { close(s.b.stalled) })
		<-s.b.stall
	}
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// loginServer is the server side of SASL LOGIN.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// cramMD5Server is the server side of SASL CRAM-MD5.
type cramMD5Server struct {
	b         *backend
	challenge []byte
	done      func(user string)
}

func (c *cramMD5Server) Next(resp []byte) ([]byte, bool, error) {
	if c.challenge == nil {
		c.challenge = []byte("<1896.697170952@127.0.0.1>")
		return c.challenge, false, nil
	}
	user, digest, ok := strings.Cut(string(resp), " ")
	mac := hmac.New(md5.New, []byte(c.b.pass))
	mac.Write(c.challenge)
	want := hex.EncodeToString(mac.Sum(nil))
	if !ok || user != c.b.user || !hmac.Equal([]byte(digest), []byte(want)) {
		return nil, true, smtp.ErrAuthFailed
	}
	c.done(user)
	return nil, true, nil
}

// tlsMode is how the test server offers TLS.
type tlsMode int

const (
	noTLS       tlsMode = iota // plain SMTP, no STARTTLS
	startTLS                   // plain SMTP offering STARTTLS
	implicitTLS                // TLS from the first byte (smtps)
)

// newTestCert makes a self-signed ECDSA certificate for 127.0.0.1 and
// returns it with a pool that trusts it.
func newTestCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "atrium test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// startServer starts an SMTP server for be on 127.0.0.1 and returns its
// address and a pool trusting its certificate.
func startServer(t *testing.T, be *backend, mode tlsMode) (string, *x509.CertPool) {
	t.Helper()
	cert, pool := newTestCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch mode {
	case startTLS:
		srv.TLSConfig = tlsCfg
	case implicitTLS:
		ln = tls.NewListener(ln, tlsCfg)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close may run before Serve has registered the listener.
		_ = ln.Close()
		<-done
	})
	if be.stall != nil {
		// Registered after srv.Close, so it runs first and frees the session.
		t.Cleanup(func() { close(be.stall) })
	}
	return ln.Addr().String(), pool
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	if cfg.From == "" {
		cfg.From = testFrom
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%v): %v", cfg, err)
	}
	return s
}

// mailURL builds a URL for the test server at addr.
func mailURL(scheme, userinfo, addr, query string) string {
	u := scheme + "://"
	if userinfo != "" {
		u += userinfo + "@"
	}
	u += addr
	if query != "" {
		u += "?" + query
	}
	return u
}

// parsed is a received message taken apart.
type parsed struct {
	header netmail.Header
	parts  map[string]string // decoded leaf bodies by media type
	types  []string          // media types of all entities, outermost first
}

func parseMessage(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	p := parsed{header: msg.Header, parts: map[string]string{}}
	collectParts(t, &p, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return p
}

func collectParts(t *testing.T, p *parsed, contentType, cte string, body io.Reader) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	p.types = append(p.types, mediaType)
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			collectParts(t, p, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
		}
	}
	if cs := params["charset"]; !strings.EqualFold(cs, "utf-8") {
		t.Errorf("%s part has charset %q, want UTF-8", mediaType, cs)
	}
	if strings.EqualFold(cte, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("reading %s part: %v", mediaType, err)
	}
	p.parts[mediaType] = string(b)
}

// checkDelivered checks that exactly one message arrived and that it is m.
func checkDelivered(t *testing.T, be *backend, m Message, wantTLS bool, wantAuthUser string) {
	t.Helper()
	msgs, _ := be.received()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != "no-reply@example.com" {
		t.Errorf("MAIL FROM = %q, want no-reply@example.com", got.from)
	}
	if len(got.to) != 1 || got.to[0] != m.To {
		t.Errorf("RCPT TO = %q, want [%s]", got.to, m.To)
	}
	if got.tls != wantTLS {
		t.Errorf("delivered over TLS = %v, want %v", got.tls, wantTLS)
	}
	if got.authUser != wantAuthUser {
		t.Errorf("authenticated user = %q, want %q", got.authUser, wantAuthUser)
	}

	p := parseMessage(t, got.data)
	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Atrium" || from[0].Address != "no-reply@example.com" {
		t.Errorf("From = %v (%v), want Atrium <no-reply@example.com>", from, err)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To = %v (%v), want %s", to, err, m.To)
	}
	rawSubject := p.header.Get("Subject")
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != m.Subject {
		t.Errorf("Subject = %q (raw %q, %v), want %q", subject, rawSubject, err, m.Subject)
	}
	if rawSubject == m.Subject {
		t.Errorf("Subject %q was sent as raw UTF-8, want an encoded word", rawSubject)
	}
	if id := p.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q, want <…@example.com>", id)
	}
	if _, err := p.header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if !strings.Contains(p.parts["text/plain"], m.Text) {
		t.Errorf("text part = %q, want it to contain %q", p.parts["text/plain"], m.Text)
	}
	if m.HTML == "" {
		if len(p.types) != 1 || p.types[0] != "text/plain" {
			t.Errorf("entities = %v, want a single text/plain", p.types)
		}
		return
	}
	if p.types[0] != "multipart/alternative" {
		t.Errorf("top-level type = %s, want multipart/alternative (entities %v)", p.types[0], p.types)
	}
	if !strings.Contains(p.parts["text/html"], m.HTML) {
		t.Errorf("HTML part = %q, want it to contain %q", p.parts["text/html"], m.HTML)
	}
}

// checkErrorClean fails when err's text reveals the password or the code.
func checkErrorClean(t *testing.T, err error) {
	t.Helper()
	for _, secret := range []string{testPassword, testCode} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text %q contains %q", err, secret)
		}
	}
}

func TestSendDeliversOverEachTransport(t *testing.T) {
	textOnly := testMessage()
	textOnly.HTML = ""
	tests := []struct {
		name      string
		mode      tlsMode
		scheme    string
		query     string
		trustCert bool
		msg       Message
		wantTLS   bool
	}{
		{name: "plain SMTP when starttls=off", mode: noTLS, scheme: "smtp", query: "starttls=off", msg: testMessage()},
		{name: "plain SMTP when starttls=optional and the server has none", mode: noTLS, scheme: "smtp", query: "starttls=optional", msg: testMessage()},
		{name: "STARTTLS with a certificate trusted through TLSConfig", mode: startTLS, scheme: "smtp", trustCert: true, msg: testMessage(), wantTLS: true},
		{name: "STARTTLS when optional and offered", mode: startTLS, scheme: "smtp", query: "starttls=optional", trustCert: true, msg: testMessage(), wantTLS: true},
		{name: "STARTTLS with insecure_skip_verify", mode: startTLS, scheme: "smtp", query: "insecure_skip_verify=1", msg: testMessage(), wantTLS: true},
		{name: "implicit TLS with smtps", mode: implicitTLS, scheme: "smtps", trustCert: true, msg: testMessage(), wantTLS: true},
		{name: "text-only message as a single text/plain part", mode: startTLS, scheme: "smtp", trustCert: true, msg: textOnly, wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			addr, pool := startServer(t, be, tt.mode)
			cfg := Config{URL: mailURL(tt.scheme, "", addr, tt.query), Timeout: 10 * time.Second}
			if tt.trustCert {
				cfg.TLSConfig = &tls.Config{RootCAs: pool}
			}
			if err := newSender(t, cfg).Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			checkDelivered(t, be, tt.msg, tt.wantTLS, "")
		})
	}
}

func TestSendAuthenticates(t *testing.T) {
	tests := []struct {
		name     string
		mode     tlsMode
		scheme   string
		query    string
		password string
		wantErr  bool
	}{
		{name: "PLAIN by default with the right password", mode: startTLS, scheme: "smtp", password: testPassword},
		{name: "PLAIN over smtps", mode: implicitTLS, scheme: "smtps", password: testPassword},
		{name: "LOGIN with the right password", mode: startTLS, scheme: "smtp", query: "auth=login", password: testPassword},
		{name: "CRAM-MD5 with the right password", mode: startTLS, scheme: "smtp", query: "auth=cram-md5", password: testPassword},
		{name: "PLAIN with a wrong password fails", mode: startTLS, scheme: "smtp", password: testPassword + "x", wantErr: true},
		{name: "LOGIN with a wrong password fails", mode: implicitTLS, scheme: "smtps", query: "auth=login", password: testPassword + "x", wantErr: true},
		{name: "CRAM-MD5 with a wrong password fails", mode: startTLS, scheme: "smtp", query: "auth=cram-md5", password: testPassword + "x", wantErr: true},
		{name: "no credentials when the server requires them fails", mode: startTLS, scheme: "smtp", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{user: testUser, pass: testPassword}
			addr, pool := startServer(t, be, tt.mode)
			userinfo := ""
			if tt.password != "" {
				userinfo = testUser + ":" + tt.password
			}
			s := newSender(t, Config{
				URL:       mailURL(tt.scheme, userinfo, addr, tt.query),
				TLSConfig: &tls.Config{RootCAs: pool},
				Timeout:   10 * time.Second,
			})
			err := s.Send(context.Background(), testMessage())
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				checkDelivered(t, be, testMessage(), true, testUser)
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			checkErrorClean(t, err)
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error text %q contains the password", err)
			}
			if !IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = false, want true for an SMTP 5xx", err)
			}
			if msgs, _ := be.received(); len(msgs) != 0 {
				t.Errorf("server received %d messages, want none", len(msgs))
			}
		})
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	longReject := &smtp.SMTPError{
		Code:         554,
		EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message:      "rejected: Your code is " + testCode + " " + strings.Repeat("spam ", 80),
	}
	tests := []struct {
		name          string
		be            *backend
		mode          tlsMode
		query         string
		trustCert     bool
		down          bool
		wantCode      int
		wantPermanent bool
	}{
		{
			name:          "recipient rejected with 550 is permanent",
			be:            &backend{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}},
			query:         "starttls=off",
			wantCode:      550,
			wantPermanent: true,
		},
		{
			name:     "recipient deferred with 451 is temporary",
			be:       &backend{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}},
			query:    "starttls=off",
			wantCode: 451,
		},
		{
			name:          "message rejected after DATA with 554 is permanent",
			be:            &backend{dataErr: longReject},
			query:         "starttls=off",
			wantCode:      554,
			wantPermanent: true,
		},
		{
			name:  "server down is temporary",
			be:    &backend{},
			down:  true,
			query: "starttls=off",
		},
		{
			name: "STARTTLS required but not offered is temporary",
			be:   &backend{},
			mode: noTLS,
		},
		{
			name: "untrusted certificate is temporary",
			be:   &backend{},
			mode: startTLS,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, pool := startServer(t, tt.be, tt.mode)
			if tt.down {
				addr = closedAddr(t)
			}
			cfg := Config{URL: mailURL("smtp", "", addr, tt.query), Timeout: 10 * time.Second}
			if tt.trustCert {
				cfg.TLSConfig = &tls.Config{RootCAs: pool}
			}
			err := newSender(t, cfg).Send(context.Background(), testMessage())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.wantPermanent)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Code != tt.wantCode {
				t.Errorf("Code = %d, want %d (%v)", e.Code, tt.wantCode, err)
			}
			if tt.wantCode != 0 && !strings.Contains(err.Error(), fmt.Sprint(tt.wantCode)) {
				t.Errorf("error text %q lacks the SMTP code %d", err, tt.wantCode)
			}
			if len(e.Excerpt) > maxExcerpt {
				t.Errorf("excerpt is %d bytes, want at most %d", len(e.Excerpt), maxExcerpt)
			}
			checkErrorClean(t, err)
			if msgs, _ := tt.be.received(); len(msgs) != 0 {
				t.Errorf("server received %d messages, want none", len(msgs))
			}
		})
	}
}

func TestSendRejectsInvalidMessagesWithoutConnecting(t *testing.T) {
	valid := testMessage()
	tests := []struct {
		name   string
		mutate func(*Message)
	}{
		{name: "recipient without @", mutate: func(m *Message) { m.To = "not-an-address" }},
		{name: "empty recipient", mutate: func(m *Message) { m.To = "" }},
		{name: "header injection in the recipient", mutate: func(m *Message) { m.To = testTo + "\r\nBcc: evil@example.net" }},
		{name: "header injection in the subject", mutate: func(m *Message) { m.Subject = "Hi\r\nBcc: evil@example.net" }},
		{name: "empty text body", mutate: func(m *Message) { m.Text = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			addr, _ := startServer(t, be, noTLS)
			m := valid
			tt.mutate(&m)
			err := newSender(t, Config{URL: mailURL("smtp", "", addr, "starttls=off")}).Send(context.Background(), m)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if !IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = false, want true", err)
			}
			checkErrorClean(t, err)
			if _, sessions := be.received(); sessions != 0 {
				t.Errorf("server saw %d sessions, want none", sessions)
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		ctx     func(t *testing.T, be *backend) context.Context
		wantErr error
	}{
		{
			name: "cancel while the server stalls",
			ctx: func(t *testing.T, be *backend) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				go func() {
					<-be.stalled
					cancel()
				}()
				return ctx
			},
			wantErr: context.Canceled,
		},
		{
			name:    "per-message timeout while the server stalls",
			timeout: 200 * time.Millisecond,
			ctx: func(*testing.T, *backend) context.Context {
				return context.Background()
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "context already cancelled",
			ctx: func(*testing.T, *backend) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{stall: make(chan struct{}), stalled: make(chan struct{})}
			addr, _ := startServer(t, be, noTLS)
			s := newSender(t, Config{URL: mailURL("smtp", "", addr, "starttls=off"), Timeout: tt.timeout})
			start := time.Now()
			err := s.Send(tt.ctx(t, be), testMessage())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Send = %v, want %v", err, tt.wantErr)
			}
			if IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Send took %s after the context ended", elapsed)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "empty URL", cfg: Config{From: testFrom}},
		{name: "http scheme", cfg: Config{URL: "http://mail.example.com", From: testFrom}},
		{name: "missing host", cfg: Config{URL: "smtp://:587", From: testFrom}},
		{name: "bad port", cfg: Config{URL: "smtp://mail.example.com:99999", From: testFrom}},
		{name: "path", cfg: Config{URL: "smtp://mail.example.com/x", From: testFrom}},
		{name: "unknown starttls value", cfg: Config{URL: "smtp://mail.example.com?starttls=maybe", From: testFrom}},
		{name: "starttls with smtps", cfg: Config{URL: "smtps://mail.example.com?starttls=off", From: testFrom}},
		{name: "unknown auth", cfg: Config{URL: "smtp://u:p@mail.example.com?auth=xoauth2", From: testFrom}},
		{name: "auth without a user", cfg: Config{URL: "smtp://mail.example.com?auth=login", From: testFrom}},
		{name: "misspelt parameter", cfg: Config{URL: "smtp://mail.example.com?insecure_skip_verfy=1", From: testFrom}},
		{name: "bad insecure_skip_verify", cfg: Config{URL: "smtp://mail.example.com?insecure_skip_verify=yes", From: testFrom}},
		{name: "missing From", cfg: Config{URL: "smtp://mail.example.com"}},
		{name: "invalid From", cfg: Config{URL: "smtp://mail.example.com", From: "Atrium no-reply"}},
		{name: "negative timeout", cfg: Config{URL: "smtp://mail.example.com", From: testFrom, Timeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := New(tt.cfg); err == nil {
				t.Errorf("New(%v) = %v, want an error", tt.cfg, s)
			}
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		wantPort    int
		wantPolicy  gomail.TLSPolicy
		wantAuth    gomail.SMTPAuthType
		wantImplTLS bool
	}{
		{name: "smtp requires STARTTLS on 587 without auth", url: "smtp://mail.example.com", wantPort: 587, wantPolicy: gomail.TLSMandatory, wantAuth: authNone},
		{name: "a user selects PLAIN", url: "smtp://u:p@mail.example.com:25", wantPort: 25, wantPolicy: gomail.TLSMandatory, wantAuth: gomail.SMTPAuthPlain},
		{name: "smtps uses implicit TLS on 465", url: "smtps://u:p@mail.example.com", wantPort: 465, wantPolicy: gomail.TLSMandatory, wantAuth: gomail.SMTPAuthPlain, wantImplTLS: true},
		{name: "auth=none with a user", url: "smtp://u@mail.example.com?auth=none&starttls=optional", wantPort: 587, wantPolicy: gomail.TLSOpportunistic, wantAuth: authNone},
		{name: "starttls=off", url: "smtp://mail.example.com?starttls=off", wantPort: 587, wantPolicy: gomail.NoTLS, wantAuth: authNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, Config{URL: tt.url})
			if s.port != tt.wantPort || s.policy != tt.wantPolicy || s.auth != tt.wantAuth || s.implicitTLS != tt.wantImplTLS {
				t.Errorf("got port %d policy %s auth %s implicit TLS %v, want %d %s %s %v",
					s.port, s.policy, s.auth, s.implicitTLS, tt.wantPort, tt.wantPolicy, tt.wantAuth, tt.wantImplTLS)
			}
			if s.timeout != DefaultTimeout {
				t.Errorf("timeout = %s, want %s", s.timeout, DefaultTimeout)
			}
			if s.tls.ServerName != "mail.example.com" || s.tls.MinVersion < tls.VersionTLS12 || s.tls.InsecureSkipVerify {
				t.Errorf("TLS config = ServerName %q MinVersion %x InsecureSkipVerify %v", s.tls.ServerName, s.tls.MinVersion, s.tls.InsecureSkipVerify)
			}
		})
	}
}

func TestNewDoesNotModifyTheGivenTLSConfig(t *testing.T) {
	base := &tls.Config{}
	newSender(t, Config{URL: "smtp://mail.example.com?insecure_skip_verify=1", TLSConfig: base})
	if base.ServerName != "" || base.InsecureSkipVerify || base.MinVersion != 0 {
		t.Errorf("New modified the caller's TLS config: %+v", base)
	}
}

func TestPasswordIsRedactedInPrintsAndLogs(t *testing.T) {
	cfg := Config{URL: "smtps://" + testUser + ":" + testPassword + "@mail.example.com:465", From: testFrom, Timeout: time.Second}
	s := newSender(t, cfg)
	invalid := Config{URL: "smtp://" + testUser + ":" + testPassword + "%zz@mail.example.com", From: testFrom}

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("mail", "cfg", cfg, "sender", s, "invalid", invalid)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("mail", "cfg", cfg, "sender", s, "senderValue", *s, "invalid", invalid)
	if !json.Valid(js.Bytes()) {
		t.Errorf("JSON log is not valid JSON: %s", js.String())
	}
	_, invalidErr := New(invalid)

	outputs := map[string]string{
		"Sprint(cfg)":       fmt.Sprint(cfg),
		"Sprint(&cfg)":      fmt.Sprint(&cfg),
		"Sprint(sender)":    fmt.Sprint(s),
		"Sprint(*sender)":   fmt.Sprint(*s),
		"verbs(cfg)":        fmt.Sprintf("%v %+v %#v %s %q %d %x", cfg, cfg, cfg, cfg, cfg, cfg, cfg),
		"verbs(*sender)":    fmt.Sprintf("%v %+v %#v %s %q %d %x", *s, *s, *s, *s, *s, *s, *s),
		"nested":            fmt.Sprintf("%+v %#v", struct{ S *Sender }{s}, []Config{cfg}),
		"Sprint(invalid)":   fmt.Sprint(invalid),
		"New(invalid) err":  fmt.Sprint(invalidErr),
		"slog text handler": text.String(),
		"slog JSON handler": js.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, testPassword) {
			t.Errorf("%s reveals the password: %s", name, out)
		}
	}
	for _, name := range []string{"Sprint(cfg)", "Sprint(sender)", "slog text handler"} {
		if !strings.Contains(outputs[name], "mail.example.com") {
			t.Errorf("%s = %q, want it to name the host", name, outputs[name])
		}
	}
}

func TestSanitize(t *testing.T) {
	long := strings.Repeat("验", 100) // 300 bytes
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{name: "removes secrets, longest first", in: "550 Your code is 123456 pw hunter22", secrets: messageSecrets("Your code is 123456"), want: "550 [redacted] pw hunter22"},
		{name: "removes an echoed code alone", in: "554 rejected 123456", secrets: messageSecrets("Your code is 123456"), want: "554 rejected [redacted]"},
		{name: "collapses control characters and line breaks", in: "550\r\n5.1.1\tno\x00such\x1b[31muser", want: "550 5.1.1 no such [31muser"},
		{name: "replaces invalid UTF-8", in: "bad \xff byte", want: "bad \uFFFD byte"},
		{name: "cuts at a rune boundary", in: long, want: strings.Repeat("验", 65) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sanitize(tt.in, tt.secrets)
			if got != tt.want {
				t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(got) > maxExcerpt {
				t.Errorf("sanitize returned %d bytes, want at most %d", len(got), maxExcerpt)
			}
		})
	}
}
