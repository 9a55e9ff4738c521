package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/httpcheck"
	"github.com/atrium-console/atrium/notify"
)

// checker starts an external deletion checker on loopback that answers with h.
func (e *env) checker(h http.HandlerFunc) {
	e.t.Helper()
	srv := httptest.NewServer(h)
	e.t.Cleanup(srv.Close)
	c, err := httpcheck.New(srv.URL+"/deletion-check", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.app.Checkers = append(e.app.Checkers, c)
}

func (e *env) deleteMSP(tok, password string, accept bool) *resp {
	e.t.Helper()
	tk := e.ticket(tok, "delete_account", password)
	return e.do(req{Method: "POST", Path: "/api/v1/msp/deletion", Token: tok, Body: map[string]any{"ticket": tk, "accept_terms": accept}})
}

func blockers(r *resp) []map[string]any {
	var out []map[string]any
	list, _ := r.JSON()["blocking"].([]any)
	for _, b := range list {
		out = append(out, b.(map[string]any))
	}
	return out
}

func TestDeletion(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("each kind of blocker blocks and is listed with what to release", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, mspID := e.ready("alice")
			tenant := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/tenants", Token: operatorToken, Body: map[string]any{"name": "Blue Tenant", "owner": map[string]any{"username": "blue-admin"}}}).JSON()
			tenantID := tenant["tenant"].(map[string]any)["id"]
			ag := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/agencies", Token: operatorToken, Body: map[string]any{"tenant_id": tenantID, "msp_id": mspID}}).JSON()
			var holdings []any
			for _, kind := range []string{"resource", "order", "contract", "fee"} {
				h := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/holdings", Token: operatorToken, Body: map[string]any{"msp_id": mspID, "kind": kind, "ref": kind + "-1", "description": "Release the " + kind}}).JSON()
				holdings = append(holdings, h["id"])
			}
			r := e.must(http.StatusOK, req{Path: "/api/v1/msp/deletion-checks", Token: tok})
			got := map[string]string{}
			for _, b := range blockers(r) {
				got[b["kind"].(string)] = b["check"].(string) + ": " + b["description"].(string)
			}
			if r.JSON()["ok"] != false || len(got) != 5 || !strings.Contains(got["agency"], "Blue Tenant") || !strings.HasPrefix(got["agency"], "account:") || !strings.HasPrefix(got["fee"], "orders: Release the fee") {
				t.Fatalf("checks %s", r.Body)
			}
			// A direct call that skips the dry run is blocked all the same.
			if r := e.deleteMSP(tok, goodPassword, true); r.Status != http.StatusConflict || r.Code() != "deletion_blocked" || len(blockers(r)) != 5 {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
			e.must(http.StatusNoContent, req{Method: "DELETE", Path: fmt.Sprintf("/admin/v1/agencies/%v", ag["id"]), Token: operatorToken})
			for _, id := range holdings {
				e.must(http.StatusNoContent, req{Method: "DELETE", Path: fmt.Sprintf("/admin/v1/holdings/%v", id), Token: operatorToken})
			}
			if r := e.must(http.StatusOK, req{Path: "/api/v1/msp/deletion-checks", Token: tok}); r.JSON()["ok"] != true {
				t.Fatalf("after release: %s", r.Body)
			}
			e.must(http.StatusOK, req{Method: "POST", Path: "/api/v1/msp/deletion", Token: tok, Body: map[string]any{"ticket": e.ticket(tok, "delete_account", goodPassword), "accept_terms": true}})
		})
		t.Run("an expired agency does not block", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, mspID := e.ready("alice")
			tenant := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/tenants", Token: operatorToken, Body: map[string]any{"name": "T", "owner": map[string]any{"username": "t-admin"}}}).JSON()
			e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/agencies", Token: operatorToken, Body: map[string]any{"tenant_id": tenant["tenant"].(map[string]any)["id"], "msp_id": mspID, "expires_at": e.clock.Now().Add(time.Hour)}})
			if r := e.must(http.StatusOK, req{Path: "/api/v1/msp/deletion-checks", Token: tok}); r.JSON()["ok"] != false {
				t.Fatal("an active agency did not block")
			}
			e.clock.Advance(2 * time.Hour)
			tok, _ = e.login("alice", goodPassword)
			if r := e.must(http.StatusOK, req{Path: "/api/v1/msp/deletion-checks", Token: tok}); r.JSON()["ok"] != true {
				t.Fatalf("expired agency: %s", r.Body)
			}
		})
		t.Run("terms, ticket and the top-level account are required", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, mspID := e.ready("alice")
			if r := e.deleteMSP(tok, goodPassword, false); r.Status != http.StatusUnprocessableEntity || r.Code() != "terms_not_accepted" {
				t.Fatalf("no terms: %d %s", r.Status, r.Body)
			}
			for _, tk := range []string{"", "made-up", e.ticket(tok, "password", goodPassword)} {
				if r := e.do(req{Method: "POST", Path: "/api/v1/msp/deletion", Token: tok, Body: map[string]any{"ticket": tk, "accept_terms": true}}); r.Status != http.StatusForbidden || r.Code() != "ticket_invalid" {
					t.Fatalf("ticket %q: %d %s", tk, r.Status, r.Body)
				}
			}
			e.must(http.StatusCreated, req{Method: "POST", Path: fmt.Sprintf("/admin/v1/msps/%d/accounts", mspID), Token: operatorToken, Body: map[string]any{"username": "bob-member", "password": goodPassword + "x"}})
			member, _ := e.login("bob-member", goodPassword+"x")
			e.signAll(member)
			tk := e.ticket(member, "password", goodPassword+"x")
			e.must(http.StatusOK, req{Method: "PUT", Path: "/api/v1/me/password", Token: member, Body: map[string]any{"ticket": tk, "new_password": goodPassword}})
			e.must(http.StatusForbidden, req{Path: "/api/v1/msp/deletion-checks", Token: member})
			if r := e.deleteMSP(member, goodPassword, true); r.Status != http.StatusForbidden || r.Code() != "forbidden" {
				t.Fatalf("member: %d %s", r.Status, r.Body)
			}
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok})
		})
		t.Run("an external checker that is down, slow or talks nonsense blocks with its name", func(t *testing.T) {
			for _, c := range []struct {
				name string
				h    http.HandlerFunc
			}{
				{"down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }},
				{"slow", func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body) // then the server notices the client leaving
					<-r.Context().Done()
				}},
				{"nonsense", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }},
				{"half a blocker", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"blocking":[{"kind":"fee"}]}`) }},
			} {
				t.Run(c.name, func(t *testing.T) {
					e := newEnv(t, dialect)
					e.app.Config.CheckTimeout = 200 * time.Millisecond
					tok, _ := e.ready("alice")
					e.checker(c.h)
					r := e.deleteMSP(tok, goodPassword, true)
					b := blockers(r)
					if r.Status != http.StatusConflict || len(b) != 1 || b[0]["kind"] != "checker_unavailable" || !strings.Contains(b[0]["id"].(string), "/deletion-check") {
						t.Fatalf("%d %s", r.Status, r.Body)
					}
				})
			}
		})
		t.Run("an external checker is told the MSP and its accounts and its blockers are listed", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			var asked app.DeletionSubject
			e.checker(func(w http.ResponseWriter, r *http.Request) {
				json.NewDecoder(r.Body).Decode(&asked)
				io.WriteString(w, `{"blocking":[{"kind":"service","id":"ecs-42","description":"Release the cloud server ecs-42."}]}`)
			})
			r := e.must(http.StatusOK, req{Path: "/api/v1/msp/deletion-checks", Token: tok})
			b := blockers(r)
			if len(b) != 1 || b[0]["check"] != "orders" || b[0]["id"] != "ecs-42" || asked.MSP.Name != "MSP of alice" || len(asked.Accounts) != 1 || asked.Accounts[0].Username != "alice" {
				t.Fatalf("%s / %+v", r.Body, asked)
			}
		})
		t.Run("a failure half-way deletes nothing", func(t *testing.T) {
			for _, step := range []string{"messages", "account", "msp"} {
				t.Run(step, func(t *testing.T) {
					e := newEnv(t, dialect)
					tok := e.readyWith("alice", "alice@example.com", "+8613800138000")
					e.app.Failpoint = func(s string) error {
						if s == step {
							return errors.New("injected failure at " + s)
						}
						return nil
					}
					if r := e.deleteMSP(tok, goodPassword, true); r.Status != http.StatusInternalServerError {
						t.Fatalf("%d %s", r.Status, r.Body)
					}
					me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok}).JSON()
					if me["email"] != "alice@example.com" || me["msp"] == nil {
						t.Fatalf("me %v", me)
					}
					e.login("alice", goodPassword)
					if len(e.sentTo("alice@example.com", notify.KindAccountDeleted)) != 0 {
						t.Fatal("a deletion notice was queued")
					}
				})
			}
		})
		t.Run("after deletion nothing of the MSP remains but its tombstone", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok := e.readyWith("alice", "alice@example.com", "+8613800138000")
			other, _ := e.login("alice", goodPassword)
			data := encoded(t, "png")
			avatar := e.upload("/api/v1/me/avatar", tok, bytes.NewReader(data), int64(len(data))).JSON()["avatar_url"].(string)
			e.must(http.StatusOK, req{Path: avatar})
			r := e.deleteMSP(tok, goodPassword, true)
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			for _, token := range []string{tok, other} {
				e.must(http.StatusUnauthorized, req{Path: "/api/v1/me", Token: token})
			}
			e.must(http.StatusUnauthorized, req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": goodPassword}})
			e.must(http.StatusNotFound, req{Path: avatar})
			evs := e.must(http.StatusOK, req{Path: "/admin/v1/events?action=msp.delete", Token: operatorToken}).JSON()["events"].([]any)
			if len(evs) != 1 || strings.Contains(fmt.Sprint(evs[0]), "alice") {
				t.Fatalf("tombstone %v", evs)
			}
			if len(e.sentTo("alice@example.com", notify.KindAccountDeleted)) != 1 || len(e.sentTo("+8613800138000", notify.KindAccountDeleted)) != 1 {
				t.Fatal("no deletion notices")
			}
			// The address is free again.
			e.createMSP("New", "alice2", "Initial-Pass-9031", map[string]any{"email": "alice@example.com"})
		})
		t.Run("accepting the terms is recorded as a signing", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, mspID := e.ready("alice")
			e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/holdings", Token: operatorToken, Body: map[string]any{"msp_id": mspID, "kind": "fee", "ref": "inv-9", "description": "Pay invoice inv-9."}})
			e.must(http.StatusConflict, req{Method: "POST", Path: "/api/v1/msp/deletion", Token: tok, Body: map[string]any{"ticket": e.ticket(tok, "delete_account", goodPassword), "accept_terms": true}})
			r := e.must(http.StatusOK, req{Path: "/api/v1/me/signings", Token: tok})
			if !strings.Contains(string(r.Body), `"scenario":"account_deletion"`) || !strings.Contains(string(r.Body), `"type":"deletion_terms"`) {
				t.Fatalf("signings %s", r.Body)
			}
		})
	})
}
