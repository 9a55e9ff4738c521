package media

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// photo returns a w×h JPEG that compresses like a photograph taken in poor light:
// smooth gradients under per-pixel noise of the given amplitude.
func photo(tb testing.TB, w, h, noise, quality int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := func(base int) uint8 {
				return uint8(min(max(base+rng.IntN(2*noise+1)-noise, 0), 255))
			}
			m.SetRGBA(x, y, color.RGBA{n(255 * x / w), n(255 * y / h), n(255 * (x + y) / (w + h)), 255})
		}
	}
	return encodeJPEG(tb, m, quality)
}

// heapSampler records the largest heap size (live and not yet collected
// objects) seen while it runs, polling runtime/metrics, which does not stop the
// world.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	s.done.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			s.peak = max(s.peak, sample[0].Value.Uint64())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	})
	return s
}

// Stop stops s and returns the peak it saw.
func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// BenchmarkIntake10MBPhoto takes in a 4000×3000 photo-like JPEG of just under
// 10 MB. Besides time and allocations it reports peak-heap-MB, the most heap
// (live plus garbage not yet collected, with the default GOGC) seen above the
// heap before the loop, and alloc-MB/op.
func BenchmarkIntake10MBPhoto(b *testing.B) {
	data := photo(b, 4000, 3000, 52, 95)
	if len(data) > 10<<20 || len(data) < 8<<20 {
		b.Fatalf("the photo is %d bytes; want 8 to 10 MB", len(data))
	}
	b.Logf("photo: 4000×3000, %.2f MB", float64(len(data))/(1<<20))
	p := NewProcessor(DefaultLimits(), 1)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := startHeapSampler()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		img, err := p.Intake(context.Background(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if img.Width != 512 || img.Height != 384 {
			b.Fatalf("output is %d×%d", img.Width, img.Height)
		}
		n++
	}
	peak := sampler.Stop()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(peak-min(peak, before.HeapAlloc))/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n)/(1<<20), "alloc-MB/op")
}
