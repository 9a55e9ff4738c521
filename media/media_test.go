package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/atrium-console/atrium"
	"golang.org/x/image/webp"
)

// gradient returns a w×h image of smooth colour gradients, opaque unless alpha
// is set, in which case alpha also runs from fully transparent to opaque.
func gradient(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			a := uint8(255)
			if alpha {
				a = uint8(255 * x / max(w-1, 1))
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(255*x/max(w-1, 1)), uint8(255*y/max(h-1, 1)), 128, a
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed} // fast under -race
	if err := enc.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// paletted returns a w×h paletted image filled with colour index i of p.
func paletted(w, h int, p color.Palette, i uint8) *image.Paletted {
	m := image.NewPaletted(image.Rect(0, 0, w, h), p)
	for j := range m.Pix {
		m.Pix[j] = i
	}
	return m
}

func encodeGIF(t testing.TB, g *gif.GIF) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngChunk returns a PNG chunk of type typ with a correct CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngHeader returns a PNG signature and IHDR chunk (8-bit RGBA) claiming w×h,
// followed by a tiny IDAT and IEND: a header a decoder believes.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// insertPNGChunk inserts chunk right after the IHDR chunk of the PNG file b.
func insertPNGChunk(b, chunk []byte) []byte {
	const afterIHDR = 8 + 8 + 13 + 4
	return append(append(append([]byte(nil), b[:afterIHDR]...), chunk...), b[afterIHDR:]...)
}

// jpegSegment returns a JPEG marker segment.
func jpegSegment(marker byte, data []byte) []byte {
	b := []byte{0xFF, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)+2))
	return append(b, data...)
}

// jpegHeader returns a JPEG SOI, a baseline SOF claiming w×h with three
// components, and the start of a scan: enough for DecodeConfig.
func jpegHeader(w, h uint16) []byte {
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, h)
	sof = binary.BigEndian.AppendUint16(sof, w)
	sof = append(sof, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	b := append([]byte{0xFF, 0xD8}, jpegSegment(0xC0, sof)...)
	return append(b, jpegSegment(0xDA, []byte{3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0})...)
}

// gifHeader returns a GIF whose logical screen is w×h with one 1×1 frame.
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255) // global colour table of 2
	b = append(b, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0)    // image descriptor, 1×1
	b = append(b, 2, 2, 0x44, 0x01, 0)                // LZW data
	return append(b, 0x3B)
}

// webpHeader returns a WebP file with a VP8X chunk claiming w×h.
func webpHeader(w, h uint32) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	chunk := append([]byte("VP8X"), binary.LittleEndian.AppendUint32(nil, 10)...)
	chunk = append(chunk, vp8x...)
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	b = append(b, "WEBP"...)
	return append(b, chunk...)
}

// intake runs a Processor with the default limits on b.
func intake(b []byte) (*Image, error) {
	return NewProcessor(DefaultLimits(), 2).Intake(context.Background(), bytes.NewReader(b))
}

