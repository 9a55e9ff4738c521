package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/web"
)

const (
	operatorToken = "op-token-0123456789abcdef0123456789abcdef"
	goodPassword  = "Lantern-Orbit-2741"
)

// env is a real Atrium server on loopback over a fresh database.
type env struct {
	t     *testing.T
	app   *app.App
	clock *atriumtest.Clock
	srv   *httptest.Server
	logs  *atriumtest.SyncBuffer
}

func newEnv(t *testing.T, dialect string, mutate ...func(*web.Config)) *env {
	t.Helper()
	logs := &atriumtest.SyncBuffer{}
	clock := atriumtest.NewClock()
	a := atriumtest.NewApp(t, dialect, clock, logs)
	cfg := web.Config{Version: "test", OperatorToken: operatorToken}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := web.New(a, cfg, a.Log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, app: a, clock: clock, srv: srv, logs: logs}
}

// resp is an answer of the server.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *resp) JSON() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

// Code is the problem code of an error answer.
func (r *resp) Code() string {
	s, _ := r.JSON()["code"].(string)
	return s
}

// req describes a request. Body is JSON-encoded unless it is a string.
type req struct {
	Method, Path string
	Token        string // bearer token
	Body         any
	Header       map[string]string
}

func (e *env) do(q req) *resp {
	e.t.Helper()
	var body io.Reader
	ct := ""
	switch b := q.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		body, ct = bytes.NewReader(j), "application/json"
	}
	if q.Method == "" {
		q.Method = http.MethodGet
	}
	r, err := http.NewRequestWithContext(context.Background(), q.Method, e.srv.URL+q.Path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if q.Token != "" {
		r.Header.Set("Authorization", "Bearer "+q.Token)
	}
	for k, v := range q.Header {
		r.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// must checks the status of an answer and returns it.
func (e *env) must(status int, q req) *resp {
	e.t.Helper()
	r := e.do(q)
	if r.Status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", q.Method, q.Path, r.Status, status, r.Body)
	}
	return r
}

// createMSP creates an MSP through the operator API with the given owner
// password (an initial password to be changed) and returns the MSP's and the
// owner's IDs.
func (e *env) createMSP(name, username, password string, extra ...map[string]any) (mspID, accountID int64) {
	e.t.Helper()
	owner := map[string]any{"username": username, "password": password}
	for _, x := range extra {
		for k, v := range x {
			owner[k] = v
		}
	}
	r := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/msps", Token: operatorToken, Body: map[string]any{"name": name, "industry": "IT", "owner": owner}})
	m := r.JSON()
	return int64(m["msp"].(map[string]any)["id"].(float64)), int64(m["owner"].(map[string]any)["id"].(float64))
}

// login signs in and returns the token and the pending actions.
func (e *env) login(identifier, password string) (string, []any) {
	e.t.Helper()
	r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": identifier, "password": password}})
	m := r.JSON()
	pending, _ := m["pending"].([]any)
	return m["token"].(string), pending
}

// ticket verifies the account's identity by password for purpose.
func (e *env) ticket(token, purpose, password string) string {
	e.t.Helper()
	r := e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/verifications", Token: token, Body: map[string]any{"purpose": purpose, "method": "password", "password": password}})
	return r.JSON()["ticket"].(string)
}

// signAll signs the current sign-in agreements.
func (e *env) signAll(token string) {
	e.t.Helper()
	r := e.must(http.StatusOK, req{Path: "/api/v1/agreements", Token: token})
	var items []map[string]any
	for _, a := range r.JSON()["agreements"].([]any) {
		ag := a.(map[string]any)
		if ag["type"] != "deletion_terms" {
			items = append(items, map[string]any{"type": ag["type"], "version": ag["version"]})
		}
	}
	e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/agreements/sign", Token: token, Body: map[string]any{"agreements": items}})
}

// ready creates an MSP owner and takes it through the first sign-in: agreements
// signed, initial password changed to goodPassword. It returns a token without
// pending actions and the account's MSP ID.
func (e *env) ready(username string) (string, int64) {
	e.t.Helper()
	mspID, _ := e.createMSP("MSP of "+username, username, "Initial-Pass-9031")
	tok, _ := e.login(username, "Initial-Pass-9031")
	e.signAll(tok)
	tk := e.ticket(tok, "password", "Initial-Pass-9031")
	e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: tok, Body: map[string]any{"ticket": tk, "new_password": goodPassword}})
	return tok, mspID
}

func jsonUnmarshal(b []byte, v any) {
	json.Unmarshal(b, v)
}

// withProxies trusts X-Forwarded-For from the given CIDRs.
func withProxies(cidrs ...string) func(*web.Config) {
	return func(c *web.Config) {
		for _, s := range cidrs {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(s))
		}
	}
}
