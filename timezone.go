package tokend

import (
	"sync"
	"time"
	// The zone database is built in so that a zone name validates, and a
	// date renders, the same on every machine, with or without tzdata.
	_ "time/tzdata"
)

// MaxTimeZoneLen bounds a zone name; the longest IANA names have ~30 characters.
const MaxTimeZoneLen = 64

// locations caches loaded zones: time.LoadLocation reads and parses the
// zone database on every call.
var locations sync.Map // name → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// validTimeZone checks an IANA zone name. "" (UTC) is valid; "Local" is
// not, since it would mean whatever zone the server happens to run in.
func validTimeZone(field, name string) error {
	if name == "" {
		return nil
	}
	if len(name) > MaxTimeZoneLen || name == "Local" {
		return Invalid(field, "must be an IANA time zone name such as Europe/Berlin, or \"\" for UTC")
	}
	if _, err := loadLocation(name); err != nil {
		return Invalid(field, "%.64q is not an IANA time zone name (such as Europe/Berlin or UTC)", name)
	}
	return nil
}

// Location is the zone the service's local dates are shown in: its
// TimeZone, or UTC when it has none.
func (s *Service) Location() *time.Location {
	if s.TimeZone == "" {
		return time.UTC
	}
	loc, err := loadLocation(s.TimeZone)
	if err != nil {
		// Only validated names are stored; should one stop loading (a zone
		// removed from a later database), UTC beats failing every request.
		return time.UTC
	}
	return loc
}

// LocationName is the zone's name as dialects print it: "UTC" when the
// service has none.
func (s *Service) LocationName() string {
	if s.TimeZone == "" {
		return "UTC"
	}
	return s.Location().String()
}