// decodeOutput decodes img.Data as its ContentType says, failing t if the bytes
// are of another format.
func decodeOutput(t *testing.T, img *Image) image.Image {
	t.Helper()
	var (
		m   image.Image
		err error
	)
	switch img.ContentType {
	case "image/jpeg":
		m, err = jpeg.Decode(bytes.NewReader(img.Data))
	case "image/png":
		m, err = png.Decode(bytes.NewReader(img.Data))
	default:
		t.Fatalf("ContentType = %q", img.ContentType)
	}
	if err != nil {
		t.Fatalf("decoding the %s output: %v", img.ContentType, err)
	}
	if b := m.Bounds(); b.Dx() != img.Width || b.Dy() != img.Height {
		t.Fatalf("output is %v, Image says %d×%d", b, img.Width, img.Height)
	}
	return m
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := atrium.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func TestIntakeAcceptsEveryFormat(t *testing.T) {
	twoColours := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	for _, tc := range []struct {
		name        string
		data        func(t *testing.T) []byte
		contentType string
		w, h        int
	}{
		{"PNG opaque", func(t *testing.T) []byte { return encodePNG(t, gradient(64, 48, false)) }, "image/jpeg", 64, 48},
		{"PNG with alpha", func(t *testing.T) []byte { return encodePNG(t, gradient(64, 48, true)) }, "image/png", 64, 48},
		{"PNG gray 16-bit", func(t *testing.T) []byte { return encodePNG(t, image.NewGray16(image.Rect(0, 0, 30, 20))) }, "image/jpeg", 30, 20},
		{"PNG paletted", func(t *testing.T) []byte { return encodePNG(t, paletted(10, 10, palette.Plan9, 7)) }, "image/jpeg", 10, 10},
		{"JPEG", func(t *testing.T) []byte { return encodeJPEG(t, gradient(64, 48, false), 90) }, "image/jpeg", 64, 48},
		{"JPEG gray", func(t *testing.T) []byte { return encodeJPEG(t, image.NewGray(image.Rect(0, 0, 20, 30)), 90) }, "image/jpeg", 20, 30},
		{"JPEG CMYK", func(t *testing.T) []byte { return encodeJPEG(t, image.NewCMYK(image.Rect(0, 0, 16, 16)), 90) }, "image/jpeg", 16, 16},
		{"GIF87a", func(t *testing.T) []byte {
			b := encodeGIF(t, &gif.GIF{Image: []*image.Paletted{paletted(40, 30, twoColours, 0)}, Delay: []int{0}})
			return append([]byte("GIF87a"), b[6:]...)
		}, "image/jpeg", 40, 30},
		{"GIF89a", func(t *testing.T) []byte {
			return encodeGIF(t, &gif.GIF{Image: []*image.Paletted{paletted(40, 30, twoColours, 0)}, Delay: []int{0}})
		}, "image/jpeg", 40, 30},
		{"GIF whose first frame is offset", func(t *testing.T) []byte {
			m := image.NewPaletted(image.Rect(10, 5, 30, 20), twoColours)
			return encodeGIF(t, &gif.GIF{
				Image:  []*image.Paletted{m},
				Delay:  []int{0},
				Config: image.Config{Width: 40, Height: 30, ColorModel: twoColours},
			})
		}, "image/jpeg", 20, 15},
		{"GIF with a transparent index", func(t *testing.T) []byte {
			p := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{}}
			m := paletted(40, 30, p, 0)
			m.Pix[0] = 1
			return encodeGIF(t, &gif.GIF{Image: []*image.Paletted{m}, Delay: []int{0}})
		}, "image/png", 40, 30},
		{"WebP lossy", func(t *testing.T) []byte { return readTestdata(t, "blue-purple-pink.lossy.webp") }, "image/jpeg", 0, 0},
		{"WebP lossy with alpha", func(t *testing.T) []byte { return readTestdata(t, "yellow_rose.lossy-with-alpha.webp") }, "image/png", 0, 0},
		{"WebP lossless", func(t *testing.T) []byte { return readTestdata(t, "gopher-doc.1bpp.lossless.webp") }, "image/jpeg", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data(t)
			img, err := intake(data)
			if err != nil {
				t.Fatalf("Intake: %v", err)
			}
			if img.ContentType != tc.contentType {
				t.Errorf("ContentType = %q, want %q", img.ContentType, tc.contentType)
			}
			w, h := tc.w, tc.h
			if w == 0 { // a WebP sample: its own dimensions, fitted to the box
				cfg, err := webp.DecodeConfig(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				w, h = fit(cfg.Width, cfg.Height, 512)
			}
			if img.Width != w || img.Height != h {
				t.Errorf("output is %d×%d, want %d×%d", img.Width, img.Height, w, h)
			}
			decodeOutput(t, img)
		})
	}
}

func TestIntakeKeepsTheFirstFrameOfAnAnimatedGIF(t *testing.T) {
	p := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	data := encodeGIF(t, &gif.GIF{
		Image: []*image.Paletted{paletted(20, 20, p, 0), paletted(20, 20, p, 1), paletted(20, 20, p, 1)},
		Delay: []int{10, 10, 10},
	})
	img, err := intake(data)
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := decodeOutput(t, img).At(10, 10).RGBA()
	if r>>8 < 200 || g>>8 > 50 || b>>8 > 50 {
		t.Errorf("centre pixel is %d,%d,%d; want the red of the first frame", r>>8, g>>8, b>>8)
	}
}

// countingReader supplies n bytes of a repeated byte and counts what is read.
type countingReader struct {
	n, read int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.read)]
	for i := range p {
		p[i] = 0xFF
	}
	r.read += int64(len(p))
	return len(p), nil
}

