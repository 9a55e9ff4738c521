// Package httpcheck asks an external HTTP service what blocks deleting an MSP
// account: the service gets the MSP and its accounts and answers
// {"blocking":[{"kind","id","description"}]}. Anything else — an error status,
// a timeout, malformed or implausible JSON — is an error, which the deletion
// treats as a blocker (fail closed).
package httpcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

// Checker is one external deletion check.
type Checker struct {
	url    string
	name   string
	client *http.Client
}

// New returns a checker for an http(s) URL; the name shown to users is the
// URL's host and path, without credentials or query.
func New(raw string, client *http.Client) (*Checker, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("httpcheck: %q is not an http(s) URL", raw)
	}
	if client == nil {
		client = &http.Client{}
	}
	return &Checker{url: u.String(), name: u.Host + u.Path, client: client}, nil
}

// Name identifies the checker in messages and logs.
func (c *Checker) Name() string { return c.name }

type answer struct {
	Blocking *[]struct {
		Kind        string `json:"kind"`
		ID          any    `json:"id"`
		Description string `json:"description"`
	} `json:"blocking"`
}

// Check posts the subject and returns what the service says blocks it.
func (c *Checker) Check(ctx context.Context, s app.DeletionSubject) ([]atrium.Blocker, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "atrium")
	res, err := c.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, errors.New("no answer in time")
		}
		return nil, errors.New("unreachable")
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered HTTP %d", res.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20+1))
	if err != nil {
		return nil, errors.New("the answer broke off")
	}
	if len(raw) > 1<<20 {
		return nil, errors.New("the answer is too large")
	}
	var a answer
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&a); err != nil || a.Blocking == nil {
		return nil, errors.New(`the answer is not {"blocking":[…]}`)
	}
	if len(*a.Blocking) > 1000 {
		return nil, errors.New("the answer lists too many blockers")
	}
	out := make([]atrium.Blocker, 0, len(*a.Blocking))
	for _, b := range *a.Blocking {
		id := ""
		switch v := b.ID.(type) {
		case string:
			id = v
		case float64:
			id = fmt.Sprint(v)
		}
		if b.Kind == "" || b.Description == "" || !utf8.ValidString(b.Kind+b.Description+id) || len(b.Kind) > 100 || len(id) > 200 || len(b.Description) > 1000 {
			return nil, errors.New("a blocker lacks a kind or a description")
		}
		out = append(out, atrium.Blocker{Kind: b.Kind, ID: id, Description: b.Description})
	}
	return out, nil
}
