package faultstore

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/tokend/tokend"
)

// TestEveryMethodFails calls every method of tokend.Store with zero
// arguments on a Store in mode All whose inner store is nil: a method
// this package does not override would reach the nil store and panic,
// and every overridden one must answer EUNAVAILABLE wrapping ErrInjected.
func TestEveryMethodFails(t *testing.T) {
	s := New(nil)
	s.Set(All)
	v := reflect.ValueOf(s)
	st := reflect.TypeFor[tokend.Store]()
	for i := range st.NumMethod() {
		m := st.Method(i)
		t.Run(m.Name, func(t *testing.T) {
			fn := v.MethodByName(m.Name)
			args := make([]reflect.Value, fn.Type().NumIn())
			for j := range args {
				in := fn.Type().In(j)
				if in == reflect.TypeFor[context.Context]() {
					args[j] = reflect.ValueOf(context.Background())
				} else {
					args[j] = reflect.Zero(in)
				}
			}
			var out []reflect.Value
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s reached the inner store: it is not overridden (%v)", m.Name, p)
					}
				}()
				if fn.Type().IsVariadic() {
					out = fn.CallSlice(args)
				} else {
					out = fn.Call(args)
				}
			}()
			err, _ := out[len(out)-1].Interface().(error)
			if tokend.ErrorCode(err) != tokend.EUNAVAILABLE || !errors.Is(err, ErrInjected) {
				t.Fatalf("%s returned %v, want EUNAVAILABLE wrapping ErrInjected", m.Name, err)
			}
		})
	}
	if s.Failures() != int64(st.NumMethod()) {
		t.Fatalf("counted %d failures for %d calls", s.Failures(), st.NumMethod())
	}
}
