package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/atrium-console/atrium/atriumtest"
)

func TestOperatorAPI(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("every operator route needs the operator token", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice") // an account token is not an operator token
			for _, q := range []req{
				{Method: "POST", Path: "/admin/v1/msps", Body: map[string]any{}},
				{Method: "POST", Path: "/admin/v1/msps/1/accounts", Body: map[string]any{}},
				{Method: "PUT", Path: "/admin/v1/msps/1/authentication", Body: map[string]any{"authenticated": true}},
				{Method: "POST", Path: "/admin/v1/tenants", Body: map[string]any{}},
				{Method: "POST", Path: "/admin/v1/agencies", Body: map[string]any{}},
				{Method: "DELETE", Path: "/admin/v1/agencies/1"},
				{Method: "POST", Path: "/admin/v1/agreements", Body: map[string]any{}},
				{Method: "GET", Path: "/admin/v1/events"},
			} {
				for _, token := range []string{"", "wrong", tok} {
					q.Token = token
					if r := e.do(q); r.Status != http.StatusUnauthorized || r.Code() != "unauthorized" {
						t.Errorf("%s %s with %q: %d %s", q.Method, q.Path, token, r.Status, r.Body)
					}
				}
			}
		})
		t.Run("creates an MSP with a generated initial password shown once", func(t *testing.T) {
			e := newEnv(t, dialect)
			r := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/msps", Token: operatorToken, Body: map[string]any{"name": "Acme", "owner": map[string]any{"username": "acme-owner"}}})
			pw, _ := r.JSON()["owner"].(map[string]any)["initial_password"].(string)
			if len(pw) < 12 {
				t.Fatalf("initial password %q", pw)
			}
			_, pending := e.login("acme-owner", pw)
			if fmt.Sprint(pending) != "[sign_agreements change_password]" {
				t.Fatalf("pending %v", pending)
			}
		})
		t.Run("refuses bad MSP input with the field named", func(t *testing.T) {
			e := newEnv(t, dialect)
			e.createMSP("Acme", "alice", "Initial-Pass-9031")
			for _, c := range []struct {
				body   map[string]any
				status int
				code   string
			}{
				{map[string]any{"name": "", "owner": map[string]any{"username": "bob1"}}, 422, "invalid"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "1bob"}}, 422, "invalid"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "bo"}}, 422, "invalid"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "ALICE"}}, 409, "username_taken"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "bob1", "email": "not-an-email"}}, 422, "invalid"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "bob1", "phone": "12345"}}, 422, "invalid"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "bob1", "password": "password"}}, 422, "weak_password"},
				{map[string]any{"name": "Line\nbreak", "owner": map[string]any{"username": "bob1"}}, 422, "invalid"},
				{map[string]any{"name": "B", "owner": map[string]any{"username": "bob1"}, "surprise": 1}, 400, "malformed_request"},
			} {
				r := e.do(req{Method: "POST", Path: "/admin/v1/msps", Token: operatorToken, Body: c.body})
				if r.Status != c.status || r.Code() != c.code {
					t.Errorf("%v: %d %s, want %d %s", c.body, r.Status, r.Body, c.status, c.code)
				}
			}
		})
		t.Run("the authentication badge shows for every account of the MSP", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, mspID := e.ready("alice")
			r := e.must(http.StatusCreated, req{Method: "POST", Path: fmt.Sprintf("/admin/v1/msps/%d/accounts", mspID), Token: operatorToken, Body: map[string]any{"username": "bob-member", "password": "Initial-Pass-9031"}})
			if r.JSON()["owner"].(map[string]any)["username"] != "bob-member" {
				t.Fatalf("member: %s", r.Body)
			}
			member, _ := e.login("bob-member", "Initial-Pass-9031")
			e.must(http.StatusOK, req{Method: "PUT", Path: fmt.Sprintf("/admin/v1/msps/%d/authentication", mspID), Token: operatorToken, Body: map[string]any{"authenticated": true}})
			for _, token := range []string{tok, member} {
				me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: token}).JSON()
				if me["msp"].(map[string]any)["authenticated"] != true {
					t.Errorf("badge not shown: %v", me["msp"])
				}
			}
			if me := e.must(http.StatusOK, req{Path: "/api/v1/me", Token: member}).JSON(); me["role"] != "member" {
				t.Errorf("role %v", me["role"])
			}
			e.must(http.StatusNotFound, req{Method: "PUT", Path: "/admin/v1/msps/9999/authentication", Token: operatorToken, Body: map[string]any{"authenticated": true}})
		})
		t.Run("agencies link tenants to MSPs and can be removed", func(t *testing.T) {
			e := newEnv(t, dialect)
			mspID, _ := e.createMSP("Acme", "alice", "Initial-Pass-9031")
			r := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/tenants", Token: operatorToken, Body: map[string]any{"name": "Tenant One", "owner": map[string]any{"username": "tenant-one"}}})
			tenantID := r.JSON()["tenant"].(map[string]any)["id"]
			_, pending := e.login("tenant-one", r.JSON()["owner"].(map[string]any)["initial_password"].(string))
			if len(pending) != 2 {
				t.Fatalf("tenant pending %v", pending)
			}
			ag := e.must(http.StatusCreated, req{Method: "POST", Path: "/admin/v1/agencies", Token: operatorToken, Body: map[string]any{"tenant_id": tenantID, "msp_id": mspID}}).JSON()
			e.must(http.StatusConflict, req{Method: "POST", Path: "/admin/v1/agencies", Token: operatorToken, Body: map[string]any{"tenant_id": tenantID, "msp_id": mspID}})
			e.must(http.StatusNotFound, req{Method: "POST", Path: "/admin/v1/agencies", Token: operatorToken, Body: map[string]any{"tenant_id": 9999, "msp_id": mspID}})
			e.must(http.StatusUnprocessableEntity, req{Method: "POST", Path: "/admin/v1/agencies", Token: operatorToken, Body: map[string]any{"tenant_id": tenantID, "msp_id": mspID, "expires_at": "2000-01-01T00:00:00Z"}})
			e.must(http.StatusNoContent, req{Method: "DELETE", Path: fmt.Sprintf("/admin/v1/agencies/%v", ag["id"]), Token: operatorToken})
			e.must(http.StatusNotFound, req{Method: "DELETE", Path: fmt.Sprintf("/admin/v1/agencies/%v", ag["id"]), Token: operatorToken})
		})
		t.Run("agreement versions only go forward", func(t *testing.T) {
			e := newEnv(t, dialect)
			for _, c := range []struct {
				body   map[string]any
				status int
			}{
				{map[string]any{"type": "privacy_statement", "version": 1, "title": "P", "body": "b"}, 409},
				{map[string]any{"type": "privacy_statement", "version": 2, "title": "P", "body": "b"}, 201},
				{map[string]any{"type": "privacy_statement", "version": 2, "title": "P", "body": "b"}, 409},
				{map[string]any{"type": "cookie_policy", "version": 1, "title": "P", "body": "b"}, 422},
				{map[string]any{"type": "customer_agreement", "version": 2, "title": "", "body": "b"}, 422},
				{map[string]any{"type": "customer_agreement", "version": 2, "title": "C", "body": " "}, 422},
			} {
				if r := e.do(req{Method: "POST", Path: "/admin/v1/agreements", Token: operatorToken, Body: c.body}); r.Status != c.status {
					t.Errorf("%v: %d %s", c.body, r.Status, r.Body)
				}
			}
		})
		t.Run("audit events are filterable by account and action", func(t *testing.T) {
			e := newEnv(t, dialect)
			_, aliceID := e.createMSP("Acme", "alice", "Initial-Pass-9031")
			e.createMSP("Beta", "bob-owner", "Initial-Pass-9031")
			e.login("alice", "Initial-Pass-9031")
			e.do(req{Method: "POST", Path: "/api/v1/login", Body: map[string]any{"identifier": "alice", "password": "nope"}})
			r := e.must(http.StatusOK, req{Path: fmt.Sprintf("/admin/v1/events?account_id=%d&action=login", aliceID), Token: operatorToken})
			evs := r.JSON()["events"].([]any)
			if len(evs) != 2 || evs[0].(map[string]any)["outcome"] != "failure" || evs[1].(map[string]any)["outcome"] != "success" {
				t.Fatalf("events %s", r.Body)
			}
			e.must(http.StatusUnprocessableEntity, req{Path: "/admin/v1/events?since=yesterday", Token: operatorToken})
		})
	})
}
