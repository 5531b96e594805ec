package main

import (
	"net/http"
	"reflect"
	"sort"
)

// muxPatterns lists the patterns registered with mux. ServeMux has no
// method for that, so this walks its routing tree by reflection and
// collects every net/http.pattern's source string. It depends only on that
// type keeping a string field named "str": the drift test fails loudly
// (no patterns) should a Go release change it.
func muxPatterns(mux *http.ServeMux) []string {
	seen := map[uintptr]bool{}
	out := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			walk(v.Elem())
		case reflect.Interface:
			// Handlers: not the mux's own structure.
		case reflect.Struct:
			if v.Type().PkgPath() == "net/http" && v.Type().Name() == "pattern" {
				if f := v.FieldByName("str"); f.IsValid() && f.Kind() == reflect.String {
					out[f.String()] = true
				}
			}
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Value())
			}
		}
	}
	walk(reflect.ValueOf(mux))
	list := make([]string, 0, len(out))
	for p := range out {
		list = append(list, p)
	}
	sort.Strings(list)
	return list
}
