package store

import (
	"context"
	"time"

	"github.com/atrium-console/atrium"
)

// Image is a stored picture.
type Image struct {
	ID          string // hex SHA-256 of Data: the content address
	ContentType string
	Data        []byte
	Width       int
	Height      int
	CreatedAt   time.Time
}

// InsertImage stores an image under its content address; storing the same
// bytes twice keeps one row.
func (tx *Tx) InsertImage(ctx context.Context, img *Image) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO images (id, content_type, data, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`, img.ID, img.ContentType, img.Data, img.Width, img.Height, us(img.CreatedAt))
	return wrap(err)
}

// ImageByID returns an image; ENotFound if there is none.
func (tx *Tx) ImageByID(ctx context.Context, id string) (*Image, error) {
	var img Image
	var created int64
	err := tx.q.QueryRowContext(ctx, `SELECT id, content_type, data, width, height, created_at FROM images WHERE id = $1`, id).
		Scan(&img.ID, &img.ContentType, &img.Data, &img.Width, &img.Height, &created)
	if err != nil {
		return nil, wrap(err)
	}
	img.CreatedAt = fromUS(created)
	return &img, nil
}

// DeleteUnusedImages removes images that no account or MSP refers to any more
// and returns how many went.
func (tx *Tx) DeleteUnusedImages(ctx context.Context) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM images WHERE
		NOT EXISTS (SELECT 1 FROM accounts WHERE avatar_id = images.id) AND
		NOT EXISTS (SELECT 1 FROM msps WHERE logo_id = images.id)`)
	if err != nil {
		return 0, wrap(err)
	}
	return res.RowsAffected()
}

// SetAvatar points the account at its new profile picture ("" for none).
func (tx *Tx) SetAvatar(ctx context.Context, accountID int64, imageID string) error {
	return tx.exec1(ctx, `UPDATE accounts SET avatar_id = $1 WHERE id = $2`, imageID, accountID)
}

// SetLogo points the MSP at its new enterprise logo ("" for none).
func (tx *Tx) SetLogo(ctx context.Context, mspID int64, imageID string) error {
	return tx.exec1(ctx, `UPDATE msps SET logo_id = $1 WHERE id = $2`, imageID, mspID)
}

// UpdateMSP stores the MSP's name, industry, address and phone.
func (tx *Tx) UpdateMSP(ctx context.Context, m *atrium.MSP) error {
	return tx.exec1(ctx, `UPDATE msps SET name = $1, industry = $2, address = $3, phone = $4 WHERE id = $5`, m.Name, m.Industry, m.Address, m.Phone, m.ID)
}

// CountEvents counts an account's audit events of an action since a time; the
// export's rate limit uses it.
func (tx *Tx) CountEvents(ctx context.Context, accountID int64, action string, since time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE account_id = $1 AND action = $2 AND at >= $3`, accountID, action, us(since)).Scan(&n)
	return n, wrap(err)
}
