package tokend

import "testing"

func TestSealSuccessor(t *testing.T) {
	retired, access, refresh := NewSecret(KindRefreshToken), NewSecret(KindAccessToken), NewSecret(KindRefreshToken)
	sealed := sealSuccessor(retired, access, refresh)
	if a, r, ok := openSuccessor(retired, sealed); !ok || a != access || r != refresh {
		t.Fatalf("openSuccessor = %q, %q, %v", a, r, ok)
	}
	if _, _, ok := openSuccessor(NewSecret(KindRefreshToken), sealed); ok {
		t.Fatal("another refresh token opened the sealed successor")
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, _, ok := openSuccessor(retired, tampered); ok {
		t.Fatal("a tampered seal opened")
	}
	if _, _, ok := openSuccessor(retired, sealed[:5]); ok {
		t.Fatal("a truncated seal opened")
	}
	for _, v := range []string{access, refresh} {
		if contains(sealed, v) {
			t.Fatal("the sealed successor holds a token in clear")
		}
	}
}

func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}
