// Package media takes in the images users upload — profile pictures and enterprise
// logos — through one pipeline. The body is bounded before it is parsed, the format
// is sniffed from its magic bytes (never from a file name or a Content-Type), the
// dimensions are read from the header and bounded before anything is decoded, and
// the image is decoded, scaled to fit a box and re-encoded, so that no metadata,
// comment or trailing byte of the upload survives.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strconv"

	"github.com/atrium-console/atrium"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Default limits; see DefaultLimits.
const (
	defaultMaxBytes = 10 << 20

	// defaultMaxPixels is 40 megapixels. A 10 MB JPEG of photographic content at
	// camera quality spends about 2 bits per pixel, that is about 40 megapixels:
	// the bound takes the photos of current phones (12 MP) and cameras (24–36 MP,
	// 7000×5000 and the like), while an image beyond it that still fits in 10 MB
	// is unnaturally compressible — a decompression bomb. By the decoders' pixel
	// layouts, decoding 40 megapixels takes 60 MB for a baseline JPEG (1.5 bytes a
	// pixel), 160 MB for an 8-bit RGBA PNG and 320 MB for a 16-bit one; a
	// progressive JPEG also keeps 4 bytes of DCT coefficient per sample, 300 MB in
	// all at 4:2:0 and up to 800 MB for CMYK. Scaling adds at most 50 MB (see
	// scale), the upload 10 MB. The Processor's concurrency bound multiplies these
	// figures: keep it small.
	defaultMaxPixels = 40_000_000

	// defaultMaxSide bounds either side: no camera makes a wider or taller photo,
	// and with the pixel bound alone a strip of 1×40000000 would pass.
	defaultMaxSide = 20000

	defaultBox = 512

	// jpegQuality is the quality of re-encoded opaque images: at 512×512 it gives
	// files of 30–80 KB without visible artefacts.
	jpegQuality = 85
)

// Limits bounds what Intake accepts and what it produces.
type Limits struct {
	MaxBytes  int64 // the most bytes an upload may have; past this it is refused before anything more is read
	MaxPixels int64 // the most pixels (width×height, from the header) an image may have
	MaxSide   int   // the most pixels either side may have
	Box       int   // the output fits in Box×Box, its aspect ratio kept; it is never upscaled
}

// DefaultLimits returns the limits of profile pictures and enterprise logos:
// 10 MB, 40 megapixels, 20000 pixels a side, scaled to fit 512×512.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:  defaultMaxBytes,
		MaxPixels: defaultMaxPixels,
		MaxSide:   defaultMaxSide,
		Box:       defaultBox,
	}
}

// Image is an uploaded image after intake: re-encoded from its pixels alone, so
// it carries no metadata, comment or trailing byte of the upload.
type Image struct {
	Data          []byte // the encoded image
	ContentType   string // "image/png" when the source had any transparency, else "image/jpeg"
	Width, Height int    // the dimensions of Data, within Limits.Box
	Hash          string // the hex SHA-256 of Data, its content address
}

// A Processor takes in uploaded images within its limits. It bounds how many images
// it decodes at once, since decoding and scaling are what cost memory and CPU: a
// 10 MB, 12-megapixel JPEG photo takes about half a second of one core and 100 MB
// of heap at the peak. Reading the upload and checking its header happen before
// a decoding slot is taken, so a slow client does not hold one. A Processor is
// safe for concurrent use.
type Processor struct {
	limits Limits
	sem    chan struct{} // one token per decode in progress
}

// NewProcessor returns a Processor with limits l that decodes at most
// maxConcurrent images at once. A zero or negative field of l takes its value
// from DefaultLimits, and a maxConcurrent below 1 is taken as 1.
func NewProcessor(l Limits, maxConcurrent int) *Processor {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = d.MaxSide
	}
	if l.Box <= 0 {
		l.Box = d.Box
	}
	return &Processor{limits: l, sem: make(chan struct{}, max(maxConcurrent, 1))}
}

// Limits returns the limits of p.
func (p *Processor) Limits() Limits { return p.limits }

