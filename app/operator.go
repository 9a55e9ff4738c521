package app

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/store"
)

// OwnerInput describes the first account of a new MSP or tenant.
type OwnerInput struct {
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Password string `json:"password,omitempty"` // generated when empty
}

// MSPInput describes a new MSP.
type MSPInput struct {
	Name     string     `json:"name"`
	Industry string     `json:"industry"`
	Address  string     `json:"address"`
	Phone    string     `json:"phone"`
	Owner    OwnerInput `json:"owner"`
}

// Created is a new MSP or tenant with its owner account. InitialPassword is set
// when Atrium generated it, and shown only once.
type Created struct {
	MSP             *atrium.MSP
	Tenant          *atrium.Tenant
	Owner           *atrium.Account
	InitialPassword string
}

// CreateMSP creates an MSP with its top-level account. The owner's password is
// operator-set, so it must be changed at the first sign-in. EInvalid for a bad
// field, EUsernameTaken, EConflict for an email or phone in use, EWeakPassword.
func (a *App) CreateMSP(ctx context.Context, in MSPInput) (*Created, error) {
	m := &atrium.MSP{Name: strings.TrimSpace(in.Name), Industry: strings.TrimSpace(in.Industry), Address: strings.TrimSpace(in.Address), Phone: strings.TrimSpace(in.Phone), CreatedAt: a.now()}
	if err := validateOrgName(m.Name); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"industry", m.Industry}, {"address", m.Address}} {
		if err := validateText(f.name, f.v, 200); err != nil {
			return nil, err
		}
	}
	if m.Phone != "" {
		var err error
		if m.Phone, err = NormalizePhone(m.Phone, a.Config.PhoneRegion); err != nil {
			return nil, err
		}
	}
	owner, pw, err := a.newOwner(ctx, atrium.KindMSP, in.Owner)
	if err != nil {
		return nil, err
	}
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertMSP(ctx, m); err != nil {
			return err
		}
		owner.MSPID = m.ID
		if err := tx.InsertAccount(ctx, owner); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "msp.create", AccountID: owner.ID, MSPID: m.ID, Detail: "msp=" + itoa64(m.ID)})
	})
	if err != nil {
		return nil, err
	}
	owner.OrgName = m.Name
	return &Created{MSP: m, Owner: owner, InitialPassword: pw}, nil
}

// CreateMember creates a lower-level account of an MSP (or tenant member).
func (a *App) CreateMember(ctx context.Context, mspID int64, in OwnerInput) (*Created, error) {
	acc, pw, err := a.newOwner(ctx, atrium.KindMSP, in)
	if err != nil {
		return nil, err
	}
	acc.Role, acc.MSPID = atrium.RoleMember, mspID
	var m *atrium.MSP
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = tx.MSPByID(ctx, mspID); err != nil {
			return err
		}
		if err := tx.InsertAccount(ctx, acc); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "account.create", AccountID: acc.ID, MSPID: mspID})
	})
	if err != nil {
		return nil, err
	}
	acc.OrgName = m.Name
	return &Created{MSP: m, Owner: acc, InitialPassword: pw}, nil
}

// TenantInput describes a new tenant.
type TenantInput struct {
	Name  string     `json:"name"`
	Owner OwnerInput `json:"owner"`
}

// CreateTenant creates a tenant with its owner account; errors as CreateMSP.
func (a *App) CreateTenant(ctx context.Context, in TenantInput) (*Created, error) {
	t := &atrium.Tenant{Name: strings.TrimSpace(in.Name), CreatedAt: a.now()}
	if err := validateOrgName(t.Name); err != nil {
		return nil, err
	}
	owner, pw, err := a.newOwner(ctx, atrium.KindTenant, in.Owner)
	if err != nil {
		return nil, err
	}
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertTenant(ctx, t); err != nil {
			return err
		}
		owner.TenantID = t.ID
		if err := tx.InsertAccount(ctx, owner); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "tenant.create", AccountID: owner.ID, Detail: "tenant=" + itoa64(t.ID)})
	})
	if err != nil {
		return nil, err
	}
	owner.OrgName = t.Name
	return &Created{Tenant: t, Owner: owner, InitialPassword: pw}, nil
}

