package main

import "testing"

func TestManageServicesTimeZone(t *testing.T) {
	f := newFakeAPI(t)
	code, _, errOut := cli(f.env(), "", "services", "update", "3", "--time-zone", "Europe/Berlin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := apiCall{"PATCH", "/v1/services/3", "Bearer mk_test", `{"time_zone":"Europe/Berlin"}`}
	if got := f.recorded()[0]; got != want {
		t.Fatalf("call:\n got %+v\nwant %+v", got, want)
	}
	code, _, errOut = cli(f.env(), "", "services", "update", "3", "--time-zone", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want.Body = `{"time_zone":""}`
	if got := f.recorded()[1]; got != want {
		t.Fatalf("reset call:\n got %+v\nwant %+v", got, want)
	}
}
