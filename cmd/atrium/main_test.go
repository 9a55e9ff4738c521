package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium/atriumtest"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestProductionRefusesDevelopmentConveniences(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{"ATRIUM_ENV": "production"}, []string{"ATRIUM_OPERATOR_TOKEN", "ATRIUM_PUBLIC_URL", "ATRIUM_SECRET_KEY", "ATRIUM_SMTP_URL", "ATRIUM_SMS_PROVIDER"}},
		{"short token", map[string]string{"ATRIUM_ENV": "production", "ATRIUM_OPERATOR_TOKEN": "short", "ATRIUM_PUBLIC_URL": "https://console.example.com"}, []string{"ATRIUM_OPERATOR_TOKEN"}},
		{"plain http", map[string]string{"ATRIUM_ENV": "production", "ATRIUM_OPERATOR_TOKEN": strings.Repeat("x", 40), "ATRIUM_PUBLIC_URL": "http://console.example.com"}, []string{"ATRIUM_PUBLIC_URL"}},
		{"unknown env", map[string]string{"ATRIUM_ENV": "staging"}, []string{"ATRIUM_ENV"}},
		{"bad duration", map[string]string{"ATRIUM_SESSION_IDLE": "soon"}, []string{"ATRIUM_SESSION_IDLE"}},
		{"bad proxy", map[string]string{"ATRIUM_TRUSTED_PROXIES": "somewhere"}, []string{"ATRIUM_TRUSTED_PROXIES"}},
		{"bad checker", map[string]string{"ATRIUM_DELETION_CHECKERS": "https://billing.example/check, ftp://x"}, []string{"ATRIUM_DELETION_CHECKERS"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.env["ATRIUM_DATA_DIR"] = t.TempDir()
			err := run(context.Background(), []string{"serve"}, envOf(c.env), io.Discard, io.Discard)
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
	t.Run("a complete production configuration passes the check", func(t *testing.T) {
		c, _, err := parseConfig("t", nil, envOf(map[string]string{"ATRIUM_ENV": "production", "ATRIUM_OPERATOR_TOKEN": strings.Repeat("x", 40), "ATRIUM_PUBLIC_URL": "https://console.example.com", "ATRIUM_PASSWORD_VALIDITY": "30d",
			"ATRIUM_SECRET_KEY": strings.Repeat("k", 40), "ATRIUM_SMTP_URL": "smtps://u:p@mail.example.com:465", "ATRIUM_SMS_PROVIDER": "twilio"}), io.Discard)
		if err != nil || c.PasswordValidity != 30*24*time.Hour || !c.secure() {
			t.Fatalf("%+v %v", c, err)
		}
	})
}

func TestServeStartsWithDemoAndShutsDownGracefully(t *testing.T) {
	dir := t.TempDir()
	env := envOf(map[string]string{"ATRIUM_ADDR": "127.0.0.1:0", "ATRIUM_DATA_DIR": dir})
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &atriumtest.SyncBuffer{}, &atriumtest.SyncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, out, logs) }()

	urlRe := regexp.MustCompile(`running at (http://\S+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		} else {
			select {
			case err := <-done:
				t.Fatalf("serve ended: %v\n%s", err, logs.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	if url == "" {
		t.Fatalf("no URL in %q", out.String())
	}
	banner := out.String()
	for _, want := range []string{"Demo MSP account: demo", "Initial password (shown once): ", "Operator token: atrd_"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	res, err := http.Get(url + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	if b, err := os.ReadFile(filepath.Join(dir, "operator-token")); err != nil || !strings.Contains(banner, strings.TrimSpace(string(b))) {
		t.Errorf("operator token file: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no shutdown")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in logs:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "Initial password") {
		t.Error("the initial password reached the logs")
	}
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	env := envOf(map[string]string{"ATRIUM_DATA_DIR": dir})
	admin := func(args ...string) map[string]any {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"admin"}, args...), env, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%v: %v in %q", args, err, out.String())
		}
		return m
	}
	m := admin("create-msp", "-name", "Acme", "-username", "acme-admin", "-email", "ops@acme.example")
	if m["owner"].(map[string]any)["initial_password"] == "" {
		t.Fatalf("%v", m)
	}
	admin("create-member", "-msp", "1", "-username", "acme-ops", "-password", "Lantern-Orbit-2741")
	admin("create-tenant", "-name", "Tenant", "-username", "tenant-admin")
	if m := admin("authenticate-msp", "-msp", "1"); m["authenticated"] != true {
		t.Fatalf("%v", m)
	}
	file := filepath.Join(dir, "privacy.txt")
	os.WriteFile(file, []byte("Our privacy statement.\n\nSecond paragraph."), 0o600)
	if m := admin("publish-agreement", "-type", "privacy_statement", "-version", "2", "-title", "Privacy Statement", "-file", file); m["version"] != float64(2) {
		t.Fatalf("%v", m)
	}
	if m := admin("create-token", "-name", "ci"); !strings.HasPrefix(m["token"].(string), "atro_") {
		t.Fatalf("%v", m)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create-msp", "-name", "Other", "-username", "ACME-ADMIN"}, env, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "username_taken") {
		t.Fatalf("duplicate username: %v", err)
	}
	if err := run(context.Background(), []string{"migrate"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "is at migration ") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
}

func TestDeletionCheckersFromSettings(t *testing.T) {
	c, _, err := parseConfig("t", nil, envOf(map[string]string{"ATRIUM_DELETION_CHECKERS": "https://billing.example/check, http://127.0.0.1:9000/orders", "ATRIUM_DELETION_CHECK_TIMEOUT": "2s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.checkers()
	if err != nil || len(list) != 2 || list[0].Name() != "billing.example/check" || list[1].Name() != "127.0.0.1:9000/orders" || c.DeletionCheckTimeout != 2*time.Second {
		t.Fatalf("%v %v %v", list, err, c.DeletionCheckTimeout)
	}
}
