package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

const durabilityToken = "durability-operator-token-0123456789abcdef"

// runUntilKilled starts the binary on dataDir and returns its URL and a kill
// function that ends it with SIGKILL, as a crash or an OOM killer would.
func runUntilKilled(t *testing.T, dataDir string, env ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(atriumBinary(t))
	cmd.Dir = dataDir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ATRIUM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR="+dataDir, "ATRIUM_OPERATOR_TOKEN="+durabilityToken, "ATRIUM_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}
	}
	t.Cleanup(kill)
	urlRe := regexp.MustCompile(`running at (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if m := urlRe.FindStringSubmatch(s.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u, kill
	case <-time.After(startTimeout):
		kill()
		t.Fatalf("atrium did not start: %s", stderr.String())
	}
	return "", kill
}

func createMSP(ctx context.Context, base, username string) (int, error) {
	body, _ := json.Marshal(map[string]any{"name": "MSP " + username, "owner": map[string]any{"username": username}})
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/admin/v1/msps", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+durabilityToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// TestKillNineLosesNoAcknowledgedWrite kills Atrium with SIGKILL five times
// while four clients create MSPs, restarts it each time, and checks that every
// creation that was answered 201 is still there (creating it again answers 409)
// and that SQLite's integrity check passes.
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	dataDir := t.TempDir()
	var acked []string
	for round := range 5 {
		base, kill := runUntilKilled(t, dataDir)
		ctx, cancel := context.WithCancel(context.Background())
		ackc := make(chan struct{}, 1024)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					name := fmt.Sprintf("r%dw%di%d", round, w, i)
					if status, err := createMSP(ctx, base, name); err == nil && status == http.StatusCreated {
						mu.Lock()
						acked = append(acked, name)
						mu.Unlock()
						select {
						case ackc <- struct{}{}:
						default:
						}
					}
				}
			}()
		}
		// Kill in the middle of the writes, after some have been acknowledged.
		timeout := time.After(20 * time.Second)
	wait:
		for n := 0; n < 25; n++ {
			select {
			case <-ackc:
			case <-timeout:
				break wait
			}
		}
		kill()
		cancel()
		wg.Wait()
	}
	if len(acked) < 100 {
		t.Fatalf("only %d writes were acknowledged", len(acked))
	}
	base, kill := runUntilKilled(t, dataDir)
	for _, name := range acked {
		status, err := createMSP(context.Background(), base, name)
		if err != nil || status != http.StatusConflict {
			t.Fatalf("acknowledged %s is lost: %d %v", name, status, err)
		}
	}
	kill()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
		t.Fatalf("integrity_check: %q %v", result, err)
	}
	t.Logf("%d acknowledged writes across 5 kills, none lost", len(acked))
}
