package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Every value falls in the bucket whose bounds contain it, and buckets
	// are contiguous: the next bucket starts where this one ends.
	prevEnd := uint64(0)
	for i := range numBuckets - 1 {
		low, width := bucketBounds(i)
		if low != prevEnd {
			t.Fatalf("bucket %d starts at %d, want %d", i, low, prevEnd)
		}
		for _, v := range []uint64{low, low + width - 1} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		if i >= 2*subCount && float64(width)/float64(low) > 1.0/subCount {
			t.Fatalf("bucket %d: width %d over low %d exceeds 1/%d", i, width, low, subCount)
		}
		prevEnd = low + width
	}
	if got := bucketOf(math.MaxInt64); got >= numBuckets {
		t.Fatalf("bucketOf(MaxInt64) = %d, out of %d buckets", got, numBuckets)
	}
}

func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func TestQuantilesWithinBucketError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		"uniform µs":  func() time.Duration { return time.Duration(r.Int64N(1_000_000)) },
		"lognormal":   func() time.Duration { return time.Duration(math.Exp(r.NormFloat64()*1.5 + 12)) },
		"bimodal":     func() time.Duration { return time.Duration(200_000 + r.Int64N(1000) + int64(r.IntN(50)/49)*50_000_000) },
		"tiny values": func() time.Duration { return time.Duration(r.Int64N(300)) },
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			var h Histogram
			samples := make([]time.Duration, 100_000)
			for i := range samples {
				samples[i] = gen()
				h.Record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.99, 0.999, 1} {
				want := exactQuantile(samples, q)
				got := h.Quantile(q)
				// Half a bucket is at most 1/(2·subCount) of the value,
				// and values below 2·subCount ns are exact.
				tol := float64(want) / (2 * subCount)
				if math.Abs(float64(got-want)) > tol+0.5 {
					t.Errorf("q%.3f = %v, exact %v (tolerance %.1fns)", q, got, want, tol)
				}
			}
			if h.Max() != samples[len(samples)-1] || h.Min() != samples[0] {
				t.Errorf("min/max = %v/%v, want %v/%v", h.Min(), h.Max(), samples[0], samples[len(samples)-1])
			}
			if h.Count() != uint64(len(samples)) {
				t.Errorf("count = %d", h.Count())
			}
		})
	}
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	var a, b, all Histogram
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 10_000 {
		d := time.Duration(r.Int64N(int64(time.Second)))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{}) // an empty one changes nothing
	if m.counts != all.counts || m.n != all.n || m.min != all.min || m.max != all.max {
		t.Fatal("merged histogram differs from one that recorded every sample")
	}
	if m.Quantile(0.99) != all.Quantile(0.99) {
		t.Fatal("quantiles differ")
	}
}

func TestEmptyAndNegative(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	h.Record(-5)
	if h.Quantile(0.5) != 0 || h.Count() != 1 {
		t.Fatalf("a negative duration should count as zero: q50 %v", h.Quantile(0.5))
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 850: "850ns", 412_300: "412µs", 1_274_000: "1.27ms", 12_340_000: "12.3ms", 2_050_000_000: "2.05s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Bytes(50_423_000); got != "48.1 MiB" {
		t.Errorf("Bytes = %q", got)
	}
}