// newOwner validates an owner and hashes its (given or generated) password.
func (a *App) newOwner(ctx context.Context, kind string, in OwnerInput) (*atrium.Account, string, error) {
	in.Username = strings.TrimSpace(in.Username)
	if err := atrium.ValidateUsername(in.Username); err != nil {
		return nil, "", err
	}
	acc := &atrium.Account{Kind: kind, Role: atrium.RoleOwner, Username: in.Username, PasswordMustChange: true, AgreementsPending: true, CreatedAt: a.now(), PasswordChangedAt: a.now()}
	if in.Email != "" {
		if err := ValidateEmail(in.Email); err != nil {
			return nil, "", err
		}
		acc.Email = strings.TrimSpace(in.Email)
	}
	if in.Phone != "" {
		phone, err := NormalizePhone(in.Phone, a.Config.PhoneRegion)
		if err != nil {
			return nil, "", err
		}
		acc.Phone = phone
	}
	generated := ""
	pw := in.Password
	if pw == "" {
		var err error
		if pw, err = a.generatePassword(); err != nil {
			return nil, "", err
		}
		generated = pw
	} else if err := a.CheckPassword(ctx, acc, pw); err != nil {
		return nil, "", err
	}
	hash, err := a.Hasher.Hash(ctx, pw)
	if err != nil {
		return nil, "", err
	}
	acc.PasswordHash = hash
	return acc, generated, nil
}

// generatePassword returns a random initial password of 16 characters that meets
// any sensible policy: letters of both cases, digits, no look-alike characters.
func (a *App) generatePassword() (string, error) {
	const letters = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	const digits = "23456789"
	const all = letters + digits
	b := make([]byte, 16)
	if _, err := io.ReadFull(a.Rand, b); err != nil {
		return "", err
	}
	out := make([]byte, 16)
	for i, c := range b {
		out[i] = all[int(c)%len(all)]
	}
	out[3] = digits[int(b[3])%len(digits)]
	out[9] = letters[int(b[9])%len(letters)]
	return string(out), nil
}

// SetMSPAuthenticated sets or clears an MSP's authentication badge.
func (a *App) SetMSPAuthenticated(ctx context.Context, mspID int64, authenticated bool) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetMSPAuthenticated(ctx, mspID, authenticated); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "msp.authentication", MSPID: mspID, Detail: "authenticated=" + strconv.FormatBool(authenticated)})
	})
}

