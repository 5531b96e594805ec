package migrate

import (
	"testing"
	"testing/fstest"
)

func TestList(t *testing.T) {
	ms, err := List(fstest.MapFS{
		"m/0010_b.sql": {}, "m/0002_a.sql": {}, "m/0001_init.sql": {},
	}, "m", "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[0].Version != 1 || ms[1].Name != "0002_a.sql" || ms[2].Version != 10 {
		t.Fatalf("got %+v, want versions 1, 2, 10 in order", ms)
	}
	for name, files := range map[string]fstest.MapFS{
		"ErrName":      {"m/init.sql": {}},
		"ErrZero":      {"m/0000_x.sql": {}},
		"ErrDuplicate": {"m/0001_a.sql": {}, "m/001_b.sql": {}},
	} {
		if _, err := List(files, "m", "test"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