// Intake reads an upload from r and returns it re-encoded: scaled to fit
// Limits.Box×Limits.Box with its aspect ratio kept (never upscaled), as a PNG when
// it has any transparency and as a JPEG otherwise.
//
// The error has code atrium.ETooLarge if r holds more than Limits.MaxBytes (r is
// read no further than one byte past the limit), and atrium.EUnsupportedImage if
// the bytes are not a JPEG, PNG, GIF or WebP image (the format is sniffed from the
// magic bytes alone), if the header gives dimensions beyond Limits.MaxSide or
// Limits.MaxPixels (refused before decoding), or if the image cannot be decoded.
// An error reading r is returned wrapped, so that a caller can recognise it (an
// *http.MaxBytesError, say). If ctx is done before decoding starts (Intake may
// wait for a decoding slot) or once it ends, the error is ctx.Err().
func (p *Processor) Intake(ctx context.Context, r io.Reader) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, p.limits.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: reading the upload: %w", err)
	}
	if int64(len(data)) > p.limits.MaxBytes {
		return nil, atrium.Errorf(atrium.ETooLarge, "The image is larger than %s.", formatBytes(p.limits.MaxBytes))
	}
	f := sniff(data)
	if f == unknown {
		if len(data) == 0 {
			return nil, atrium.Errorf(atrium.EUnsupportedImage, "The upload is empty. Upload a JPEG, PNG, GIF or WebP image.")
		}
		return nil, atrium.Errorf(atrium.EUnsupportedImage, "Upload a JPEG, PNG, GIF or WebP image.")
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return nil, errDamaged(f)
	}
	if err := p.checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}

	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	src, err := decode(f, data)
	if err != nil {
		return nil, errDamaged(f)
	}
	// The decoded bounds are within the header's (a GIF frame lies within its
	// logical screen), but check again rather than trust every decoder.
	b := src.Bounds()
	if err := p.checkSize(b.Dx(), b.Dy()); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return encode(scale(src, p.limits.Box), isOpaque(src))
}

// acquire takes a decoding slot, waiting for one until ctx ends.
func (p *Processor) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives back a slot taken by acquire.
func (p *Processor) release() { <-p.sem }

// checkSize refuses dimensions that are empty or beyond p's limits.
func (p *Processor) checkSize(w, h int) error {
	switch {
	case w <= 0 || h <= 0:
		return atrium.Errorf(atrium.EUnsupportedImage, "The image has no pixels. Upload a JPEG, PNG, GIF or WebP image.")
	case w > p.limits.MaxSide || h > p.limits.MaxSide:
		return atrium.Errorf(atrium.EUnsupportedImage, "The image is %d×%d pixels; the most is %d pixels on each side.", w, h, p.limits.MaxSide)
	case int64(w)*int64(h) > p.limits.MaxPixels: // no overflow: both sides are at most MaxSide, an int
		return atrium.Errorf(atrium.EUnsupportedImage, "The image is %d×%d pixels; the most is %s in all.", w, h, formatPixels(p.limits.MaxPixels))
	}
	return nil
}

// format is an accepted image format.
type format int

const (
	unknown format = iota
	formatJPEG
	formatPNG
	formatGIF
	formatWebP
)

func (f format) String() string {
	switch f {
	case formatJPEG:
		return "JPEG"
	case formatPNG:
		return "PNG"
	case formatGIF:
		return "GIF"
	case formatWebP:
		return "WebP"
	}
	return "unknown"
}

// sniff returns the format whose magic bytes b starts with, or unknown.
func sniff(b []byte) format {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return unknown
}

// decodeConfig reads the header of data in format f with that format's own
// decoder, whatever decoders are registered with package image.
func decodeConfig(f format, data []byte) (cfg image.Config, err error) {
	defer recoverDecoder(&err)
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	case formatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("media: no decoder for format %v", f)
}

// decode decodes data in format f. Of an animated GIF it keeps the first frame
// (gif.Decode stops there); an animated WebP is refused by the webp decoder.
func decode(f format, data []byte) (m image.Image, err error) {
	defer recoverDecoder(&err)
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		return jpeg.Decode(r)
	case formatPNG:
		return png.Decode(r)
	case formatGIF:
		return gif.Decode(r)
	case formatWebP:
		return webp.Decode(r)
	}
	return nil, fmt.Errorf("media: no decoder for format %v", f)
}

// recoverDecoder turns a panic of a decoder into an error in *err: the decoders
// are fed hostile bytes, and a bug in one must refuse the upload, not crash the
// server.
func recoverDecoder(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("media: decoder panic: %v", r)
	}
}

// errDamaged is the error for bytes of format f that the decoder refuses.
func errDamaged(f format) error {
	return atrium.Errorf(atrium.EUnsupportedImage, "The %v image cannot be read; it may be damaged. Upload a JPEG, PNG, GIF or WebP image.", f)
}

// isOpaque reports whether every pixel of m is fully opaque. An image type that
// cannot tell is taken as having transparency.
func isOpaque(m image.Image) bool {
	o, ok := m.(interface{ Opaque() bool })
	return ok && o.Opaque()
}

// fit returns the dimensions of a w×h image scaled to fit box×box with its aspect
// ratio kept, never larger than w×h.
func fit(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, int((int64(h)*int64(box)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(box)+int64(h)/2)/int64(h))), box
}

