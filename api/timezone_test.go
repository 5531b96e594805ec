package api

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/tokend/tokend/wire"
)

func TestServiceTimeZone(t *testing.T) {
	e := MustEnv(t)
	s := MustService(t, e, e.root, wire.ServiceInput{Name: ptr("korap"), TimeZone: ptr("Europe/Berlin")})
	if s.TimeZone != "Europe/Berlin" {
		t.Fatalf("time_zone = %q", s.TimeZone)
	}
	path := "/v1/services/" + strconv.FormatInt(s.ID, 10)
	for _, bad := range []string{"Local", "Europe/Atlantis", "+01:00"} {
		e.MustError(t, "PATCH", path, e.root, wire.ServiceInput{TimeZone: ptr(bad)}, http.StatusBadRequest, "invalid", "time_zone")
	}
	e.MustError(t, "POST", "/v1/services", e.root, wire.ServiceInput{Name: ptr("x"), TimeZone: ptr("Mars/Base")}, http.StatusBadRequest, "invalid", "time_zone")
	var got wire.Service
	e.MustDo(t, "GET", path, e.root, nil, http.StatusOK, &got)
	if got.TimeZone != "Europe/Berlin" {
		t.Fatalf("a refused update changed the zone to %q", got.TimeZone)
	}
	e.MustDo(t, "PATCH", path, e.root, wire.ServiceInput{TimeZone: ptr("")}, http.StatusOK, &got)
	if got.TimeZone != "" {
		t.Fatalf("time_zone after reset = %q, want \"\" (UTC)", got.TimeZone)
	}
}
