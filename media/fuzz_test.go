package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/atrium-console/atrium"
)

// FuzzIntake feeds Intake arbitrary bytes: it must never panic, must refuse with
// ETooLarge or EUnsupportedImage only, and whatever it accepts must be a clean
// image within the box whose Hash is the SHA-256 of its bytes.
func FuzzIntake(f *testing.F) {
	p := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{}}
	seeds := [][]byte{
		encodePNG(f, gradient(40, 30, false)),
		encodePNG(f, gradient(40, 30, true)),
		encodePNG(f, image.NewGray16(image.Rect(0, 0, 9, 7))),
		encodePNG(f, paletted(12, 12, palette.WebSafe, 20)),
		encodeJPEG(f, gradient(40, 30, false), 75),
		encodeJPEG(f, image.NewGray(image.Rect(0, 0, 17, 9)), 75),
		encodeJPEG(f, image.NewCMYK(image.Rect(0, 0, 8, 8)), 75),
		encodeGIF(f, &gif.GIF{Image: []*image.Paletted{paletted(20, 10, p, 0), paletted(20, 10, p, 1)}, Delay: []int{5, 5}}),
		readTestdata(f, "blue-purple-pink.lossy.webp"),
		readTestdata(f, "yellow_rose.lossy-with-alpha.webp"),
		readTestdata(f, "gopher-doc.1bpp.lossless.webp"),
		pngHeader(100000, 100000),
		pngHeader(300, 200),
		jpegHeader(65535, 65535),
		jpegHeader(64, 64),
		gifHeader(65535, 65535),
		gifHeader(3, 3),
		webpHeader(16384, 16384),
		webpHeader(10, 10),
		nil,
		[]byte("<html><script>alert(1)</script></html>"),
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
		[]byte("%PDF-1.7"),
		[]byte("\xFF\xD8\xFF"),
		[]byte("\x89PNG\r\n\x1a\n"),
		[]byte("GIF89a"),
		[]byte("RIFF\x00\x00\x00\x00WEBP"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// Small limits keep every run fast: the header bounds are what is tested,
	// not how long a 40-megapixel decode takes.
	proc := NewProcessor(Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 4096, Box: 64}, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := proc.Intake(context.Background(), bytes.NewReader(data))
		if err != nil {
			if code := atrium.ErrorCode(err); code != atrium.ETooLarge && code != atrium.EUnsupportedImage {
				t.Fatalf("error %v has code %q", err, code)
			}
			return
		}
		if img.Width < 1 || img.Height < 1 || img.Width > 64 || img.Height > 64 {
			t.Fatalf("output is %d×%d", img.Width, img.Height)
		}
		sum := sha256.Sum256(img.Data)
		if img.Hash != hex.EncodeToString(sum[:]) {
			t.Fatal("Hash is not the SHA-256 of Data")
		}
		var m image.Image
		switch img.ContentType {
		case "image/jpeg":
			m, err = jpeg.Decode(bytes.NewReader(img.Data))
		case "image/png":
			m, err = png.Decode(bytes.NewReader(img.Data))
		default:
			t.Fatalf("ContentType = %q", img.ContentType)
		}
		if err != nil {
			t.Fatalf("the output does not decode: %v", err)
		}
		if b := m.Bounds(); b.Dx() != img.Width || b.Dy() != img.Height {
			t.Fatalf("output is %v, Image says %d×%d", b, img.Width, img.Height)
		}
	})
}
