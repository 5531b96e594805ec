// Package bench is the load generator behind `tokend bench`: a fixed number
// of keep-alive connections, each driven by one worker, send one scenario's
// requests until a deadline; latencies go into fixed-memory histograms
// merged at the end; results print as an aligned table or JSON.
//
// It knows nothing of tokend: a scenario is a function that builds requests
// (and, for stateful ones such as refresh rotation, reads the answers).
package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits linear buckets, so a recorded value is known to within
// 1/2^subBits (0.8%) of itself. Values below 2^subBits ns are exact.
const (
	subBits    = 7
	subCount   = 1 << subBits
	numBuckets = (64-subBits-1)*subCount + 2*subCount
)

// Histogram records durations in log-linear buckets: constant memory
// (about 58 KiB) whatever the number of samples, so a worker can record
// millions of requests without allocating, and histograms merge by adding
// counts. The zero value is ready to use; it is not safe for concurrent
// use (each worker owns one).
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    float64 // ns; float so it cannot overflow
	min    int64
	max    int64
}

// bucketOf maps v ≥ 0 to its bucket: values below 2*subCount are their own
// bucket; above, the top subBits+1 bits of v select it within its power of two.
func bucketOf(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return shift*subCount + int(v>>uint(shift))
}

// bucketBounds returns the smallest value of bucket i and its width.
func bucketBounds(i int) (low, width uint64) {
	if i < 2*subCount {
		return uint64(i), 1
	}
	shift := i/subCount - 1
	m := uint64(i - shift*subCount)
	return m << uint(shift), 1 << uint(shift)
}

// Record adds one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest sample, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min is the smallest sample, exactly.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean is the average sample.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank rule:
// the middle of the bucket holding the ⌈q·n⌉-th smallest sample, clamped to
// the exact minimum and maximum. Its error is at most half a bucket, under
// 0.4% of the true value.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketBounds(i)
			v := int64(low + width/2)
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max) // unreachable: the counts add up to n
}
