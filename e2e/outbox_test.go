package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// outboxMessage is one message of the development outbox (GET /dev/outbox):
// what a real deployment would have sent by email or SMS.
type outboxMessage struct {
	ID        int64     `json:"id"`
	Channel   string    `json:"channel"` // email or sms
	To        string    `json:"to"`      // the address, unmasked; phones in E.164
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Kind      string    `json:"kind"` // code, email_changed_old, …
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func (m outboxMessage) String() string {
	return fmt.Sprintf("#%d %s %s to %s: %q", m.ID, m.Channel, m.Kind, m.To, m.Body)
}

// outbox returns every message of the development outbox, newest last. No
// session is needed in development mode.
func (inst *instance) outbox(t *testing.T) []outboxMessage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, inst.URL+"/dev/outbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /dev/outbox: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		t.Fatalf("GET /dev/outbox: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /dev/outbox: %s: %s", res.Status, body)
	}
	var list []outboxMessage
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("GET /dev/outbox: %v in %s", err, body)
	}
	return list
}

// lastOutboxID is the ID of the newest message of the outbox, 0 when it is
// empty. Pass it to codeFor to accept only the messages sent after now.
func (inst *instance) lastOutboxID(t *testing.T) int64 {
	t.Helper()
	var last int64
	for _, m := range inst.outbox(t) {
		last = max(last, m.ID)
	}
	return last
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// codeFor returns the 6-digit code of the newest message of kind "code" to the
// address to whose ID is greater than after. The message is written in the
// same transaction as the code, so it is there once the page that says "sent"
// has loaded: the test fails when it is not.
func (inst *instance) codeFor(t *testing.T, to string, after int64) string {
	t.Helper()
	list := inst.outbox(t)
	for i := len(list) - 1; i >= 0; i-- {
		m := list[i]
		if m.ID <= after || m.Kind != "code" || m.To != to {
			continue
		}
		code := sixDigits.FindString(m.Body)
		if code == "" {
			t.Fatalf("no 6-digit code in the outbox message %s", m)
		}
		return code
	}
	t.Fatalf("no code to %s after message #%d in the outbox:\n%s", to, after, outboxListing(list))
	return ""
}

// messagesTo returns the messages of kind to the address to, oldest first.
func (inst *instance) messagesTo(t *testing.T, kind, to string) []outboxMessage {
	t.Helper()
	var out []outboxMessage
	for _, m := range inst.outbox(t) {
		if m.Kind == kind && m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func outboxListing(list []outboxMessage) string {
	if len(list) == 0 {
		return "  (empty)"
	}
	var s string
	for _, m := range list {
		s += "  " + m.String() + "\n"
	}
	return s
}
