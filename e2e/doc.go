// Package e2e holds the end-to-end tests of Atrium: they build cmd/atrium, run
// it as a subprocess on a fresh SQLite data directory (and a fresh PostgreSQL
// schema when ATRIUM_TEST_DATABASE_URL is set), and drive it with headless
// Chromium through the Chrome DevTools Protocol.
//
//	go test ./e2e/ -run Browser -v -count=1
//	ATRIUM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test go test ./e2e/ -run Browser -v -count=1
//
// The browser tests skip themselves when no Chromium is installed. CHROME_PATH
// names another browser binary.
package e2e
