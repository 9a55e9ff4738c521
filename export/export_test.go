package export

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// write runs Workbook on sheets and opens the result again.
func write(t *testing.T, sheets []Sheet) ([]byte, *excelize.File) {
	t.Helper()
	var buf bytes.Buffer
	if err := Workbook(&buf, sheets); err != nil {
		t.Fatalf("Workbook: %v", err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("opening the workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return buf.Bytes(), f
}

// hostileValue is a value a user could type to smuggle a formula, a number or
// markup into an export, with what it must come out as.
type hostileValue struct{ name, in, out string }

func hostileValues() []hostileValue {
	return []hostileValue{
		{"HYPERLINK formula", `=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"plus", "+1", "'+1"},
		{"minus", "-2", "'-2"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\tx", "'\tx"},
		{"carriage return", "\rx", "'x"},
		{"DDE", "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"NUL before a formula", "\x00=1+1", "'=1+1"},
		{"number", "12345", "12345"},
		{"leading zero", "007", "007"},
		{"date-like", "2024-01-02", "2024-01-02"},
		{"phone", "+8613800138000", "'+8613800138000"},
		{"boolean-like", "TRUE", "TRUE"},
		{"CJK", "张三的账户", "张三的账户"},
		{"emoji", "👩‍💻 café 🎉", "👩‍💻 café 🎉"},
		{"markup", "<script>alert(1)</script> & \"q\"", "<script>alert(1)</script> & \"q\""},
		{"newline kept", "line 1\nline 2", "line 1\nline 2"},
		{"controls dropped", "a\x01b\x07c\x1bd\x7fe\u0085f", "abcdef"},
		{"equals inside", "a=b", "a=b"},
		{"spaces kept", "  padded  ", "  padded  "},
		{"empty", "", ""},
	}
}

func TestWorkbookWritesValuesNeutralised(t *testing.T) {
	hostile := hostileValues()
	rows := make([][]string, len(hostile))
	for i, h := range hostile {
		rows[i] = []string{h.name, h.in}
	}
	_, f := write(t, []Sheet{{Name: "Personal data", Headers: []string{"Field", "=Value"}, Rows: rows}})

	if got, err := f.GetCellValue("Personal data", "B1"); err != nil || got != "'=Value" {
		t.Errorf("header B1 = %q, %v; want %q", got, err, "'=Value")
	}
	for i, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			cell, _ := excelize.CoordinatesToCellName(2, i+2)
			got, err := f.GetCellValue("Personal data", cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if got != h.out {
				t.Errorf("%s = %q, want %q", cell, got, h.out)
			}
			if h.in != "" { // an empty value leaves no cell
				typ, err := f.GetCellType("Personal data", cell)
				if err != nil {
					t.Fatal(err)
				}
				if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
					t.Errorf("%s has cell type %v, want a string", cell, typ)
				}
			}
		})
	}
}

func TestWorkbookHasNoFormulas(t *testing.T) {
	hostile := hostileValues()
	rows := make([][]string, len(hostile))
	for i, h := range hostile {
		rows[i] = []string{h.in, h.in, h.in}
	}
	data, f := write(t, []Sheet{
		{Name: "One", Headers: []string{"=A", "+B", "-C"}, Rows: rows},
		{Name: "Two", Headers: []string{"@D"}, Rows: [][]string{{"=1+1"}, {"=SUM(A1:A2)"}}},
	})

	for _, sheet := range f.GetSheetList() {
		all, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range all {
			for c := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, err := f.GetCellFormula(sheet, cell); err != nil || formula != "" {
					t.Errorf("%s!%s has formula %q (%v)", sheet, cell, formula, err)
				}
			}
		}
	}

	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	formulaElement := regexp.MustCompile(`<(\w+:)?f[\s>/]`)
	sheets := 0
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") || !strings.HasSuffix(zf.Name, ".xml") {
			continue
		}
		sheets++
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		xml, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if loc := formulaElement.FindIndex(xml); loc != nil {
			t.Errorf("%s has a formula element: %q", zf.Name, xml[loc[0]:min(loc[1]+40, len(xml))])
		}
		if bytes.Contains(xml, []byte(`t="n"`)) || bytes.Contains(xml, []byte(`t="b"`)) || bytes.Contains(xml, []byte(`t="str"`)) {
			t.Errorf("%s has a cell typed other than a string", zf.Name)
		}
	}
	if sheets != 2 {
		t.Errorf("found %d worksheet parts, want 2", sheets)
	}
}

func TestWorkbookKeepsNumberLikeValuesAsStrings(t *testing.T) {
	values := []string{"12345", "007", "1e3", "3.14", "0x1F", "2024-01-02", "TRUE", "50%", "1/2"}
	rows := make([][]string, len(values))
	for i, v := range values {
		rows[i] = []string{v}
	}
	_, f := write(t, []Sheet{{Name: "S", Headers: []string{"Value"}, Rows: rows}})
	for i, v := range values {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		typ, err := f.GetCellType("S", cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
			t.Errorf("%q has cell type %v, want a string", v, typ)
		}
		if got, _ := f.GetCellValue("S", cell); got != v {
			t.Errorf("%q came back as %q", v, got)
		}
	}
}

func TestWorkbookStylesAndFreezesTheHeader(t *testing.T) {
	_, f := write(t, []Sheet{{Name: "S", Headers: []string{"Username", "Email"}, Rows: [][]string{{"alice", "a@example.com"}}}})
	for _, tc := range []struct {
		cell string
		bold bool
	}{{"A1", true}, {"B1", true}, {"A2", false}, {"B2", false}} {
		id, err := f.GetCellStyle("S", tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		style, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		bold := style.Font != nil && style.Font.Bold
		if bold != tc.bold {
			t.Errorf("%s bold = %v, want %v", tc.cell, bold, tc.bold)
		}
		filled := style.Fill.Type == "pattern" && len(style.Fill.Color) > 0
		if filled != tc.bold {
			t.Errorf("%s filled = %v, want %v", tc.cell, filled, tc.bold)
		}
		if style.NumFmt != textFormat {
			t.Errorf("%s number format = %d, want text (%d)", tc.cell, style.NumFmt, textFormat)
		}
	}
	panes, err := f.GetPanes("S")
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes = %+v, want the first row frozen", panes)
	}
}

func TestWorkbookSizesColumnsToContent(t *testing.T) {
	_, f := write(t, []Sheet{{
		Name:    "S",
		Headers: []string{"A", "Ascii", "CJK", "Long", "Lines"},
		Rows: [][]string{{
			"x",
			"abcdefghijklmnopqrst", // 20 narrow characters
			"一二三四五六七八九十一二三四五六七八九十", // 20 wide characters
			strings.Repeat("long ", 100),
			"short\n" + strings.Repeat("y", 30) + "\nshort",
		}},
	}})
	widths := map[string]float64{}
	for _, col := range []string{"A", "B", "C", "D", "E"} {
		w, err := f.GetColWidth("S", col)
		if err != nil {
			t.Fatal(err)
		}
		widths[col] = w
	}
	for _, tc := range []struct {
		col  string
		want float64
	}{
		{"A", minColWidth},
		{"B", 20 + colPadding},
		{"C", 40 + colPadding},
		{"D", maxColWidth},
		{"E", 30 + colPadding},
	} {
		if widths[tc.col] != tc.want {
			t.Errorf("column %s width = %v, want %v", tc.col, widths[tc.col], tc.want)
		}
	}
}

func TestWorkbookMakesSheetNamesValid(t *testing.T) {
	long := strings.Repeat("abcdefghij", 4) // 40 characters
	cjk := strings.Repeat("个人信息", 10)       // 40 characters
	emoji := strings.Repeat("a", 30) + "🎉🎉" // the emoji would straddle the limit
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"short names kept", []string{"Account", "Agreements"}, []string{"Account", "Agreements"}},
		{"long name cut to 31", []string{long}, []string{long[:31]}},
		{"CJK cut on a rune boundary", []string{cjk}, []string{string([]rune(cjk)[:31])}},
		{"emoji not split", []string{emoji}, []string{strings.Repeat("a", 30)}},
		{"forbidden characters replaced", []string{`a:b\c/d?e*f[g]h`}, []string{"a_b_c_d_e_f_g_h"}},
		{"apostrophes and controls trimmed", []string{"'quoted'", "tab\there"}, []string{"quoted", "tabhere"}},
		{"empty named by position", []string{"", "x", ""}, []string{"Sheet1", "x", "Sheet3"}},
		{"duplicates numbered", []string{"Data", "data", "DATA"}, []string{"Data", "data (2)", "DATA (3)"}},
		{"duplicates after cutting", []string{long, long + "more"}, []string{long[:31], long[:27] + " (2)"}},
		{"reserved History", []string{"History"}, []string{"History (2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sheets := make([]Sheet, len(tc.in))
			for i, n := range tc.in {
				sheets[i] = Sheet{Name: n, Headers: []string{"h"}, Rows: [][]string{{n}}}
			}
			_, f := write(t, sheets)
			got := f.GetSheetList()
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("sheets = %q, want %q", got, tc.want)
			}
			for _, n := range got {
				if units := len(utf16.Encode([]rune(n))); units > 31 {
					t.Errorf("%q is %d UTF-16 units long", n, units)
				}
			}
		})
	}
}

func TestWorkbookWithNoSheetsHasOneEmptySheet(t *testing.T) {
	_, f := write(t, nil)
	if got := f.GetSheetList(); len(got) != 1 {
		t.Errorf("sheets = %q, want one", got)
	}
}

func TestWorkbookWritesRowsLongerThanTheHeader(t *testing.T) {
	_, f := write(t, []Sheet{{Name: "S", Headers: []string{"a"}, Rows: [][]string{{"1", "=2", "3"}}}})
	rows, err := f.GetRows("S")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[1], "|"); got != "1|'=2|3" {
		t.Errorf("row 2 = %q", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWorkbookReturnsWriteErrors(t *testing.T) {
	if err := Workbook(failingWriter{}, []Sheet{{Name: "S", Headers: []string{"h"}}}); err == nil {
		t.Error("Workbook succeeded on a failing writer")
	}
}

func TestNeutralizeMakesFormulasInert(t *testing.T) {
	for _, h := range hostileValues() {
		t.Run(h.name, func(t *testing.T) {
			if got := Neutralize(h.in); got != h.out {
				t.Errorf("Neutralize(%q) = %q, want %q", h.in, got, h.out)
			}
		})
	}
	if got := Neutralize("bad\xffutf8"); got != "bad\uFFFDutf8" {
		t.Errorf("invalid UTF-8 came out %q", got)
	}
}
