package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testToken     = "bearer-5ecret-tok3n"
	testSID       = "AC0123456789abcdef0123456789abcdef"
	testAuthToken = "twilio-5ecret-auth"
	testTo        = "+8613800138000"
	testCode      = "123456"
	testText      = "【Atrium】您的验证码：Your code is " + testCode
	twilioPath    = "/2010-04-01/Accounts/" + testSID + "/Messages.json"
)

func testMessage() Message { return Message{To: testTo, Text: testText} }

// provider builds a Sender of one kind for a test server.
type provider struct {
	name       string
	credential string // the secret the sender authenticates with
	new        func(t *testing.T, baseURL string, timeout time.Duration, client *http.Client) Sender
}

func providers() []provider {
	return []provider{
		{
			name:       "httpjson",
			credential: testToken,
			new: func(t *testing.T, baseURL string, timeout time.Duration, client *http.Client) Sender {
				t.Helper()
				s, err := NewHTTPJSON(HTTPJSONConfig{URL: baseURL + "/v1/sms", Token: testToken, Timeout: timeout, Client: client})
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
		},
		{
			name:       "twilio",
			credential: testAuthToken,
			new: func(t *testing.T, baseURL string, timeout time.Duration, client *http.Client) Sender {
				t.Helper()
				s, err := NewTwilio(TwilioConfig{BaseURL: baseURL, AccountSID: testSID, AuthToken: testAuthToken, From: "+15005550006", Timeout: timeout, Client: client})
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
		},
	}
}

// startServer starts a loopback HTTP server for h.
func startServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// checkErrorClean fails when err's text reveals the message code or a
// credential.
func checkErrorClean(t *testing.T, err error) {
	t.Helper()
	for _, secret := range []string{testCode, testToken, testAuthToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text %q contains %q", err, secret)
		}
	}
}

func TestHTTPJSONPostsTheMessage(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		senderID string
		status   int
	}{
		{name: "with token and sender ID, answered 200", token: testToken, senderID: "Atrium", status: http.StatusOK},
		{name: "without token or sender ID, answered 202", status: http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make(chan struct{}, 10)
			srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
				calls <- struct{}{}
				if r.Method != http.MethodPost {
					t.Errorf("method = %s, want POST", r.Method)
				}
				if r.URL.Path != "/v1/sms" {
					t.Errorf("path = %s, want /v1/sms", r.URL.Path)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
				if ua := r.Header.Get("User-Agent"); ua != "atrium" {
					t.Errorf("User-Agent = %q, want atrium", ua)
				}
				wantAuth := ""
				if tt.token != "" {
					wantAuth = "Bearer " + tt.token
				}
				if got := r.Header.Get("Authorization"); got != wantAuth {
					t.Errorf("Authorization = %q, want %q", got, wantAuth)
				}
				var body map[string]any
				if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
					t.Errorf("body is not JSON: %v", err)
				}
				if body["to"] != testTo {
					t.Errorf("to = %v, want %s", body["to"], testTo)
				}
				if body["text"] != testText {
					t.Errorf("text = %q, want %q", body["text"], testText)
				}
				sender, hasSender := body["sender"]
				if tt.senderID != "" && sender != tt.senderID {
					t.Errorf("sender = %v, want %s", sender, tt.senderID)
				}
				if tt.senderID == "" && hasSender {
					t.Errorf("body has sender %v, want none", sender)
				}
				wantFields := 2
				if tt.senderID != "" {
					wantFields = 3
				}
				if len(body) != wantFields {
					t.Errorf("body has fields %v, want only to, text and sender when set", body)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, `{"id":"m-1"}`)
			})
			s, err := NewHTTPJSON(HTTPJSONConfig{URL: srv.URL + "/v1/sms", Token: tt.token, SenderID: tt.senderID})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), testMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if len(calls) != 1 {
				t.Errorf("server got %d requests, want 1", len(calls))
			}
		})
	}
}

