package httpx

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

func TestReadForm(t *testing.T) {
	const formType = "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name, url, ctype, body string
		field                  string // the refusal's field; "" for success
		want                   map[string]string
	}{
		{"OK", "/t", formType, "grant_type=client_credentials&scope=&x=1", "", map[string]string{"grant_type": "client_credentials", "x": "1"}},
		{"OKCharset", "/t", formType + "; charset=UTF-8", "a=%C3%A9", "", map[string]string{"a": "é"}},
		{"ErrQuery", "/t?client_secret=s", formType, "a=1", "query", nil},
		{"ErrContentType", "/t", "application/json", `{"a":1}`, "Content-Type", nil},
		{"ErrNoContentType", "/t", "", "a=1", "Content-Type", nil},
		{"ErrRepeated", "/t", formType, "a=1&a=2", "body", nil},
		{"ErrEncoding", "/t", formType, "a=%zz", "body", nil},
		{"ErrTooLarge", "/t", formType, "a=" + strings.Repeat("x", MaxFormBytes), "body", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.url, strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			got, err := ReadForm(httptest.NewRecorder(), r)
			if tt.field != "" {
				var e *tokend.Error
				if !errors.As(err, &e) || e.Code != tokend.EINVALID || e.Field != tt.field {
					t.Fatalf("err = %v, want EINVALID on %q", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
