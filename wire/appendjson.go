package wire

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Token lists are the management API's largest answers (up to 500 tokens
// a page) and encoding/json spent a quarter of a list request's CPU on
// them, most of it in time.Time's MarshalJSON and the re-compacting of
// its output. AppendJSON writes the same bytes directly; a test holds it
// byte for byte to encoding/json's output, so the two cannot drift.

// AppendJSON appends the list as encoding/json would encode it.
func (l TokenList) AppendJSON(b []byte) []byte {
	b = append(b, `{"tokens":`...)
	if l.Tokens == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range l.Tokens {
			if i > 0 {
				b = append(b, ',')
			}
			b = l.Tokens[i].AppendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"total_count":`...)
	b = strconv.AppendInt(b, int64(l.TotalCount), 10)
	if l.NextPageToken != "" {
		b = append(b, `,"next_page_token":`...)
		b = appendString(b, l.NextPageToken)
	}
	return append(b, '}')
}

// AppendJSON appends the token as encoding/json would encode it.
func (t Token) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, t.ID, 10)
	b = append(b, `,"service_id":`...)
	b = strconv.AppendInt(b, t.ServiceID, 10)
	b = append(b, `,"client":`...)
	b = strconv.AppendInt(b, t.Client, 10)
	b = appendOptString(b, `,"subject":`, t.Subject)
	b = append(b, `,"grant_type":`...)
	b = appendString(b, t.GrantType)
	b = append(b, `,"status":`...)
	b = appendString(b, t.Status)
	b = append(b, `,"access_token_hash":`...)
	b = appendString(b, t.AccessTokenHash)
	b = appendOptString(b, `,"refresh_token_hash":`, t.RefreshTokenHash)
	b = appendOptString(b, `,"access_token":`, t.AccessToken)
	b = appendOptString(b, `,"refresh_token":`, t.RefreshToken)
	b = append(b, `,"token_type":`...)
	b = appendString(b, t.TokenType)
	b = append(b, `,"scopes":`...)
	b = appendStrings(b, t.Scopes)
	if len(t.RefreshScopes) > 0 {
		b = append(b, `,"refresh_scopes":`...)
		b = appendStrings(b, t.RefreshScopes)
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, t.CreatedAt)
	b = append(b, `,"expires_at":`...)
	if t.ExpiresAt == nil {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, *t.ExpiresAt)
	}
	if t.ExpiresIn != nil {
		b = append(b, `,"expires_in":`...)
		b = strconv.AppendInt(b, *t.ExpiresIn, 10)
	}
	b = appendOptTime(b, `,"refresh_token_expires_at":`, t.RefreshTokenExpiresAt)
	b = appendOptTime(b, `,"last_refreshed_at":`, t.LastRefreshedAt)
	b = appendOptTime(b, `,"revoked_at":`, t.RevokedAt)
	b = appendOptString(b, `,"revoked_reason":`, t.RevokedReason)
	b = append(b, `,"persistent":`...)
	b = strconv.AppendBool(b, t.Persistent)
	if len(t.Properties) > 0 {
		b = append(b, `,"properties":[`...)
		for i, p := range t.Properties {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = appendString(b, p.Key)
			b = append(b, `,"value":`...)
			b = appendString(b, p.Value)
			if p.Hidden {
				b = append(b, `,"hidden":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendOptString(b, `,"account_id":`, t.AccountID)
	if len(t.Roles) > 0 {
		b = append(b, `,"roles":`...)
		b = appendStrings(b, t.Roles)
	}
	b = appendOptTime(b, `,"auth_time":`, t.AuthTime)
	b = appendOptString(b, `,"acr":`, t.ACR)
	b = appendOptString(b, `,"session_id":`, t.SessionID)
	if len(t.Resources) > 0 {
		b = append(b, `,"resources":`...)
		b = appendStrings(b, t.Resources)
	}
	b = appendOptString(b, `,"certificate_thumbprint":`, t.CertThumbprint)
	b = appendOptString(b, `,"dpop_key_thumbprint":`, t.DPoPKeyThumbprint)
	if len(t.AuthorizationDetails) > 0 {
		// Rare, and encoding/json compacts and HTML-escapes raw JSON:
		// let it, rather than repeat that here.
		raw, err := json.Marshal(t.AuthorizationDetails)
		if err != nil {
			raw = []byte("null") // the store only holds JSON that parsed
		}
		b = append(b, `,"authorization_details":`...)
		b = append(b, raw...)
	}
	b = append(b, `,"grant_id":`...)
	b = strconv.AppendInt(b, t.GrantID, 10)
	return append(b, '}')
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendOptTime(b []byte, key string, t *time.Time) []byte {
	if t == nil {
		return b
	}
	return appendTime(append(b, key...), *t)
}

// appendTime is time.Time's MarshalJSON: RFC 3339 with as many fractional
// digits as needed.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with its default HTML
// escaping: <, > and & as \u00XX, invalid UTF-8 as \ufffd, and U+2028 and
// U+2029, which JavaScript takes for line ends, escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