// reducingGap is how much downscaling scale leaves at least to Catmull-Rom after
// its integer reduction (at most 1.5 times as much).
const reducingGap = 2

// scale returns src scaled to fit box×box as an *image.RGBA at the origin.
//
// It scales in two steps, as libvips and Pillow (its reducing_gap) do. When the
// image is at least 2×reducingGap times the output, it is first reduced by an
// integer factor k, each pixel the average of a k×k block: a box filter, in which
// every source pixel counts once, so detail and noise do not alias as they would
// with ApproxBiLinear, which samples 4 source pixels of the many under each output
// pixel. Catmull-Rom then takes what is left, a factor of 2 to 3, keeping edges
// sharp. Catmull-Rom over the whole ratio in one pass
// (x/image/draw widens its kernel to the ratio) looks the same but costs more:
// for a 4000×3000 photo, 400 ms and a 49 MB buffer of 32 bytes per output column
// and source row, against 200 ms and 5+16 MB for the two steps. With the
// reduction that buffer stays under 512×2048×32 bytes = 32 MB whatever the input.
func scale(src image.Image, box int) *image.RGBA {
	sr := src.Bounds()
	w, h := fit(sr.Dx(), sr.Dy(), box)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == sr.Dx() && h == sr.Dy() {
		draw.Draw(dst, dst.Bounds(), src, sr.Min, draw.Src)
		return dst
	}
	if k := min(sr.Dx()/w, sr.Dy()/h) / reducingGap; k >= 2 {
		src = reduce(src, k)
		sr = src.Bounds()
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, sr, draw.Src, nil)
	return dst
}

// reduce returns src shrunk k times in each direction: each pixel is the average,
// in premultiplied alpha, of a k×k block of src (of fewer pixels along the right
// and bottom edges when k does not divide the sides).
func reduce(src image.Image, k int) *image.RGBA {
	sr := src.Bounds()
	sw, sh := sr.Dx(), sr.Dy()
	dw, dh := (sw+k-1)/k, (sh+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	at := func(x, y int) color.RGBA64 {
		r, g, b, a := src.At(x, y).RGBA()
		return color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)}
	}
	if m, ok := src.(image.RGBA64Image); ok {
		at = m.RGBA64At
	}
	sum := make([]uint64, 4*dw) // premultiplied R, G, B, A sums of one row of blocks
	for dy := range dh {
		clear(sum)
		y0, y1 := sr.Min.Y+dy*k, sr.Min.Y+min((dy+1)*k, sh)
		for y := y0; y < y1; y++ {
			for sx := range sw {
				c := at(sr.Min.X+sx, y)
				s := sum[4*(sx/k) : 4*(sx/k)+4 : 4*(sx/k)+4]
				s[0] += uint64(c.R)
				s[1] += uint64(c.G)
				s[2] += uint64(c.B)
				s[3] += uint64(c.A)
			}
		}
		row := dst.Pix[dy*dst.Stride : dy*dst.Stride+4*dw]
		for dx := range dw {
			// n pixels of 16 bits each made the sums; the average, in 8 bits,
			// is sum / (n·257), rounded.
			n := uint64(y1-y0) * uint64(min((dx+1)*k, sw)-dx*k) * 257
			for i := range 4 {
				row[4*dx+i] = uint8((sum[4*dx+i] + n/2) / n)
			}
		}
	}
	return dst
}

// encode encodes m as a JPEG when opaque and as a PNG otherwise. Both encoders
// write pixels alone: no EXIF, ICC profile, text chunk or comment.
func encode(m *image.RGBA, opaque bool) (*Image, error) {
	var buf bytes.Buffer
	img := &Image{Width: m.Rect.Dx(), Height: m.Rect.Dy()}
	if opaque {
		img.ContentType = "image/jpeg"
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, fmt.Errorf("media: encoding JPEG: %w", err)
		}
	} else {
		img.ContentType = "image/png"
		if err := png.Encode(&buf, m); err != nil {
			return nil, fmt.Errorf("media: encoding PNG: %w", err)
		}
	}
	img.Data = buf.Bytes()
	sum := sha256.Sum256(img.Data)
	img.Hash = hex.EncodeToString(sum[:])
	return img, nil
}

// formatBytes formats n bytes for a message: "10 MB", "512 KB", "1000 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// formatPixels formats a pixel count for a message: "40 megapixels",
// "1.5 megapixels", "250000 pixels".
func formatPixels(n int64) string {
	if n < 1e6 {
		return strconv.FormatInt(n, 10) + " pixels"
	}
	return strconv.FormatFloat(math.Floor(float64(n)/1e5)/10, 'f', -1, 64) + " megapixels"
}
