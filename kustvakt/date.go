package kustvakt

import (
	"fmt"
	"strings"
	"time"
)

// javaZoned renders t as Java's ZonedDateTime.toString() does, which is how
// Kustvakt writes dates: ISO local date-time, offset, zone in brackets, as
// in 2019-11-21T10:58:44.277+01:00[Europe/Berlin]. Java leaves out zero
// seconds and fractions (10:58 when both are zero, 10:58:44 without a
// fraction), writes fractions in groups of three digits, writes a zero
// offset as Z and an offset with seconds as +hh:mm:ss.
func javaZoned(t time.Time, loc *time.Location, zone string) string {
	t = t.In(loc)
	var b strings.Builder
	fmt.Fprintf(&b, "%04d-%02d-%02dT%02d:%02d", t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute())
	if sec, ns := t.Second(), t.Nanosecond(); sec != 0 || ns != 0 {
		fmt.Fprintf(&b, ":%02d", sec)
		switch {
		case ns == 0:
		case ns%1_000_000 == 0:
			fmt.Fprintf(&b, ".%03d", ns/1_000_000)
		case ns%1_000 == 0:
			fmt.Fprintf(&b, ".%06d", ns/1_000)
		default:
			fmt.Fprintf(&b, ".%09d", ns)
		}
	}
	_, offset := t.Zone()
	switch {
	case offset == 0:
		b.WriteString("Z")
	default:
		sign := '+'
		if offset < 0 {
			sign, offset = '-', -offset
		}
		fmt.Fprintf(&b, "%c%02d:%02d", sign, offset/3600, offset/60%60)
		if offset%60 != 0 {
			fmt.Fprintf(&b, ":%02d", offset%60)
		}
	}
	b.WriteString("[" + zone + "]")
	return b.String()
}
