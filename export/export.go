// Package export writes data for people to download as .xlsx workbooks in which
// every cell is a literal string: nothing a user typed can become a formula, a
// number or a date, whichever spreadsheet program opens the file.
package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Column widths, in characters of the default font.
const (
	minColWidth = 8
	maxColWidth = 60
	colPadding  = 2

	// maxSheetName is Excel's bound on a sheet name, in UTF-16 code units.
	maxSheetName = 31

	// textFormat is the built-in number format "@": a value typed into the cell
	// later stays text too.
	textFormat = 49
)

// Sheet is one worksheet of a workbook: a header row and rows of values.
type Sheet struct {
	Name    string
	Headers []string
	Rows    [][]string
}

// Workbook writes sheets to w as an .xlsx workbook. Every cell is a literal
// string (a shared string, never a formula or a number) holding the value passed
// through Neutralize. The header row is bold on a light fill and frozen, and the
// columns are as wide as their content within bounds, CJK characters counting
// double. Sheet names are made valid for Excel: characters it forbids become "_",
// names are cut to 31 UTF-16 code units on a character boundary, and repeated
// names get a " (2)", " (3)"… suffix. With no sheets the workbook has one empty
// sheet.
//
// The error, if any, is excelize's or w's, wrapped; it carries no atrium code,
// since a failure to build or write the file is an internal one.
func Workbook(w io.Writer, sheets []Sheet) error {
	f := excelize.NewFile()
	defer f.Close()

	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE5F0"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "A6B3C4", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "top"},
		NumFmt:    textFormat,
	})
	if err != nil {
		return fmt.Errorf("export: header style: %w", err)
	}
	text, err := f.NewStyle(&excelize.Style{
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true},
		NumFmt:    textFormat,
	})
	if err != nil {
		return fmt.Errorf("export: text style: %w", err)
	}

	names := sheetNames(sheets)
	for i, s := range sheets {
		name := names[i]
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err != nil {
			return fmt.Errorf("export: sheet %q: %w", name, err)
		}
		if err := writeSheet(f, name, s, header, text); err != nil {
			return fmt.Errorf("export: sheet %q: %w", name, err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("export: writing the workbook: %w", err)
	}
	return nil
}

// writeSheet fills the sheet name of f with s.
func writeSheet(f *excelize.File, name string, s Sheet, header, text int) error {
	ncol := len(s.Headers)
	for _, row := range s.Rows {
		ncol = max(ncol, len(row))
	}
	widths := make([]int, ncol)
	put := func(col, row int, value string) error {
		v := Neutralize(value)
		widths[col] = max(widths[col], displayWidth(v))
		cell, err := excelize.CoordinatesToCellName(col+1, row+1)
		if err != nil {
			return err
		}
		return f.SetCellStr(name, cell, v)
	}
	for c, h := range s.Headers {
		if err := put(c, 0, h); err != nil {
			return err
		}
	}
	for r, row := range s.Rows {
		for c, v := range row {
			if err := put(c, r+1, v); err != nil {
				return err
			}
		}
	}
	if ncol == 0 {
		return nil
	}

	last, err := excelize.ColumnNumberToName(ncol)
	if err != nil {
		return err
	}
	if err := f.SetColStyle(name, "A:"+last, text); err != nil {
		return err
	}
	for c, w := range widths {
		col, _ := excelize.ColumnNumberToName(c + 1)
		if err := f.SetColWidth(name, col, col, float64(min(max(w+colPadding, minColWidth), maxColWidth))); err != nil {
			return err
		}
	}
	if len(s.Headers) == 0 {
		return nil
	}
	lastHeader, _ := excelize.CoordinatesToCellName(len(s.Headers), 1)
	if err := f.SetCellStyle(name, "A1", lastHeader, header); err != nil {
		return err
	}
	return f.SetPanes(name, &excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
	})
}

// Neutralize returns s made inert in any spreadsheet program, following the OWASP
// guidance on CSV and formula injection: control characters other than tab and
// newline are removed, and a value that starts with "=", "+", "-", "@", a tab or
// a carriage return gets a leading apostrophe ('), so that no program reads it as
// a formula. Invalid UTF-8 becomes U+FFFD.
func Neutralize(s string) string {
	clean := strings.Map(func(r rune) rune {
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	// Look at s as well as clean: "\r=1" and "\x00=1" must not lose their guard
	// with the control character.
	if startsFormula(s) || startsFormula(clean) {
		return "'" + clean
	}
	return clean
}

// startsFormula reports whether s starts with a character that makes a
// spreadsheet read a cell as a formula.
func startsFormula(s string) bool {
	return s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
}

// displayWidth returns how many character widths the longest line of s takes:
// East Asian wide and fullwidth characters (CJK, most emoji) count 2, others 1.
func displayWidth(s string) int {
	longest := 0
	for line := range strings.SplitSeq(s, "\n") {
		n := 0
		for _, r := range line {
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
		longest = max(longest, n)
	}
	return longest
}

// sheetNames returns a valid, unique (without regard to case) Excel sheet name
// for each sheet.
func sheetNames(sheets []Sheet) []string {
	// "History" is reserved by Excel.
	taken := map[string]bool{"history": true}
	names := make([]string, len(sheets))
	for i, s := range sheets {
		base := cleanSheetName(s.Name)
		if base == "" {
			base = "Sheet" + strconv.Itoa(i+1)
		}
		name := truncateUTF16(base, maxSheetName)
		for n := 2; taken[strings.ToLower(name)]; n++ {
			suffix := " (" + strconv.Itoa(n) + ")"
			name = trimQuotes(truncateUTF16(base, maxSheetName-len(suffix))) + suffix
		}
		taken[strings.ToLower(name)] = true
		names[i] = name
	}
	return names
}

// cleanSheetName replaces the characters Excel forbids in sheet names with "_",
// drops control characters and invalid UTF-8, and trims spaces and apostrophes,
// which may not start or end a name.
func cleanSheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r):
			return -1
		case strings.ContainsRune(`:\/?*[]`, r):
			return '_'
		}
		return r
	}, s)
	return trimQuotes(s)
}

// trimQuotes trims spaces and apostrophes from both ends of s.
func trimQuotes(s string) string {
	return strings.Trim(s, " '")
}

// truncateUTF16 returns the longest prefix of s, cut on a character boundary,
// that takes at most n UTF-16 code units, the unit in which Excel counts. The
// result is trimmed like a sheet name.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		units += utf16Len(r)
		if units > n {
			return trimQuotes(s[:i])
		}
	}
	return s
}

// utf16Len returns the number of UTF-16 code units of r.
func utf16Len(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}