func TestIntakeRefusesMoreThanMaxBytesWithoutReadingOn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		supply int64
	}{
		{"one byte over", 10<<20 + 1},
		{"100 MB", 100 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{n: tc.supply}
			_, err := NewProcessor(DefaultLimits(), 1).Intake(context.Background(), r)
			wantCode(t, err, atrium.ETooLarge)
			if msg := atrium.ErrorMessage(err); msg != "The image is larger than 10 MB." {
				t.Errorf("message = %q", msg)
			}
			if r.read > 10<<20+1 {
				t.Errorf("read %d bytes; want at most %d", r.read, 10<<20+1)
			}
		})
	}
}

func TestIntakeAcceptsExactlyMaxBytes(t *testing.T) {
	const pad = "PADDING!"
	for _, tc := range []struct {
		name        string
		image       image.Image
		contentType string
		trailer     []byte // how the output must end
	}{
		{"opaque", gradient(100, 80, false), "image/jpeg", []byte{0xFF, 0xD9}},
		{"transparent", gradient(100, 80, true), "image/png", pngChunk("IEND", nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encodePNG(t, tc.image)
			data = append(data, bytes.Repeat([]byte(pad), (10<<20-len(data))/len(pad)+1)...)[:10<<20]
			img, err := intake(data)
			if err != nil {
				t.Fatalf("Intake of exactly 10 MB: %v", err)
			}
			if img.ContentType != tc.contentType {
				t.Errorf("ContentType = %q, want %q", img.ContentType, tc.contentType)
			}
			if bytes.Contains(img.Data, []byte(pad)) {
				t.Error("the output keeps the padding")
			}
			if !bytes.HasSuffix(img.Data, tc.trailer) {
				t.Errorf("the output ends with % x, want % x", img.Data[len(img.Data)-len(tc.trailer):], tc.trailer)
			}
		})
	}
}

