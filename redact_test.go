package tokend_test

import (
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

// TestErrorsNeverQuoteSecrets: a message that quotes the caller's input
// shows no tokend secret, whole or in part, in the caller's answer
// (ErrorMessage) or in the log (Error).
func TestErrorsNeverQuoteSecrets(t *testing.T) {
	secret := tokend.NewSecret(tokend.KindClientSecret)
	tests := []struct {
		name string
		err  error
		want string // what the message must still say
	}{
		{"Whole", tokend.Invalid("scope", "scope %q is not supported", secret), `scope "tks_…" is not supported`},
		{"Truncated", tokend.Invalid("grant_type", "unknown grant type %.40q", secret), `unknown grant type "tks_…"`},
		{"InAList", tokend.Invalid("scopes", "%q", []string{"read", secret}), `["read" "tks_…"]`},
		{"OKNoSecret", tokend.Invalid("subject", "subject %q is too long", "tka-not-a-secret"), `subject "tka-not-a-secret" is too long`},
		{"OKPrefixAlone", tokend.Errorf(tokend.EINVALID, "a tka_ value"), "a tka_ value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for where, text := range map[string]string{"ErrorMessage": tokend.ErrorMessage(tt.err), "Error": tt.err.Error()} {
				if strings.Contains(text, secret[4:12]) {
					t.Fatalf("%s shows the secret: %s", where, text)
				}
				if !strings.Contains(text, tt.want) {
					t.Fatalf("%s = %q, want it to say %q", where, text, tt.want)
				}
			}
		})
	}
}
