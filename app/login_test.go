package app_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/password"
	"github.com/atrium-console/atrium/store"
)

func newOwner(t *testing.T, a *app.App, username, pw string) *app.Created {
	t.Helper()
	c, err := a.CreateMSP(context.Background(), app.MSPInput{Name: "MSP " + username, Owner: app.OwnerInput{Username: username, Password: pw}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogin(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		t.Run("an unknown identifier, a wrong password and a locked account cost one hash each", func(t *testing.T) {
			a := atriumtest.NewApp(t, dialect, atriumtest.NewClock(), nil)
			newOwner(t, a, "alice", "Initial-Pass-9031")
			for _, c := range []struct {
				name, id, pw string
			}{
				{"unknown identifier", "nobody", "Initial-Pass-9031"},
				{"wrong password", "alice", "Wrong-Pass-0000"},
				{"empty password", "alice", ""},
				{"empty identifier", "", "x"},
			} {
				before := a.Hasher.Derivations()
				_, err := a.Login(ctx, app.LoginInput{Identifier: c.id, Password: c.pw})
				if atrium.ErrorCode(err) != atrium.EInvalidCredentials {
					t.Errorf("%s: %v", c.name, err)
				}
				if n := a.Hasher.Derivations() - before; n != 1 {
					t.Errorf("%s: %d hashes, want 1", c.name, n)
				}
			}
			for range 4 {
				a.Login(ctx, app.LoginInput{Identifier: "alice", Password: "wrong"})
			}
			before := a.Hasher.Derivations()
			if _, err := a.Login(ctx, app.LoginInput{Identifier: "alice", Password: "Initial-Pass-9031"}); atrium.ErrorCode(err) != atrium.EAccountLocked {
				t.Fatalf("locked: %v", err)
			}
			if n := a.Hasher.Derivations() - before; n != 1 {
				t.Errorf("locked account: %d hashes, want 1", n)
			}
		})
		t.Run("a hash with old parameters is rewritten at the next sign-in", func(t *testing.T) {
			a := atriumtest.NewApp(t, dialect, atriumtest.NewClock(), nil)
			c := newOwner(t, a, "alice", "Initial-Pass-9031")
			stronger := atriumtest.CheapParams()
			stronger.Time = 2
			a.Hasher = password.NewHasher(stronger, 2, rand.Reader)
			if _, err := a.Login(ctx, app.LoginInput{Identifier: "alice", Password: "Initial-Pass-9031"}); err != nil {
				t.Fatal(err)
			}
			acc, err := a.DB.AccountByID(ctx, c.Owner.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(acc.PasswordHash, "$argon2id$v=19$m=64,t=2,p=1$") {
				t.Fatalf("hash not rewritten: %s", acc.PasswordHash)
			}
			if _, err := a.Login(ctx, app.LoginInput{Identifier: "alice", Password: "Initial-Pass-9031"}); err != nil {
				t.Fatalf("sign-in after rehash: %v", err)
			}
		})
		t.Run("passwords are stored as argon2id PHC strings with their own salt", func(t *testing.T) {
			a := atriumtest.NewApp(t, dialect, atriumtest.NewClock(), nil)
			x := newOwner(t, a, "alice", "Initial-Pass-9031")
			y := newOwner(t, a, "bob-owner", "Initial-Pass-9031")
			if !strings.HasPrefix(x.Owner.PasswordHash, "$argon2id$v=19$") || x.Owner.PasswordHash == y.Owner.PasswordHash {
				t.Fatalf("hashes %q %q", x.Owner.PasswordHash, y.Owner.PasswordHash)
			}
		})
		t.Run("ended sessions are swept", func(t *testing.T) {
			clock := atriumtest.NewClock()
			a := atriumtest.NewApp(t, dialect, clock, nil)
			newOwner(t, a, "alice", "Initial-Pass-9031")
			for range 3 {
				if _, err := a.Login(ctx, app.LoginInput{Identifier: "alice", Password: "Initial-Pass-9031"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(31 * time.Minute)
			n, err := a.SweepSessions(ctx)
			if err != nil || n != 3 {
				t.Fatalf("swept %d, %v", n, err)
			}
		})
		t.Run("the demo MSP is created once", func(t *testing.T) {
			a := atriumtest.NewApp(t, dialect, atriumtest.NewClock(), nil)
			d, err := a.EnsureDemo(ctx)
			if err != nil || !d.Created || d.InitialPassword == "" {
				t.Fatalf("first: %+v %v", d, err)
			}
			d2, err := a.EnsureDemo(ctx)
			if err != nil || d2.Created || d2.InitialPassword != "" || d2.Username != "demo" {
				t.Fatalf("second: %+v %v", d2, err)
			}
			var n int
			a.DB.View(ctx, func(tx *store.Tx) error {
				acc, err := tx.AccountByIdentifier(ctx, "demo", "", "")
				if err == nil && acc.PasswordMustChange && acc.AgreementsPending {
					n++
				}
				return err
			})
			if n != 1 {
				t.Fatal("the demo account must change its password and sign agreements")
			}
		})
	})
}

func TestSweepMessages(t *testing.T) {
	atriumtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		clock := atriumtest.NewClock()
		a := atriumtest.NewApp(t, dialect, clock, nil)
		if _, err := a.CreateMSP(ctx, app.MSPInput{Name: "M", Owner: app.OwnerInput{Username: "alice", Password: "Initial-Pass-9031", Email: "a@example.com"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.SendNotification(ctx, app.NotificationInput{AccountID: 1, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
		// Queued messages stay however old.
		clock.Advance(31 * 24 * time.Hour)
		if n, err := a.SweepMessages(ctx, 30*24*time.Hour); err != nil || n != 0 {
			t.Fatalf("swept %d queued messages, %v", n, err)
		}
		if err := a.DB.Update(ctx, func(tx *store.Tx) error {
			return tx.RecordDelivery(ctx, atriumtest.Outbox(t, a)[0].ID, store.MessageSent, 1, "", clock.Now(), false)
		}); err != nil {
			t.Fatal(err)
		}
		if n, _ := a.SweepMessages(ctx, 30*24*time.Hour); n != 1 {
			t.Fatalf("swept %d, want the sent message", n)
		}
	})
}
