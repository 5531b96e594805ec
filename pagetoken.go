package tokend

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// A page token is the keyset position after a page, tagged with the order it
// belongs to and a checksum so that a damaged or hand-edited token is
// reported instead of silently listing from a wrong place. Its layout
// (version, order key, direction, value, id, CRC-32) is private to the core.

const pageTokenVersion = 1

var orderCodes = map[OrderKey]byte{OrderCreatedAt: 1, OrderExpiresAt: 2, OrderLastRefreshedAt: 3}

func encodePageToken(k OrderKey, desc bool, c Cursor) string {
	buf := make([]byte, 0, 3+2*binary.MaxVarintLen64+4)
	dir := byte(0)
	if desc {
		dir = 1
	}
	buf = append(buf, pageTokenVersion, orderCodes[k], dir)
	buf = binary.AppendVarint(buf, c.Value)
	buf = binary.AppendVarint(buf, c.ID)
	buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	return base64.RawURLEncoding.EncodeToString(buf)
}

func decodePageToken(s string, k OrderKey, desc bool) (*Cursor, error) {
	malformed := Invalid("page_token", "is malformed: pass back next_page_token unchanged")
	buf, err := base64.RawURLEncoding.DecodeString(s)
	// One spelling per token: the decoder would also take stray line
	// breaks and non-zero padding bits.
	if err != nil || base64.RawURLEncoding.EncodeToString(buf) != s || len(buf) < 3+2+4 {
		return nil, malformed
	}
	body, sum := buf[:len(buf)-4], binary.BigEndian.Uint32(buf[len(buf)-4:])
	if crc32.ChecksumIEEE(body) != sum || body[0] != pageTokenVersion {
		return nil, malformed
	}
	dir := byte(0)
	if desc {
		dir = 1
	}
	if body[1] != orderCodes[k] || body[2] != dir {
		return nil, Invalid("page_token", "belongs to another order: keep order_by and order the same while paging")
	}
	rest := body[3:]
	value, n := binary.Varint(rest)
	if n <= 0 {
		return nil, malformed
	}
	id, m := binary.Varint(rest[n:])
	if m <= 0 || n+m != len(rest) || id <= 0 {
		return nil, malformed
	}
	return &Cursor{Value: value, ID: id}, nil
}
