package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/app"
)

const adminUsage = `usage: atrium admin COMMAND [flags]

Operator actions, run directly on the database (the same settings as serve):

  create-msp          -name N -username U [-email E] [-phone P] [-password P] [-industry I] [-address A] [-msp-phone P]
  create-member       -msp ID -username U [-email E] [-phone P] [-password P]
  create-tenant       -name N -username U [-email E] [-phone P] [-password P]
  authenticate-msp    -msp ID [-off]
  publish-agreement   -type T -version N -title T -file PATH
  create-token        [-name N]     create an operator API token (shown once)

Each prints its result as JSON. An initial password that Atrium generates is
shown once and must be changed at the first sign-in.`

func admin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" {
		fmt.Fprintln(stdout, adminUsage)
		return nil
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("atrium admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		name, username, email, phone, pw, industry, address, mspPhone = new(string), new(string), new(string), new(string), new(string), new(string), new(string), new(string)
		mspID                                                         = new(int64)
		off                                                           = new(bool)
		typ, title, file                                              = new(string), new(string), new(string)
		ver                                                           = new(int)
	)
	owner := func() {
		fs.StringVar(username, "username", "", "username of the account")
		fs.StringVar(email, "email", "", "email address to link")
		fs.StringVar(phone, "phone", "", "phone number to link, with country code")
		fs.StringVar(pw, "password", "", "initial password; generated when empty")
	}
	switch cmd {
	case "create-msp":
		fs.StringVar(name, "name", "", "MSP name")
		fs.StringVar(industry, "industry", "", "industry")
		fs.StringVar(address, "address", "", "address")
		fs.StringVar(mspPhone, "msp-phone", "", "the MSP's phone")
		owner()
	case "create-member":
		fs.Int64Var(mspID, "msp", 0, "MSP id")
		owner()
	case "create-tenant":
		fs.StringVar(name, "name", "", "tenant name")
		owner()
	case "authenticate-msp":
		fs.Int64Var(mspID, "msp", 0, "MSP id")
		fs.BoolVar(off, "off", false, "remove the authentication instead")
	case "publish-agreement":
		fs.StringVar(typ, "type", "", "privacy_statement, customer_agreement or deletion_terms")
		fs.IntVar(ver, "version", 0, "version number, newer than the current one")
		fs.StringVar(title, "title", "", "title")
		fs.StringVar(file, "file", "", "file with the text (paragraphs separated by blank lines)")
	case "create-token":
		fs.StringVar(name, "name", "cli", "a name for the token")
	default:
		return fmt.Errorf("unknown admin command %q\n\n%s", cmd, adminUsage)
	}
	// Settings flags (-database-url and so on) come after the command's own.
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, _, err := parseConfig("atrium admin", fs.Args(), getenv, stderr)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, c, newLogger("warn", stderr))
	if err != nil {
		return err
	}
	defer a.DB.Close()
	in := app.OwnerInput{Username: *username, Email: *email, Phone: *phone, Password: *pw}
	var out any
	switch cmd {
	case "create-msp":
		var r *app.Created
		if r, err = a.CreateMSP(ctx, app.MSPInput{Name: *name, Industry: *industry, Address: *address, Phone: *mspPhone, Owner: in}); err == nil {
			out = createdOut(r)
		}
	case "create-member":
		var r *app.Created
		if r, err = a.CreateMember(ctx, *mspID, in); err == nil {
			out = createdOut(r)
		}
	case "create-tenant":
		var r *app.Created
		if r, err = a.CreateTenant(ctx, app.TenantInput{Name: *name, Owner: in}); err == nil {
			out = createdOut(r)
		}
	case "authenticate-msp":
		if err = a.SetMSPAuthenticated(ctx, *mspID, !*off); err == nil {
			out = map[string]any{"msp_id": *mspID, "authenticated": !*off}
		}
	case "publish-agreement":
		var body []byte
		if body, err = os.ReadFile(*file); err == nil {
			var ag *atrium.Agreement
			if ag, err = a.PublishAgreement(ctx, app.AgreementInput{Type: *typ, Version: *ver, Title: *title, Body: string(body)}); err == nil {
				out = map[string]any{"id": ag.ID, "type": ag.Type, "version": ag.Version, "title": ag.Title, "published_at": ag.PublishedAt}
			}
		}
	case "create-token":
		var tok string
		if tok, err = a.CreateOperatorToken(ctx, *name); err == nil {
			out = map[string]any{"name": *name, "token": tok}
		}
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func createdOut(r *app.Created) map[string]any {
	owner := map[string]any{"id": r.Owner.ID, "username": r.Owner.Username}
	if r.InitialPassword != "" {
		owner["initial_password"] = r.InitialPassword
	}
	out := map[string]any{"owner": owner}
	if r.MSP != nil {
		out["msp"] = map[string]any{"id": r.MSP.ID, "name": r.MSP.Name}
	}
	if r.Tenant != nil {
		out["tenant"] = map[string]any{"id": r.Tenant.ID, "name": r.Tenant.Name}
	}
	return out
}
