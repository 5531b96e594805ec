package tokend

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// A rotated refresh token's successor is kept for the grace period so that
// a client whose response was lost gets the same tokens again. The store
// must not hold them in clear, so they are sealed with a key derived from
// the retired refresh token itself: only whoever presents that token can
// open them, and the store alone (which holds only the token's hash) cannot.

func successorKey(retired string) []byte {
	k := sha256.Sum256([]byte("tokend refresh successor v1\x00" + retired))
	return k[:]
}

func sealSuccessor(retired, access, refresh string) []byte {
	block, err := aes.NewCipher(successorKey(retired))
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("tokend: crypto/rand failed: " + err.Error())
	}
	return gcm.Seal(nonce, nonce, []byte(access+" "+refresh), nil)
}

func openSuccessor(retired string, sealed []byte) (access, refresh string, ok bool) {
	block, err := aes.NewCipher(successorKey(retired))
	if err != nil {
		return "", "", false
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil || len(sealed) < gcm.NonceSize() {
		return "", "", false
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
	if err != nil {
		return "", "", false
	}
	access, refresh, ok = strings.Cut(string(plain), " ")
	return access, refresh, ok
}
