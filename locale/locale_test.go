package locale

import (
	"regexp"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/callbook/callbook/web"
)

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders lists the distinct {{.Name}} placeholders of a message.
func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// catalogProblems compares every language's catalog with English: a
// message missing or extra, or a placeholder dropped or added.
func catalogProblems(t *testing.T, cats map[string]map[string]string) []string {
	t.Helper()
	var problems []string
	en := cats["en"]
	for _, code := range Languages[1:] {
		other := cats[code]
		for id, text := range en {
			tr, ok := other[id]
			if !ok {
				problems = append(problems, code+": no message "+id)
				continue
			}
			if want, got := placeholders(text), placeholders(tr); !slices.Equal(want, got) {
				problems = append(problems, code+": "+id+" has placeholders "+join(got)+", English "+join(want))
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				problems = append(problems, code+": message "+id+" is not in English")
			}
		}
	}
	return problems
}

func join(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

func readCatalogs(t *testing.T, fsys fstest.MapFS) map[string]map[string]string {
	t.Helper()
	cats := map[string]map[string]string{}
	for _, code := range Languages {
		var m map[string]string
		var err error
		if fsys == nil {
			m, err = Messages(web.Messages(), code)
		} else {
			m, err = Messages(fsys, code)
		}
		if err != nil {
			t.Fatal(err)
		}
		cats[code] = m
	}
	return cats
}

// TestCatalogs_EveryMessageInEveryLanguage: each message of the English
// catalog exists in German and Spanish with the same placeholders, and no
// translation has a message English lacks.
func TestCatalogs_EveryMessageInEveryLanguage(t *testing.T) {
	cats := readCatalogs(t, nil)
	if len(cats["en"]) < 200 {
		t.Fatalf("English catalog has %d messages", len(cats["en"]))
	}
	for _, p := range catalogProblems(t, cats) {
		t.Error(p)
	}
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
}

// TestCatalogs_CheckFindsGaps: the comparison above finds a missing
// message, a lost placeholder and an extra message.
func TestCatalogs_CheckFindsGaps(t *testing.T) {
	fsys := fstest.MapFS{
		"en.yaml": {Data: []byte("a: \"Hello {{.Name}}\"\nb: \"Bye\"\n")},
		"de.yaml": {Data: []byte("a: \"Hallo\"\n")},
		"es.yaml": {Data: []byte("a: \"Hola {{.Name}}\"\nb: \"Adiós\"\nc: \"Extra\"\n")},
	}
	got := catalogProblems(t, readCatalogs(t, fsys))
	slices.Sort(got)
	want := []string{"de: a has placeholders [], English [Name]", "de: no message b", "es: message c is not in English"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

// TestLang_DatesAsNativeSpeakersWriteThem: dates and times in each
// language, and the picker's week starting on Monday.
func TestLang_DatesAsNativeSpeakersWriteThem(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	may := time.Date(2027, 5, 4, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, dateTime, short, shortMay, weekdays string
	}{
		{"en", "Tuesday, 1 December 2026, 15:00", "Tue 1 Dec", "Tue 4 May", "Mon Tue Wed Thu Fri Sat Sun"},
		{"de", "Dienstag, 1. Dezember 2026, 15:00", "Di., 1. Dez.", "Di., 4. Mai", "Mo Di Mi Do Fr Sa So"},
		{"es", "martes, 1 de diciembre de 2026, 15:00", "mar, 1 dic", "mar, 4 may", "lun mar mié jue vie sáb dom"},
	} {
		l := cat.Lang(tc.lang)
		if got := l.DateTime(at); got != tc.dateTime {
			t.Errorf("%s: DateTime %q, want %q", tc.lang, got, tc.dateTime)
		}
		if got := l.ShortDay(at); got != tc.short {
			t.Errorf("%s: ShortDay %q, want %q", tc.lang, got, tc.short)
		}
		if got := l.ShortDay(may); got != tc.shortMay {
			t.Errorf("%s: ShortDay %q, want %q", tc.lang, got, tc.shortMay)
		}
		var days string
		for i, d := range l.WeekdayNames() {
			if i > 0 {
				days += " "
			}
			days += d
		}
		if days != tc.weekdays {
			t.Errorf("%s: week %q, want %q", tc.lang, days, tc.weekdays)
		}
	}
}

// TestCatalog_MatchesAcceptLanguage: the best supported language of an
// Accept-Language header, a regional variant included, and "" for none.
func TestCatalog_MatchesAcceptLanguage(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]string{
		"de-DE,de;q=0.9,en;q=0.8": "de",
		"de-AT":                   "de",
		"es-MX,es;q=0.9":          "es",
		"fr-FR,es;q=0.5,en;q=0.4": "es",
		"fr-FR,fr;q=0.9":          "",
		"":                        "",
		"en-GB":                   "en",
	} {
		if got := cat.Match(header); got != want {
			t.Errorf("Accept-Language %q: %q, want %q", header, got, want)
		}
	}
	if got := cat.Lang("de").N("times_count", 3); got != "3 Termine" {
		t.Errorf("German plural: %q", got)
	}
	if got := cat.Lang("de").Thousands(5786); got != "5.786" {
		t.Errorf("German thousands: %q", got)
	}
	if got := cat.Lang("en").Thousands(-12345); got != "-12,345" {
		t.Errorf("English thousands: %q", got)
	}
	if got := cat.Lang("es").T("how_by", "Means", "teléfono"); got != "por teléfono" {
		t.Errorf("Spanish placeholder: %q", got)
	}
}
