package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"testing"

	"github.com/atrium-console/atrium/atriumtest"
)

// nodeCall makes a JSON request to one node.
func nodeCall(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestTwoNodesShareEverything runs two Atrium nodes on one PostgreSQL database:
// a session made on one works on the other, a logout on one ends it on both, a
// code sent by one is verified by the other, and the resend cooldown counts
// across nodes.
func TestTwoNodesShareEverything(t *testing.T) {
	if os.Getenv(atriumtest.PostgresEnv) == "" {
		atriumtest.Skip(t, "multi-node tests skipped: they need PostgreSQL; set "+atriumtest.PostgresEnv)
	}
	dsn := postgresSchema(t)
	env := []string{"ATRIUM_DATABASE_URL=" + dsn, "ATRIUM_SECRET_KEY=multi-node-secret-0123456789abcdef0123"}
	a, _ := runUntilKilled(t, t.TempDir(), env...)
	b, _ := runUntilKilled(t, t.TempDir(), env...)

	// The demo account exists once; give it a known password through the operator.
	status, created := nodeCall(t, "POST", a+"/admin/v1/msps", durabilityToken, map[string]any{"name": "Shared", "owner": map[string]any{"username": "shared-owner", "password": "Lantern-Orbit-2741", "phone": "+8613800138000"}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, created)
	}
	status, login := nodeCall(t, "POST", a+"/api/v1/login", "", map[string]any{"identifier": "shared-owner", "password": "Lantern-Orbit-2741"})
	tok, _ := login["token"].(string)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("login on A: %d %v", status, login)
	}
	if status, _ := nodeCall(t, "GET", b+"/api/v1/me", tok, nil); status != http.StatusOK {
		t.Fatalf("the session from A on B: %d", status)
	}
	// Sign the agreements on B, so the code routes answer.
	_, ags := nodeCall(t, "GET", b+"/api/v1/agreements", tok, nil)
	var items []map[string]any
	for _, x := range ags["agreements"].([]any) {
		ag := x.(map[string]any)
		if ag["type"] != "deletion_terms" {
			items = append(items, map[string]any{"type": ag["type"], "version": ag["version"]})
		}
	}
	if status, m := nodeCall(t, "POST", b+"/api/v1/agreements/sign", tok, map[string]any{"agreements": items}); status != http.StatusOK {
		t.Fatalf("sign on B: %d %v", status, m)
	}
	if status, m := nodeCall(t, "POST", a+"/api/v1/verifications/codes", tok, map[string]any{"purpose": "password", "channel": "sms"}); status != http.StatusAccepted {
		t.Fatalf("code on A: %d %v", status, m)
	}
	if status, m := nodeCall(t, "POST", b+"/api/v1/verifications/codes", tok, map[string]any{"purpose": "password", "channel": "sms"}); status != http.StatusTooManyRequests {
		t.Fatalf("second code on B within 60 s: %d %v", status, m)
	}
	res, err := http.Get(b + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	var outbox []map[string]any
	json.NewDecoder(res.Body).Decode(&outbox)
	res.Body.Close()
	code := ""
	for _, m := range outbox {
		if m["kind"] == "code" && m["to"] == "+8613800138000" {
			code = regexp.MustCompile(`\b\d{6}\b`).FindString(m["body"].(string))
		}
	}
	if status, m := nodeCall(t, "POST", b+"/api/v1/verifications", tok, map[string]any{"purpose": "password", "method": "sms", "code": code}); status != http.StatusOK || m["ticket"] == nil {
		t.Fatalf("verify on B the code sent by A: %d %v", status, m)
	}
	if status, _ := nodeCall(t, "POST", b+"/api/v1/logout", tok, nil); status != http.StatusNoContent {
		t.Fatalf("logout on B: %d", status)
	}
	if status, _ := nodeCall(t, "GET", a+"/api/v1/me", tok, nil); status != http.StatusUnauthorized {
		t.Fatalf("the session ended on B still works on A: %d", status)
	}
}
