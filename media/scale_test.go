package media

import (
	"image"
	"image/color"
	"testing"

	"golang.org/x/image/draw"
)

func TestReduceAveragesBlocksInPremultipliedAlpha(t *testing.T) {
	// A 5×3 image reduced by 2: blocks of 2×2, 1×2 along the right edge, 2×1
	// along the bottom and 1×1 in the corner.
	src := image.NewNRGBA(image.Rect(10, 20, 15, 23)) // not at the origin
	set := func(x, y int, c color.NRGBA) { src.SetNRGBA(10+x, 20+y, c) }
	red := color.NRGBA{255, 0, 0, 255}
	set(0, 0, red) // the rest of the first block is transparent
	for y := range 2 {
		set(2, y, color.NRGBA{0, 200, 0, 255})
		set(3, y, color.NRGBA{0, 100, 0, 255})
		set(4, y, color.NRGBA{0, 0, 255, 255})
	}
	set(0, 2, color.NRGBA{255, 255, 255, 255})
	set(1, 2, color.NRGBA{0, 0, 0, 255})
	set(4, 2, color.NRGBA{10, 20, 30, 255})

	got := reduce(src, 2)
	if b := got.Bounds(); b != image.Rect(0, 0, 3, 2) {
		t.Fatalf("bounds = %v, want 3×2 at the origin", b)
	}
	for _, tc := range []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, color.RGBA{64, 0, 0, 64}},       // one opaque red of four pixels
		{1, 0, color.RGBA{0, 150, 0, 255}},     // the mean of 200, 100, 200, 100
		{2, 0, color.RGBA{0, 0, 255, 255}},     // a 1×2 block at the right edge
		{0, 1, color.RGBA{128, 128, 128, 255}}, // a 2×1 block at the bottom edge
		{1, 1, color.RGBA{0, 0, 0, 0}},         // transparent
		{2, 1, color.RGBA{10, 20, 30, 255}},    // the 1×1 corner
	} {
		if c := got.RGBAAt(tc.x, tc.y); c != tc.want {
			t.Errorf("pixel %d,%d = %v, want %v", tc.x, tc.y, c, tc.want)
		}
	}
}

func TestScaleLooksLikeOneCatmullRomPass(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  image.Image
	}{
		{"opaque 2400×1800", gradient(2400, 1800, false)},
		{"alpha 2500×900", gradient(2500, 900, true)},
		{"odd 2311×1733", gradient(2311, 1733, false)},
		{"tall 700×2600", gradient(700, 2600, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := scale(tc.src, 512)
			want := image.NewRGBA(got.Bounds())
			draw.CatmullRom.Scale(want, want.Bounds(), tc.src, tc.src.Bounds(), draw.Src, nil)
			var worst int
			for i := range got.Pix {
				worst = max(worst, absDiff(got.Pix[i], want.Pix[i]))
			}
			if worst > 4 {
				t.Errorf("differs from a single Catmull-Rom pass by up to %d levels", worst)
			}
		})
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestIntakeDoesNotAliasFineDetail(t *testing.T) {
	// A checkerboard of single black and white pixels is grey at any smaller
	// size; a scaler that samples rather than averages turns it into black, white
	// or stripes.
	src := image.NewGray(image.Rect(0, 0, 3000, 2000))
	for y := range 2000 {
		for x := range 3000 {
			if (x+y)%2 == 0 {
				src.Pix[y*src.Stride+x] = 255
			}
		}
	}
	img, err := intake(encodePNG(t, src))
	if err != nil {
		t.Fatal(err)
	}
	m := decodeOutput(t, img)
	b := m.Bounds()
	for y := b.Min.Y + 2; y < b.Max.Y-2; y++ { // the edges may ring
		for x := b.Min.X + 2; x < b.Max.X-2; x++ {
			r, _, _, _ := m.At(x, y).RGBA()
			if v := int(r >> 8); v < 110 || v > 145 {
				t.Fatalf("pixel %d,%d is %d; want mid grey", x, y, v)
			}
		}
	}
}
