package tokend

import (
	"encoding/binary"
	"errors"
	"time"
)

// The introspection cache keeps tokens encoded: a cached *Token cost about
// 850 bytes with its strings, slices and map entry (the struct alone is
// 528), an encoded one about 390 (the encoding itself about 190). Decoding
// one on a cache hit takes about a microsecond, a thirtieth of the store
// look-up a miss costs, so the same memory holds twice the tokens, and a
// resource-server fleet's working set of live tokens fits. Every caller also gets a token of its
// own, which it may change without touching the cache.

var errTokenCodec = errors.New("tokend: a cached token's encoding is damaged")

func appendToken(b []byte, t *Token) []byte {
	b = binary.AppendVarint(b, t.ID)
	b = binary.AppendVarint(b, t.ServiceID)
	b = binary.AppendVarint(b, t.ClientID)
	b = appendStr(b, t.Subject)
	b = appendStr(b, string(t.GrantType))
	b = append(b, t.AccessHash[:]...)
	if t.RefreshHash.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = append(b, t.RefreshHash[:]...)
	}
	b = appendStrs(b, t.Scopes)
	b = appendStrs(b, t.RefreshScopes)
	for _, tm := range [...]time.Time{t.CreatedAt, t.AccessExpiresAt, t.RefreshExpiresAt, t.LastRefreshedAt, t.RevokedAt, t.AuthTime} {
		b = appendTime(b, tm)
	}
	b = appendStr(b, t.RevokedReason)
	if t.Properties == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(t.Properties))+1)
		for _, p := range t.Properties {
			b = appendStr(b, p.Key)
			b = appendStr(b, p.Value)
			b = appendBool(b, p.Hidden)
		}
	}
	b = appendStr(b, t.AccountID)
	b = appendStrs(b, t.Roles)
	b = appendStr(b, t.ACR)
	b = appendStr(b, t.SessionID)
	b = appendStrs(b, t.Resources)
	b = appendStr(b, t.CertThumbprint)
	b = appendStr(b, t.DPoPThumbprint)
	if t.AuthorizationDetails == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(t.AuthorizationDetails))+1)
		b = append(b, t.AuthorizationDetails...)
	}
	b = appendBool(b, t.Persistent)
	return binary.AppendVarint(b, t.GrantID)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendStrs keeps nil apart from empty: a nil RefreshScopes means "the
// same as Scopes", an empty one "none".
func appendStrs(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	// Seconds and nanoseconds, not UnixNano, which overflows past 2262:
	// a caller may set an expiry in 9999.
	b = binary.AppendVarint(append(b, 1), t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// tokenDecoder reads what appendToken wrote; the first error sticks.
type tokenDecoder struct {
	b   []byte
	err error
}

func decodeToken(b []byte) (*Token, error) {
	d := &tokenDecoder{b: b}
	t := &Token{}
	t.ID = d.varint()
	t.ServiceID = d.varint()
	t.ClientID = d.varint()
	t.Subject = d.str()
	t.GrantType = GrantType(d.str())
	d.hash(&t.AccessHash)
	if d.flag() {
		d.hash(&t.RefreshHash)
	}
	t.Scopes = d.strs()
	t.RefreshScopes = d.strs()
	for _, tm := range [...]*time.Time{&t.CreatedAt, &t.AccessExpiresAt, &t.RefreshExpiresAt, &t.LastRefreshedAt, &t.RevokedAt, &t.AuthTime} {
		*tm = d.time()
	}
	t.RevokedReason = d.str()
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n-1 > uint64(len(d.b)) {
			d.err = errTokenCodec
		} else {
			t.Properties = make([]Property, n-1)
			for i := range t.Properties {
				t.Properties[i] = Property{Key: d.str(), Value: d.str(), Hidden: d.flag()}
			}
		}
	}
	t.AccountID = d.str()
	t.Roles = d.strs()
	t.ACR = d.str()
	t.SessionID = d.str()
	t.Resources = d.strs()
	t.CertThumbprint = d.str()
	t.DPoPThumbprint = d.str()
	if n := d.uvarint(); n > 0 {
		t.AuthorizationDetails = append([]byte{}, d.take(int(n-1))...)
	}
	t.Persistent = d.flag()
	t.GrantID = d.varint()
	if d.err == nil && len(d.b) != 0 {
		d.err = errTokenCodec
	}
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}

func (d *tokenDecoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.err = errTokenCodec
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *tokenDecoder) byte() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

// flag reads a byte that must be 0 or 1.
func (d *tokenDecoder) flag() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.err = errTokenCodec
	return false
}

func (d *tokenDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTokenCodec
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *tokenDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTokenCodec
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *tokenDecoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errTokenCodec
		return ""
	}
	return string(d.take(int(n)))
}

func (d *tokenDecoder) strs() []string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	if n-1 > uint64(len(d.b)) { // each string takes at least a byte
		d.err = errTokenCodec
		return nil
	}
	out := make([]string, n-1)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *tokenDecoder) hash(h *Hash) {
	copy(h[:], d.take(len(h)))
}

func (d *tokenDecoder) time() time.Time {
	if !d.flag() {
		return time.Time{}
	}
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 {
		d.err = errTokenCodec
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