func TestIntakeRefusesWhatIsNotAnImage(t *testing.T) {
	validPNG := encodePNG(t, gradient(8, 8, false))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"HTML", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")},
		{"HTML after spaces", []byte("   \n<html><script>alert(document.cookie)</script>")},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`)},
		{"SVG with XML declaration", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"PDF", []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")},
		{"BMP", append([]byte("BM"), make([]byte, 60)...)},
		{"TIFF little-endian", append([]byte("II*\x00"), make([]byte, 60)...)},
		{"TIFF big-endian", append([]byte("MM\x00*"), make([]byte, 60)...)},
		{"ICO", append([]byte{0, 0, 1, 0}, make([]byte, 60)...)},
		{"RIFF but not WebP", append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 40)...)},
		{"PNG signature alone", validPNG[:8]},
		{"PNG cut short", validPNG[:len(validPNG)/2]},
		{"PNG with a bad CRC", append(append(append([]byte(nil), validPNG[:29]...), 0, 0, 0, 0), validPNG[33:]...)},
		{"JPEG magic then HTML", []byte("\xFF\xD8\xFF<html><script>alert(1)</script></html>")},
		{"GIF magic then junk", []byte("GIF89a<script>alert(1)</script>")},
		{"WebP magic then junk", []byte("RIFF\x10\x00\x00\x00WEBPVP8 \x04\x00\x00\x00junk")},
		{"PNG with a zero width", pngHeader(0, 10)},
		{"GIF with an empty screen", gifHeader(0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := intake(tc.data)
			wantCode(t, err, atrium.EUnsupportedImage)
		})
	}
}

func TestIntakeRefusesOversizedHeadersBeforeDecoding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    []byte
		message string
	}{
		{"PNG 100000×100000", pngHeader(100000, 100000), "The image is 100000×100000 pixels; the most is 20000 pixels on each side."},
		{"PNG 2^31-1 wide", pngHeader(1<<31-1, 1), "The image is 2147483647×1 pixels; the most is 20000 pixels on each side."},
		{"PNG one pixel too wide", pngHeader(20001, 1), "The image is 20001×1 pixels; the most is 20000 pixels on each side."},
		{"PNG 48 megapixels", pngHeader(8000, 6000), "The image is 8000×6000 pixels; the most is 40 megapixels in all."},
		{"PNG 20000×20000", pngHeader(20000, 20000), "The image is 20000×20000 pixels; the most is 40 megapixels in all."},
		{"JPEG 65535×65535", jpegHeader(65535, 65535), "The image is 65535×65535 pixels; the most is 20000 pixels on each side."},
		{"JPEG 10000×5000", jpegHeader(10000, 5000), "The image is 10000×5000 pixels; the most is 40 megapixels in all."},
		{"GIF 65535×65535", gifHeader(65535, 65535), "The image is 65535×65535 pixels; the most is 20000 pixels on each side."},
		{"WebP 16384×16384", webpHeader(16384, 16384), "The image is 16384×16384 pixels; the most is 40 megapixels in all."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProcessor(DefaultLimits(), 1)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := p.Intake(context.Background(), bytes.NewReader(tc.data))
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			wantCode(t, err, atrium.EUnsupportedImage)
			if msg := atrium.ErrorMessage(err); msg != tc.message {
				t.Errorf("message = %q, want %q", msg, tc.message)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("allocated %d bytes to refuse it; want under 1 MB", alloc)
			}
			if elapsed > time.Second {
				t.Errorf("took %v to refuse it", elapsed)
			}
		})
	}
}

func TestIntakeRefusesOversizedHeadersWithLittleAllocation(t *testing.T) {
	p := NewProcessor(DefaultLimits(), 1)
	data := pngHeader(100000, 100000)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := p.Intake(context.Background(), bytes.NewReader(data)); err == nil {
			t.Fatal("accepted")
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations per refusal; want at most 20", allocs)
	}
}

func TestIntakeStripsMetadataAndTrailingBytes(t *testing.T) {
	secrets := []string{"GPS", "Exif", "48.8584", "secret comment", "<script", "alert(1)", "iCCP", "tEXt"}
	withJPEGMetadata := func(t *testing.T) []byte {
		b := encodeJPEG(t, gradient(64, 64, false), 90)
		exif := []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08GPSLatitude 48.8584 N GPSLongitude 2.2945 E")
		seg := append(jpegSegment(0xE1, exif), jpegSegment(0xFE, []byte("secret comment"))...)
		b = append(append(append([]byte(nil), b[:2]...), seg...), b[2:]...)
		return append(b, "<script>alert(1)</script>"...)
	}
	withPNGMetadata := func(t *testing.T, alpha bool) []byte {
		b := encodePNG(t, gradient(64, 64, alpha))
		b = insertPNGChunk(b, pngChunk("tEXt", []byte("Comment\x00secret comment GPS 48.8584")))
		b = insertPNGChunk(b, pngChunk("eXIf", []byte("MM\x00*\x00\x00\x00\x08GPS 48.8584")))
		return append(b, "<script>alert(1)</script>"...)
	}
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"JPEG with EXIF GPS, a comment and a trailing script", withJPEGMetadata},
		{"opaque PNG with text, EXIF and a trailing script", func(t *testing.T) []byte { return withPNGMetadata(t, false) }},
		{"transparent PNG with text, EXIF and a trailing script", func(t *testing.T) []byte { return withPNGMetadata(t, true) }},
		{"GIF with a comment and a trailing script", func(t *testing.T) []byte {
			b := encodeGIF(t, &gif.GIF{Image: []*image.Paletted{paletted(20, 20, palette.Plan9, 3)}, Delay: []int{0}})
			// A comment extension before the trailer, then a script after it.
			comment := append([]byte{0x21, 0xFE, 21}, "secret comment GPS 48"...)
			b = append(append(b[:len(b)-1], append(comment, 0)...), 0x3B)
			return append(b, "<script>alert(1)</script>"...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data(t)
			for _, s := range []string{"GPS", "<script"} {
				if !bytes.Contains(data, []byte(s)) {
					t.Fatalf("the input lacks %q", s)
				}
			}
			img, err := intake(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(img.Data, []byte(s)) {
					t.Errorf("the output contains %q", s)
				}
			}
			decodeOutput(t, img)
		})
	}
}

func TestIntakeScalesToFitTheBoxKeepingAspect(t *testing.T) {
	for _, tc := range []struct {
		w, h, wantW, wantH int
	}{
		{2000, 1000, 512, 256},
		{600, 1200, 256, 512},
		{1200, 900, 512, 384},
		{900, 1200, 384, 512},
		{3000, 1500, 512, 256}, // reduced by 2 first
		{1024, 1024, 512, 512},
		{513, 100, 512, 100},
		{100, 513, 100, 512},
		{2000, 3, 512, 1},
		{3, 2000, 1, 512},
	} {
		t.Run(fmt.Sprintf("%d×%d", tc.w, tc.h), func(t *testing.T) {
			t.Parallel()
			img, err := intake(encodePNG(t, gradient(tc.w, tc.h, false)))
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != tc.wantW || img.Height != tc.wantH {
				t.Errorf("%d×%d came out %d×%d, want %d×%d", tc.w, tc.h, img.Width, img.Height, tc.wantW, tc.wantH)
			}
			decodeOutput(t, img)
		})
	}
}

func TestIntakeNeverUpscales(t *testing.T) {
	for _, size := range []image.Point{{1, 1}, {16, 9}, {300, 200}, {512, 512}, {512, 1}} {
		img, err := intake(encodePNG(t, gradient(size.X, size.Y, false)))
		if err != nil {
			t.Fatal(err)
		}
		if img.Width != size.X || img.Height != size.Y {
			t.Errorf("%v came out %d×%d", size, img.Width, img.Height)
		}
	}
}

func TestIntakeKeepsThePixels(t *testing.T) {
	// A half red, half blue picture scaled down stays red on the left and blue on
	// the right: the scaler reads the source, not garbage.
	src := image.NewRGBA(image.Rect(0, 0, 1000, 600))
	for y := range 600 {
		for x := range 1000 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 500 {
				c = color.RGBA{0, 0, 255, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	img, err := intake(encodeJPEG(t, src, 95))
	if err != nil {
		t.Fatal(err)
	}
	m := decodeOutput(t, img)
	for _, tc := range []struct {
		x      int
		red    bool
		colour string
	}{{100, true, "red"}, {400, false, "blue"}} {
		r, _, b, _ := m.At(tc.x, 150).RGBA()
		if (r > b) != tc.red {
			t.Errorf("pixel %d,150 is r=%d b=%d; want %s", tc.x, r>>8, b>>8, tc.colour)
		}
	}
}

func TestIntakeChoosesPNGForTransparencyAndJPEGOtherwise(t *testing.T) {
	oneClear := gradient(50, 50, false)
	oneClear.SetNRGBA(49, 49, color.NRGBA{0, 0, 0, 254})
	for _, tc := range []struct {
		name string
		m    image.Image
		want string
	}{
		{"opaque", gradient(50, 50, false), "image/jpeg"},
		{"one pixel slightly transparent", oneClear, "image/png"},
		{"fully transparent", image.NewNRGBA(image.Rect(0, 0, 50, 50)), "image/png"},
		{"alpha gradient scaled down", gradient(1200, 600, true), "image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := intake(encodePNG(t, tc.m))
			if err != nil {
				t.Fatal(err)
			}
			if img.ContentType != tc.want {
				t.Errorf("ContentType = %q, want %q", img.ContentType, tc.want)
			}
			m := decodeOutput(t, img)
			if tc.want == "image/png" {
				if o, ok := m.(interface{ Opaque() bool }); ok && o.Opaque() {
					t.Error("the PNG output lost the transparency")
				}
			}
		})
	}
}

func TestIntakeHashIsTheSHA256OfData(t *testing.T) {
	for _, data := range [][]byte{
		encodePNG(t, gradient(40, 40, false)),
		encodePNG(t, gradient(40, 40, true)),
		readTestdata(t, "blue-purple-pink.lossy.webp"),
	} {
		img, err := intake(data)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(img.Data)
		if want := hex.EncodeToString(sum[:]); img.Hash != want {
			t.Errorf("Hash = %s, want %s", img.Hash, want)
		}
		again, err := intake(data)
		if err != nil {
			t.Fatal(err)
		}
		if again.Hash != img.Hash {
			t.Error("the same upload gave two hashes")
		}
	}
}

func TestIntakeWaitsForAFreeSlotAndHonoursCancel(t *testing.T) {
	p := NewProcessor(DefaultLimits(), 1)
	data := encodePNG(t, gradient(40, 40, false))
	p.sem <- struct{}{} // the one slot is busy

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Intake(ctx, bytes.NewReader(data)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with the slot busy and ctx timing out: error = %v, want context.DeadlineExceeded", err)
	}

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Intake(canceled, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Fatalf("with ctx canceled: error = %v, want context.Canceled", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := p.Intake(context.Background(), bytes.NewReader(data))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Intake returned (%v) while the slot was busy", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-p.sem // free the slot
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Intake did not proceed once the slot was free")
	}
	if n := len(p.sem); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
}

func TestIntakeReleasesItsSlotWhateverTheOutcome(t *testing.T) {
	p := NewProcessor(DefaultLimits(), 2)
	inputs := [][]byte{
		encodePNG(t, gradient(600, 400, false)),
		encodePNG(t, gradient(600, 400, true)),
		[]byte("\xFF\xD8\xFF junk"), // refused while decoding
		pngHeader(100000, 100000),   // refused before a slot
		[]byte("<html></html>"),     // refused before a slot
		readTestdata(t, "blue-purple-pink.lossy.webp"),
	}
	errs := make(chan error, 4*len(inputs))
	for range 4 {
		for _, data := range inputs {
			go func() {
				_, err := p.Intake(context.Background(), bytes.NewReader(data))
				errs <- err
			}()
		}
	}
	var failures int
	for range 4 * len(inputs) {
		if err := <-errs; err != nil {
			failures++
		}
	}
	if failures != 4*3 {
		t.Errorf("%d failures, want %d", failures, 4*3)
	}
	if n := len(p.sem); n != 0 {
		t.Errorf("%d slots still taken after every intake returned", n)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestIntakeReturnsReadErrorsWrapped(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := intake(nil)
	wantCode(t, err, atrium.EUnsupportedImage)
	_, err = NewProcessor(DefaultLimits(), 1).Intake(context.Background(), io.MultiReader(strings.NewReader("\x89PNG"), failingReader{boom}))
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want it to wrap %v", err, boom)
	}
}

func TestNewProcessorFillsInZeroLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero", Limits{}, DefaultLimits()},
		{"negative", Limits{MaxBytes: -1, MaxPixels: -1, MaxSide: -1, Box: -1}, DefaultLimits()},
		{"partial", Limits{Box: 128}, Limits{MaxBytes: 10 << 20, MaxPixels: 40e6, MaxSide: 20000, Box: 128}},
		{"full", Limits{1, 2, 3, 4}, Limits{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewProcessor(tc.in, 0).Limits(); got != tc.want {
				t.Errorf("Limits() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestIntakeHonoursCustomLimits(t *testing.T) {
	p := NewProcessor(Limits{MaxBytes: 1000, MaxPixels: 100 * 100, MaxSide: 200, Box: 32}, 1)
	for _, tc := range []struct {
		name    string
		data    []byte
		code    string
		message string
		w, h    int
	}{
		{"fits", encodePNG(t, gradient(100, 50, false)), "", "", 32, 16},
		{"too many bytes", make([]byte, 1001), atrium.ETooLarge, "The image is larger than 1000 bytes.", 0, 0},
		{"too many pixels", pngHeader(150, 150), atrium.EUnsupportedImage, "The image is 150×150 pixels; the most is 10000 pixels in all.", 0, 0},
		{"side too long", pngHeader(201, 1), atrium.EUnsupportedImage, "The image is 201×1 pixels; the most is 200 pixels on each side.", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := p.Intake(context.Background(), bytes.NewReader(tc.data))
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if img.Width != tc.w || img.Height != tc.h {
					t.Errorf("output is %d×%d, want %d×%d", img.Width, img.Height, tc.w, tc.h)
				}
				return
			}
			wantCode(t, err, tc.code)
			if msg := atrium.ErrorMessage(err); msg != tc.message {
				t.Errorf("message = %q, want %q", msg, tc.message)
			}
		})
	}
}

func TestFormatBytesAndPixels(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatBytes(10 << 20), "10 MB"},
		{formatBytes(512 << 10), "512 KB"},
		{formatBytes(1000), "1000 bytes"},
		{formatBytes(10<<20 + 1), "10485761 bytes"},
		{formatPixels(40e6), "40 megapixels"},
		{formatPixels(1_500_000), "1.5 megapixels"},
		{formatPixels(250_000), "250000 pixels"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
