package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"

	"golang.org/x/crypto/hkdf"

	"github.com/callbook/callbook/models"
)

// sealPrefix marks the format of a sealed value, so the scheme can change.
const sealPrefix = "v1:"

// sealKey derives the AES-256 key for purpose from the service secret, so
// the signing secret itself never encrypts anything.
func (s *Store) sealKey(purpose string) cipher.AEAD {
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, s.secret, nil, []byte("callbook "+purpose+" v1")), key); err != nil {
		panic(err) // HKDF-SHA256 yields far more than 32 bytes
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // 32-byte keys are always valid
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}

// sealSecret encrypts plain with AES-GCM under a key for purpose; context
// is authenticated too, so a sealed value copied to another row fails to
// open. Empty stays empty.
func (s *Store) sealSecret(purpose, context, plain string) string {
	if plain == "" {
		return ""
	}
	gcm := s.sealKey(purpose)
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := gcm.Seal(nonce, nonce, []byte(plain), []byte(context))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// openSecret reverses sealSecret.
func (s *Store) openSecret(purpose, context, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealPrefix))
	gcm := s.sealKey(purpose)
	if err != nil || !strings.HasPrefix(sealed, sealPrefix) || len(raw) < gcm.NonceSize() {
		return "", models.ErrUnsealable
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(context))
	if err != nil {
		return "", models.ErrUnsealable
	}
	return string(plain), nil
}
