//go:build race

package e2e

// raceEnabled builds the tokend binary with -race when the tests run with it.
const raceEnabled = true
