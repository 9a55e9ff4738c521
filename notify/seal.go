package notify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
)

// body is what a sealed message carries.
type body struct {
	Text string `json:"text"`
	HTML string `json:"html,omitempty"`
}

// sealer encrypts message bodies at rest with AES-256-GCM under a key derived
// from the server secret, so a verification code in the outbox is never stored
// in plain text and a stolen database does not reveal it.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("notify: the secret key must have at least 32 bytes")
	}
	key := sha256.Sum256(append([]byte("atrium outbox v1\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(b body) ([]byte, error) {
	plain, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, nil), nil
}

func (s *sealer) open(sealed []byte) (body, error) {
	var b body
	n := s.aead.NonceSize()
	if len(sealed) == 0 {
		return b, errWiped
	}
	if len(sealed) < n {
		return b, errors.New("notify: sealed body too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return b, errors.New("notify: sealed body does not open (was the secret key changed?)")
	}
	err = json.Unmarshal(plain, &b)
	return b, err
}

var errWiped = errors.New("notify: the body was removed after delivery")