func TestTwilioPostsTheMessage(t *testing.T) {
	tests := []struct {
		name       string
		from       string
		serviceSID string
	}{
		{name: "from a number", from: "+15005550006"},
		{name: "through a messaging service", serviceSID: "MG0123456789abcdef0123456789abcdef"},
		{name: "from an alphanumeric sender through a messaging service", from: "Atrium", serviceSID: "MG0123456789abcdef0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make(chan struct{}, 10)
			srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
				calls <- struct{}{}
				if r.Method != http.MethodPost {
					t.Errorf("method = %s, want POST", r.Method)
				}
				if r.URL.Path != twilioPath {
					t.Errorf("path = %s, want %s", r.URL.Path, twilioPath)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
					t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", ct)
				}
				if ua := r.Header.Get("User-Agent"); ua != "atrium" {
					t.Errorf("User-Agent = %q, want atrium", ua)
				}
				user, pass, ok := r.BasicAuth()
				if !ok || user != testSID || pass != testAuthToken {
					t.Errorf("basic auth = %q, %q, %v; want the account SID and auth token", user, pass, ok)
				}
				if err := r.ParseForm(); err != nil {
					t.Errorf("form: %v", err)
				}
				if got := r.PostForm.Get("To"); got != testTo {
					t.Errorf("To = %q, want %q", got, testTo)
				}
				if got := r.PostForm.Get("Body"); got != testText {
					t.Errorf("Body = %q, want %q", got, testText)
				}
				if got, has := r.PostForm["From"]; (tt.from == "") == has || (has && got[0] != tt.from) {
					t.Errorf("From = %q, want %q", got, tt.from)
				}
				if got, has := r.PostForm["MessagingServiceSid"]; (tt.serviceSID == "") == has || (has && got[0] != tt.serviceSID) {
					t.Errorf("MessagingServiceSid = %q, want %q", got, tt.serviceSID)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"sid":"SM0123","status":"queued"}`)
			})
			s, err := NewTwilio(TwilioConfig{BaseURL: srv.URL, AccountSID: testSID, AuthToken: testAuthToken, From: tt.from, MessagingServiceSID: tt.serviceSID})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), testMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if len(calls) != 1 {
				t.Errorf("server got %d requests, want 1", len(calls))
			}
		})
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	// echo is an error answer that repeats the message and the credentials.
	// CREDENTIAL stands for the sender's own token.
	echoJSON, err := json.Marshal(map[string]any{
		"code":    21211,
		"message": "Invalid 'To' for text \"" + testText + "\" with credential CREDENTIAL",
		"status":  400,
	})
	if err != nil {
		t.Fatal(err)
	}
	echo := string(echoJSON)
	tests := []struct {
		name           string
		status         int
		body           string
		header         map[string]string
		wantErr        bool
		wantPermanent  bool
		wantRetryAfter time.Duration
		wantTwilioCode string
	}{
		{name: "200 is sent", status: http.StatusOK, body: `{}`},
		{name: "201 is sent", status: http.StatusCreated, body: `{}`},
		{name: "400 is permanent", status: http.StatusBadRequest, body: echo, wantErr: true, wantPermanent: true, wantTwilioCode: "21211"},
		{name: "401 is permanent", status: http.StatusUnauthorized, body: `{"code": 20003, "message": "Authenticate"}`, wantErr: true, wantPermanent: true, wantTwilioCode: "20003"},
		{name: "404 is permanent", status: http.StatusNotFound, body: "not found", wantErr: true, wantPermanent: true},
		{name: "a redirect is permanent", status: http.StatusFound, header: map[string]string{"Location": "http://127.0.0.1:1/elsewhere"}, wantErr: true, wantPermanent: true},
		{name: "408 is temporary", status: http.StatusRequestTimeout, wantErr: true},
		{name: "429 is temporary and keeps Retry-After", status: http.StatusTooManyRequests, body: `{"code": 20429, "message": "Too Many Requests"}`, header: map[string]string{"Retry-After": "30"}, wantErr: true, wantRetryAfter: 30 * time.Second, wantTwilioCode: "20429"},
		{name: "500 is temporary", status: http.StatusInternalServerError, body: echo, wantErr: true, wantTwilioCode: "21211"},
		{name: "503 is temporary", status: http.StatusServiceUnavailable, body: "<html>down for maintenance</html>", wantErr: true},
		{name: "a huge answer is cut to a short excerpt", status: http.StatusBadRequest, body: strings.Repeat("x", 1<<20), wantErr: true, wantPermanent: true},
	}
	for _, p := range providers() {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, strings.ReplaceAll(tt.body, "CREDENTIAL", p.credential))
				})
				err := p.new(t, srv.URL, 0, nil).Send(context.Background(), testMessage())
				if !tt.wantErr {
					if err != nil {
						t.Fatalf("Send: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatal("Send succeeded, want an error")
				}
				if got := IsPermanent(err); got != tt.wantPermanent {
					t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.wantPermanent)
				}
				checkErrorClean(t, err)
				if !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(tt.status)) {
					t.Errorf("error text %q lacks the status %d", err, tt.status)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not *Error", err)
				}
				if e.StatusCode != tt.status || e.RetryAfter != tt.wantRetryAfter {
					t.Errorf("StatusCode, RetryAfter = %d, %s; want %d, %s", e.StatusCode, e.RetryAfter, tt.status, tt.wantRetryAfter)
				}
				if len(e.Excerpt) > maxExcerpt {
					t.Errorf("excerpt is %d bytes, want at most %d", len(e.Excerpt), maxExcerpt)
				}
				wantCode := ""
				if p.name == "twilio" {
					wantCode = tt.wantTwilioCode
				}
				if e.ProviderCode != wantCode || (wantCode != "" && !strings.Contains(err.Error(), "code "+wantCode)) {
					t.Errorf("ProviderCode = %q in %q, want %q", e.ProviderCode, err, wantCode)
				}
			})
		}
	}
}

func TestSendFailsTemporarilyWithoutAnAnswer(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		client  *http.Client
		cancel  bool // cancel the context once the server has the request
		down    bool // nothing listens
		wantErr error
	}{
		{name: "hanging server hits the timeout", timeout: 100 * time.Millisecond, wantErr: context.DeadlineExceeded},
		{name: "hanging server hits the timeout with the caller's client", timeout: 100 * time.Millisecond, client: &http.Client{}, wantErr: context.DeadlineExceeded},
		{name: "cancelled context while the server hangs", cancel: true, wantErr: context.Canceled},
		{name: "server down", down: true},
	}
	for _, p := range providers() {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				arrived := make(chan struct{}, 1)
				release := make(chan struct{})
				srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
					// Reading the body lets the server notice when the
					// client gives up and closes the connection.
					_, _ = io.Copy(io.Discard, r.Body)
					arrived <- struct{}{}
					select {
					case <-r.Context().Done():
					case <-release:
					}
				})
				t.Cleanup(func() { close(release) }) // runs before srv.Close
				url := srv.URL
				if tt.down {
					url = "http://" + closedAddr(t)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.cancel {
					go func() {
						<-arrived
						cancel()
					}()
				}
				start := time.Now()
				err := p.new(t, url, tt.timeout, tt.client).Send(ctx, testMessage())
				if err == nil {
					t.Fatal("Send succeeded, want an error")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Send = %v, want %v", err, tt.wantErr)
				}
				if IsPermanent(err) {
					t.Errorf("IsPermanent(%v) = true, want false", err)
				}
				checkErrorClean(t, err)
				if elapsed := time.Since(start); elapsed > 5*time.Second {
					t.Errorf("Send took %s, want it to give up promptly", elapsed)
				}
			})
		}
	}
}

func TestSendRejectsInvalidMessagesWithoutARequest(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
	}{
		{name: "national number without +", msg: Message{To: "13800138000", Text: testText}},
		{name: "leading zero country code", msg: Message{To: "+0613800138000", Text: testText}},
		{name: "spaces in the number", msg: Message{To: "+86 138 0013 8000", Text: testText}},
		{name: "too long", msg: Message{To: "+8613800138000123", Text: testText}},
		{name: "empty recipient", msg: Message{Text: testText}},
		{name: "empty text", msg: Message{To: testTo}},
	}
	for _, p := range providers() {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				srv := startServer(t, func(http.ResponseWriter, *http.Request) {
					t.Error("server got a request for an invalid message")
				})
				err := p.new(t, srv.URL, 0, nil).Send(context.Background(), tt.msg)
				if err == nil {
					t.Fatal("Send succeeded, want an error")
				}
				if !IsPermanent(err) {
					t.Errorf("IsPermanent(%v) = false, want true", err)
				}
				checkErrorClean(t, err)
			})
		}
	}
}

func TestNewHTTPJSONValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  HTTPJSONConfig
	}{
		{name: "empty URL", cfg: HTTPJSONConfig{}},
		{name: "ftp scheme", cfg: HTTPJSONConfig{URL: "ftp://sms.example.com/send"}},
		{name: "relative URL", cfg: HTTPJSONConfig{URL: "/send"}},
		{name: "no host", cfg: HTTPJSONConfig{URL: "https:///send"}},
		{name: "unparseable URL", cfg: HTTPJSONConfig{URL: "https://sms.example.com/%zz"}},
		{name: "negative timeout", cfg: HTTPJSONConfig{URL: "https://sms.example.com/send", Timeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := NewHTTPJSON(tt.cfg); err == nil {
				t.Errorf("NewHTTPJSON(%v) = %v, want an error", tt.cfg, s)
			}
		})
	}
}

func TestNewTwilioValidatesConfig(t *testing.T) {
	valid := TwilioConfig{AccountSID: testSID, AuthToken: testAuthToken, From: "+15005550006"}
	tests := []struct {
		name   string
		mutate func(*TwilioConfig)
	}{
		{name: "ftp base URL", mutate: func(c *TwilioConfig) { c.BaseURL = "ftp://api.example.com" }},
		{name: "base URL with a query", mutate: func(c *TwilioConfig) { c.BaseURL = "https://api.example.com?x=1" }},
		{name: "missing account SID", mutate: func(c *TwilioConfig) { c.AccountSID = "" }},
		{name: "account SID with a path", mutate: func(c *TwilioConfig) { c.AccountSID = "AC1/../../x" }},
		{name: "missing auth token", mutate: func(c *TwilioConfig) { c.AuthToken = "" }},
		{name: "neither From nor messaging service", mutate: func(c *TwilioConfig) { c.From = "" }},
		{name: "malformed messaging service SID", mutate: func(c *TwilioConfig) { c.MessagingServiceSID = "MG 1" }},
		{name: "negative timeout", mutate: func(c *TwilioConfig) { c.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			if s, err := NewTwilio(cfg); err == nil {
				t.Errorf("NewTwilio(%v) = %v, want an error", cfg, s)
			}
		})
	}
}

func TestNewTwilioBuildsTheMessagesURL(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		want    string
	}{
		{name: "defaults to Twilio", want: "https://api.twilio.com" + twilioPath},
		{name: "compatible provider with a trailing slash", baseURL: "https://sms.example.com/", want: "https://sms.example.com" + twilioPath},
		{name: "compatible provider under a prefix", baseURL: "http://127.0.0.1:8080/twilio", want: "http://127.0.0.1:8080/twilio" + twilioPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewTwilio(TwilioConfig{BaseURL: tt.baseURL, AccountSID: testSID, AuthToken: testAuthToken, From: "Atrium"})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.endpoint.String(); got != tt.want {
				t.Errorf("endpoint = %s, want %s", got, tt.want)
			}
			if s.timeout != DefaultTimeout || s.client.Timeout != DefaultTimeout {
				t.Errorf("timeout = %s, client timeout = %s, want %s", s.timeout, s.client.Timeout, DefaultTimeout)
			}
		})
	}
}

func TestSecretsAreRedactedInPrintsAndLogs(t *testing.T) {
	const urlKey = "url-5ecret-key"
	hcfg := HTTPJSONConfig{URL: "https://user:" + urlKey + "@sms.example.com/send?api_key=" + urlKey, Token: testToken, SenderID: "Atrium"}
	tcfg := TwilioConfig{AccountSID: testSID, AuthToken: testAuthToken, From: "Atrium"}
	h, err := NewHTTPJSON(hcfg)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := NewTwilio(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	values := []any{hcfg, &hcfg, tcfg, &tcfg, h, *h, tw, *tw, HTTPJSONConfig{URL: "https://sms.example.com/%zz?k=" + urlKey}}

	var text, js bytes.Buffer
	textLog := slog.New(slog.NewTextHandler(&text, nil))
	jsonLog := slog.New(slog.NewJSONHandler(&js, nil))
	outputs := map[string]string{}
	for i, v := range values {
		textLog.Info("sms", "v", v)
		jsonLog.Info("sms", "v", v)
		outputs[fmt.Sprintf("value %d (%T)", i, v)] = fmt.Sprintf("%v|%+v|%#v|%s|%q|%d|%x", v, v, v, v, v, v, v)
	}
	outputs["nested"] = fmt.Sprintf("%+v", struct {
		H *HTTPJSON
		T []TwilioConfig
	}{h, []TwilioConfig{tcfg}})
	outputs["slog text"] = text.String()
	outputs["slog JSON"] = js.String()
	for name, out := range outputs {
		for _, secret := range []string{testToken, testAuthToken, urlKey} {
			if strings.Contains(out, secret) {
				t.Errorf("%s reveals %q: %s", name, secret, out)
			}
		}
	}
	if !strings.Contains(outputs["slog text"], "sms.example.com") || !strings.Contains(outputs["slog text"], testSID) {
		t.Errorf("slog output lacks the host or account SID: %s", outputs["slog text"])
	}
}

func TestTransportErrorsDoNotRevealURLSecrets(t *testing.T) {
	const urlKey = "url-5ecret-key"
	s, err := NewHTTPJSON(HTTPJSONConfig{URL: "http://user:" + urlKey + "@" + closedAddr(t) + "/send?api_key=" + urlKey})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testMessage())
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	if strings.Contains(err.Error(), urlKey) {
		t.Errorf("error text %q reveals the URL secret", err)
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{name: "removes the text and its code", in: "bad text: " + testText + "; code " + testCode, secrets: messageSecrets(testText), want: "bad text: [redacted]; code [redacted]"},
		{name: "collapses control characters", in: "line1\r\n\tline2\x00", want: "line1 line2"},
		{name: "cuts to 200 bytes at a rune boundary", in: strings.Repeat("码", 100), want: strings.Repeat("码", 65) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitize(tt.in, tt.secrets); got != tt.want {
				t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
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
