package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed i18n/*.json
var messageFiles embed.FS

// Languages are the console's languages, the first the default.
var Languages = []language.Tag{language.English, language.MustParse("zh-CN")}

var langMatcher = language.NewMatcher(Languages)

func loadBundle() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(messageFiles, "i18n/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(messageFiles, f); err != nil {
			return nil, err
		}
	}
	return b, nil
}

const langCookie = "atrium_lang"

// language picks the console language: the switch's cookie, then the account's
// stored choice, then the browser's Accept-Language.
func chooseLanguage(r *http.Request, accountLang string) string {
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := supportedLanguage(c.Value); ok {
			return l
		}
	}
	if l, ok := supportedLanguage(accountLang); ok {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, idx, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return "en"
	}
	return Languages[idx].String()
}

// supportedLanguage maps a language value to a supported one: "en" or "zh-CN".
func supportedLanguage(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "en", "en-us", "en-gb":
		return "en", true
	case "zh-cn", "zh", "zh-hans", "zh-hans-cn":
		return "zh-CN", true
	}
	return "", false
}

// translator translates message IDs for one language. A missing ID comes back as
// itself, and a test checks that every ID used exists in every language.
type translator struct {
	loc *i18n.Localizer
}

func (s *Server) translator(lang string) translator {
	return translator{loc: i18n.NewLocalizer(s.bundle, lang)}
}

// T translates id; args are key, value pairs for the message's template.
func (t translator) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 1 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			if k, ok := args[i].(string); ok {
				data[k] = args[i+1]
			}
		}
	}
	msg, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil || msg == "" {
		return id
	}
	return msg
}
