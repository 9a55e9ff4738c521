package app

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/atrium-console/atrium"
	"github.com/atrium-console/atrium/store"
)

// ImageURL is where an image is served; "" for no image.
func ImageURL(id string) string {
	if id == "" {
		return ""
	}
	return "/images/" + id
}

// intake runs an upload through the image pipeline.
func (a *App) intake(ctx context.Context, r io.Reader) (*store.Image, error) {
	img, err := a.Images.Intake(ctx, r)
	if err != nil {
		return nil, err
	}
	return &store.Image{ID: img.Hash, ContentType: img.ContentType, Data: img.Data, Width: img.Width, Height: img.Height, CreatedAt: a.now()}, nil
}

// SetAvatar makes an upload the principal's profile picture and returns its
// URL. ETooLarge over 10 MB; EUnsupportedImage for anything but a JPEG, PNG,
// GIF or WebP image within the pixel bounds. The previous picture is deleted
// unless something else shows it.
func (a *App) SetAvatar(ctx context.Context, p *Principal, r io.Reader) (string, error) {
	id, err := a.storeImage(ctx, p, r, "avatar.upload", func(tx *store.Tx, id string) error { return tx.SetAvatar(ctx, p.Account.ID, id) })
	if err == nil {
		p.Account.AvatarID = id
	}
	return ImageURL(id), err
}

// SetLogo makes an upload the enterprise logo of the principal's MSP; only its
// top-level account may (EForbidden). Errors as SetAvatar.
func (a *App) SetLogo(ctx context.Context, p *Principal, r io.Reader) (string, error) {
	if !p.Account.IsMSPOwner() {
		return "", atrium.Errorf(atrium.EForbidden, "Only the top-level account of the MSP can change its information.")
	}
	id, err := a.storeImage(ctx, p, r, "msp.logo", func(tx *store.Tx, id string) error { return tx.SetLogo(ctx, p.Account.MSPID, id) })
	return ImageURL(id), err
}

// storeImage runs an upload through the pipeline and, in one transaction,
// stores it, points at it with use, deletes images nothing shows any more and
// records action.
func (a *App) storeImage(ctx context.Context, p *Principal, r io.Reader, action string, use func(*store.Tx, string) error) (string, error) {
	img, err := a.intake(ctx, r)
	if err != nil {
		return "", err
	}
	err = a.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertImage(ctx, img); err != nil {
			return err
		}
		if err := use(tx, img.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteUnusedImages(ctx); err != nil {
			return err
		}
		return a.event(ctx, tx, accountEvent(p.Account, action, p.ClientIP))
	})
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

// Image returns a stored image; ENotFound if there is none.
func (a *App) Image(ctx context.Context, id string) (*store.Image, error) {
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return nil, atrium.Errorf(atrium.ENotFound, "Not found.")
	}
	var img *store.Image
	err := a.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		img, err = tx.ImageByID(ctx, id)
		return err
	})
	return img, err
}

// MSPPatch changes some of an MSP's information; nil fields stay.
type MSPPatch struct {
	Name     *string `json:"name"`
	Industry *string `json:"industry"`
	Address  *string `json:"address"`
	Phone    *string `json:"phone"`
}

// UpdateMSP changes the principal's MSP's name, industry, address or phone;
// only the top-level account may (EForbidden). Each field is validated:
// EInvalid names the field. The phone is stored in E.164.
func (a *App) UpdateMSP(ctx context.Context, p *Principal, patch MSPPatch) (*atrium.MSP, error) {
	if p.Account.Kind != atrium.KindMSP {
		return nil, atrium.Errorf(atrium.EForbidden, "Only MSP accounts have MSP information.")
	}
	if !p.Account.IsMSPOwner() {
		return nil, atrium.Errorf(atrium.EForbidden, "Only the top-level account of the MSP can change its information.")
	}
	var m *atrium.MSP
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = tx.MSPByID(ctx, p.Account.MSPID); err != nil {
			return err
		}
		if patch.Name != nil {
			m.Name = strings.TrimSpace(*patch.Name)
			if err := validateOrgName(m.Name); err != nil {
				return err
			}
		}
		if patch.Industry != nil {
			m.Industry = strings.TrimSpace(*patch.Industry)
			if err := validateText("industry", m.Industry, 100); err != nil {
				return err
			}
		}
		if patch.Address != nil {
			m.Address = strings.TrimSpace(*patch.Address)
			if err := validateText("address", m.Address, 200); err != nil {
				return err
			}
		}
		if patch.Phone != nil {
			m.Phone = strings.TrimSpace(*patch.Phone)
			if m.Phone != "" {
				if m.Phone, err = NormalizePhone(m.Phone, a.Config.PhoneRegion); err != nil {
					return err
				}
			}
		}
		if err := tx.UpdateMSP(ctx, m); err != nil {
			return err
		}
		return a.event(ctx, tx, accountEvent(p.Account, "msp.update", p.ClientIP))
	})
	return m, err
}

// ExportData is what the personal data export contains.
type ExportData struct {
	Account  *atrium.Account
	MSP      *atrium.MSP
	Signings []*atrium.Signing
	Expires  *time.Time
}

// Export gathers the principal's personal data for the .xlsx export and records
// the export in the audit log. At most Config.ExportsPerHour exports an hour
// (ERateLimited).
func (a *App) Export(ctx context.Context, p *Principal) (*ExportData, error) {
	now := a.now()
	out := &ExportData{}
	err := a.DB.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountEvents(ctx, p.Account.ID, "export", now.Add(-time.Hour))
		if err != nil {
			return err
		}
		if n >= a.Config.ExportsPerHour {
			return retryAfter(time.Hour)
		}
		if out.Account, err = tx.AccountByID(ctx, p.Account.ID); err != nil {
			return err
		}
		if out.Account.Kind == atrium.KindMSP {
			if out.MSP, err = tx.MSPByID(ctx, out.Account.MSPID); err != nil {
				return err
			}
		}
		if out.Signings, err = tx.Signings(ctx, p.Account.ID); err != nil {
			return err
		}
		out.Expires = a.PasswordExpiresAt(out.Account)
		return a.event(ctx, tx, accountEvent(p.Account, "export", p.ClientIP))
	})
	return out, err
}
