package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/atrium-console/atrium/atriumtest"
)

func TestSessionsAndEvents(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("an account lists and revokes its own sessions only", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			other, _ := e.login("alice", goodPassword)
			bob, _ := e.ready("bob-owner")
			var mine []map[string]any
			jsonUnmarshal(e.must(http.StatusOK, req{Path: "/api/v1/me/sessions", Token: tok}).Body, &mine)
			if len(mine) != 2 || mine[0]["current"] == mine[1]["current"] {
				t.Fatalf("sessions %v", mine)
			}
			var bobs []map[string]any
			jsonUnmarshal(e.must(http.StatusOK, req{Path: "/api/v1/me/sessions", Token: bob}).Body, &bobs)
			// Another account's session is not found, and stays.
			e.must(http.StatusNotFound, req{Method: "DELETE", Path: fmt.Sprintf("/api/v1/me/sessions/%v", bobs[0]["id"]), Token: tok})
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: bob})
			for _, s := range mine {
				if s["current"] == false {
					e.must(http.StatusNoContent, req{Method: "DELETE", Path: fmt.Sprintf("/api/v1/me/sessions/%v", s["id"]), Token: tok})
				}
			}
			e.must(http.StatusUnauthorized, req{Path: "/api/v1/me", Token: other})
			e.must(http.StatusOK, req{Path: "/api/v1/me", Token: tok})
		})
		t.Run("an account sees its own security events only", func(t *testing.T) {
			e := newEnv(t, dialect)
			tok, _ := e.ready("alice")
			e.ready("bob-owner")
			var evs []map[string]any
			jsonUnmarshal(e.must(http.StatusOK, req{Path: "/api/v1/me/events", Token: tok}).Body, &evs)
			if len(evs) < 4 {
				t.Fatalf("events %v", evs)
			}
			for _, ev := range evs {
				if ev["account_id"] != evs[0]["account_id"] {
					t.Fatalf("another account's event: %v", ev)
				}
			}
		})
	})
}
