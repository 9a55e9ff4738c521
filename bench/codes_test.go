package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/atrium-console/atrium/app"
	"github.com/atrium-console/atrium/atriumtest"
	"github.com/atrium-console/atrium/store"
)

// codeFixture is an app with one signed-in account that has a phone, with the
// sending limits lifted and a fake clock moved past the resend cooldown before
// each code, so the benchmark measures the work, not the limits.
func codeFixture(b *testing.B, dialect string) (*app.App, *app.Principal, *atriumtest.Clock) {
	clock := atriumtest.NewClock()
	a := atriumtest.NewApp(b, dialect, clock, nil)
	a.Config.CodesPerAccountHour, a.Config.CodesPerDestinationDay, a.Config.CodesPerClientHour = 1<<30, 1<<30, 1<<30
	ctx := context.Background()
	if _, err := a.CreateMSP(ctx, app.MSPInput{Name: "Bench", Owner: app.OwnerInput{Username: "bench", Password: benchPassword, Phone: "+8613800138000"}}); err != nil {
		b.Fatal(err)
	}
	res, err := a.Login(ctx, app.LoginInput{Identifier: "bench", Password: benchPassword})
	if err != nil {
		b.Fatal(err)
	}
	return a, res.Principal, clock
}

// BenchmarkCodeSend measures issuing one verification code: the limits counted
// under lock, the keyed hash, the code row, the sealed message and its delivery
// job, in one transaction.
func BenchmarkCodeSend(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d, func(b *testing.B) {
			if d == store.Postgres && os.Getenv(atriumtest.PostgresEnv) == "" {
				b.Skip("PostgreSQL benchmarks skipped: set " + atriumtest.PostgresEnv)
			}
			a, p, clock := codeFixture(b, d)
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				clock.Advance(61 * time.Second)
				if _, err := a.SendCode(ctx, p, "password", "sms"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodeVerify measures redeeming a code for a ticket: the try counted,
// the comparison, the code used and the ticket issued.
func BenchmarkCodeVerify(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d, func(b *testing.B) {
			if d == store.Postgres && os.Getenv(atriumtest.PostgresEnv) == "" {
				b.Skip("PostgreSQL benchmarks skipped: set " + atriumtest.PostgresEnv)
			}
			a, p, clock := codeFixture(b, d)
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				clock.Advance(61 * time.Second)
				if _, err := a.SendCode(ctx, p, "password", "sms"); err != nil {
					b.Fatal(err)
				}
				code := atriumtest.LastCode(b, a, "+8613800138000")
				b.StartTimer()
				if _, err := a.Verify(ctx, p, app.VerifyInput{Purpose: "password", Method: "sms", Code: code}); err != nil {
					b.Fatal(fmt.Errorf("verify: %w", err))
				}
			}
		})
	}
}