// AgencyInput describes a tenant's agency relationship with an MSP.
type AgencyInput struct {
	TenantID  int64      `json:"tenant_id"`
	MSPID     int64      `json:"msp_id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// CreateAgency creates an agency; ENotFound for an unknown tenant or MSP,
// EConflict if it exists.
func (a *App) CreateAgency(ctx context.Context, in AgencyInput) (*atrium.Agency, error) {
	now := a.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return nil, atrium.Errorf(atrium.EInvalid, "expires_at must be in the future.").With("field", "expires_at")
	}
	ag := &atrium.Agency{TenantID: in.TenantID, MSPID: in.MSPID, CreatedAt: now, ExpiresAt: in.ExpiresAt}
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.TenantByID(ctx, in.TenantID); err != nil {
			return atrium.Errorf(atrium.ENotFound, "No such tenant.").With("field", "tenant_id")
		}
		if _, err := tx.MSPByID(ctx, in.MSPID); err != nil {
			return atrium.Errorf(atrium.ENotFound, "No such MSP.").With("field", "msp_id")
		}
		if err := tx.InsertAgency(ctx, ag); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "agency.create", MSPID: in.MSPID, Detail: "agency=" + itoa64(ag.ID) + " tenant=" + itoa64(in.TenantID)})
	})
	return ag, err
}

// DeleteAgency removes an agency; ENotFound if there is none.
func (a *App) DeleteAgency(ctx context.Context, id int64) error {
	return a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAgency(ctx, id); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "agency.delete", Detail: "agency=" + itoa64(id)})
	})
}

// AgreementInput is a new agreement version.
type AgreementInput struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	Title   string `json:"title"`
	Body    string `json:"body"`
}

// PublishAgreement publishes a new version of an agreement. The version must be
// newer than the current one (EConflict otherwise). A new version of the Privacy
// Statement or the Customer Agreement makes every account sign again at its next
// request.
func (a *App) PublishAgreement(ctx context.Context, in AgreementInput) (*atrium.Agreement, error) {
	if !atrium.ValidAgreementType(in.Type) {
		return nil, atrium.Errorf(atrium.EInvalid, "type must be one of %s.", strings.Join(atrium.AgreementTypes, ", ")).With("field", "type")
	}
	if in.Version < 1 {
		return nil, atrium.Errorf(atrium.EInvalid, "version must be a positive number.").With("field", "version")
	}
	if err := validateText("title", strings.TrimSpace(in.Title), 200); err != nil || strings.TrimSpace(in.Title) == "" {
		return nil, atrium.Errorf(atrium.EInvalid, "A title of 1 to 200 characters is required.").With("field", "title")
	}
	if strings.TrimSpace(in.Body) == "" || len(in.Body) > 1<<20 {
		return nil, atrium.Errorf(atrium.EInvalid, "A body of up to 1 MiB is required.").With("field", "body")
	}
	ag := &atrium.Agreement{Type: in.Type, Version: in.Version, Title: strings.TrimSpace(in.Title), Body: in.Body, PublishedAt: a.now()}
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		latest, err := tx.LatestAgreementVersion(ctx, in.Type)
		if err != nil {
			return err
		}
		if in.Version <= latest {
			return atrium.Errorf(atrium.EConflict, "Version %d is published already; the next version is %d.", latest, latest+1).With("current_version", latest)
		}
		if err := tx.InsertAgreement(ctx, ag); err != nil {
			return err
		}
		if slices.Contains(atrium.LoginAgreementTypes, in.Type) {
			if err := tx.SetAllAgreementsPending(ctx); err != nil {
				return err
			}
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "agreement.publish", Detail: "type=" + in.Type + " version=" + itoa(in.Version)})
	})
	return ag, err
}

// OperatorEvents returns audit events for the operator.
func (a *App) OperatorEvents(ctx context.Context, f atrium.EventFilter) ([]*atrium.Event, error) {
	var out []*atrium.Event
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Events(ctx, f)
		return err
	})
	return out, err
}

// CreateOperatorToken creates a named operator token, stores its hash and returns
// the token, shown once.
func (a *App) CreateOperatorToken(ctx context.Context, name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		name = "cli"
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(a.Rand, b); err != nil {
		return "", err
	}
	tok := "atro_" + base64.RawURLEncoding.EncodeToString(b)
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertOperatorToken(ctx, name, HashToken(tok), a.now()); err != nil {
			return err
		}
		return a.event(ctx, tx, atrium.Event{Actor: "operator", Action: "operator_token.create", Detail: "name=" + name})
	})
	return tok, err
}

// AuthenticateOperator checks an operator token: the configured one (compared in
// constant time) or one created by the CLI. EUnauthorized otherwise.
func (a *App) AuthenticateOperator(ctx context.Context, configured, token string) error {
	unauthorized := atrium.Errorf(atrium.EUnauthorized, "A valid operator token is required.")
	if token == "" || len(token) > 256 {
		return unauthorized
	}
	if configured != "" && subtle.ConstantTimeCompare([]byte(configured), []byte(token)) == 1 {
		return nil
	}
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		_, err := tx.OperatorTokenName(ctx, HashToken(token))
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return unauthorized
	}
	return err
}

func validateOrgName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return atrium.Errorf(atrium.EInvalid, "A name of 1 to 100 characters is required.").With("field", "name")
	}
	return validateText("name", name, 100)
}

// validateText refuses control characters and overlong values in a free-text
// field.
func validateText(field, v string, maxRunes int) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxRunes {
		return atrium.Errorf(atrium.EInvalid, "%s is too long (at most %d characters).", field, maxRunes).With("field", field)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return atrium.Errorf(atrium.EInvalid, "%s contains a control character.", field).With("field", field)
		}
	}
	return nil
}

func itoa(v int) string     { return strconv.Itoa(v) }
func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
