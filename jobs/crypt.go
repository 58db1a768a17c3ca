package jobs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a record encryption key (AES-256).
const KeySize = 32

// sealedV1 is the first byte of a record sealed with AES-256-GCM: 0x01, then a 12-byte random
// nonce, then the ciphertext and tag. The Redis key of the value is the additional data, so a
// sealed value copied under another breach's key does not open. A plain JSON record starts with
// '{', so the two never collide and a store can read records written before a key was set.
const sealedV1 byte = 0x01

// sealedBreachV1 is the first byte of an event's private text sealed with its breach's own key
// (keyPrivateKeyFmt): 0x02, a 12-byte random nonce, the ciphertext and tag; the additional data is
// eventPrivateAD, "#" and the breach ID.
const sealedBreachV1 byte = 0x02

// ParseEncryptionKey reads a key from configuration: 32 bytes written as 64 hex digits or as
// standard or URL-safe base64 (with or without padding). Use it in cmd to validate the
// environment before calling WithEncryptionKey.
func ParseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("encryption key is %d bytes, want %d (e.g. `openssl rand -base64 32`)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("encryption key is neither 64 hex digits nor base64 of 32 bytes (e.g. `openssl rand -base64 32`)")
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("encryption key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain for storage with the additional data ad (the Redis key it is stored under,
// or fieldAD), or returns it unchanged when the store has no key.
func (s *Store) seal(ad []byte, plain []byte) []byte {
	if s.aead == nil {
		return plain
	}
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealedV1
	rand.Read(out[1 : 1+ns]) // never fails (crypto/rand)
	return s.aead.Seal(out, out[1:1+ns], plain, ad)
}

// errSealed is returned for values the store cannot open; it is an internal error (the data or
// the configuration is wrong), never the user's.
var errSealed = errors.New("stored value cannot be decrypted")

// open returns the plain JSON of a value sealed with the additional data ad (the Redis key it was
// read from, or fieldAD).
func (s *Store) open(ad []byte, data []byte) ([]byte, error) {
	return s.openTo(nil, ad, data)
}

// openTo is open writing the plaintext of a sealed value at the end of dst (a plain value is
// returned as it is).
func (s *Store) openTo(dst, ad []byte, data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty value", ad)
	}
	switch data[0] {
	case '{':
		return data, nil
	case sealedV1:
		if s.aead == nil {
			return nil, fmt.Errorf("%s: %w: the value is encrypted and no encryption key is configured", ad, errSealed)
		}
		ns := s.aead.NonceSize()
		if len(data) < 1+ns+s.aead.Overhead() {
			return nil, fmt.Errorf("%s: %w: value too short", ad, errSealed)
		}
		plain, err := s.aead.Open(dst, data[1:1+ns], data[1+ns:], ad)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: wrong encryption key or corrupted value", ad, errSealed)
		}
		return plain, nil
	default:
		return nil, fmt.Errorf("%s: unknown value format 0x%02x", ad, data[0])
	}
}
