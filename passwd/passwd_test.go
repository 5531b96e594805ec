package passwd

import (
	"strings"
	"testing"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h := Hash("correct horse", fast)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("Hash = %q: not a PHC argon2id string", h)
	}
	if h == Hash("correct horse", fast) {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Fatalf("Verify(right password) = %v, %v", ok, err)
	}
	if ok, err := Verify(h, "correct horse "); ok || err != nil {
		t.Fatalf("Verify(wrong password) = %v, %v", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := Hash("pw", fast)
	parts := strings.Split(good, "$")
	for name, bad := range map[string]string{
		"Empty":         "",
		"Bcrypt":        "$2a$10$abcdefghijklmnopqrstuv",
		"Argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"OtherVersion":  strings.Replace(good, "v=19", "v=16", 1),
		"HugeMemory":    strings.Replace(good, "m=64", "m=99999999", 1),
		"ZeroTime":      strings.Replace(good, "t=1", "t=0", 1),
		"BadSalt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"ShortKey":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"MissingFields": "$argon2id$v=19",
	} {
		t.Run(name, func(t *testing.T) {
			if ok, err := Verify(bad, "pw"); ok || err != ErrMalformed {
				t.Fatalf("Verify(%q) = %v, %v; want ErrMalformed", bad, ok, err)
			}
		})
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := Hash("pw", Default)
	for b.Loop() {
		Verify(h, "pw")
	}
}
