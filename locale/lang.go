package locale

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goodsign/monday"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Lang is one language: its messages and how it writes dates.
type Lang struct {
	Code string
	loc  *i18n.Localizer
	mon  monday.Locale
	// Layouts of a date in Go's reference time, translated by monday.
	day, shortDay, dayMonth string
}

func newLang(code string, loc *i18n.Localizer) *Lang {
	l := &Lang{Code: code, loc: loc}
	switch code {
	case "de":
		// "Dienstag, 1. Dezember 2026", "Di., 1. Dez."
		l.mon, l.day, l.shortDay, l.dayMonth = monday.LocaleDeDE, "Monday, 2. January 2006", "Mon., 2. Jan", "Monday, 2. January"
	case "es":
		// "martes, 1 de diciembre de 2026", "mar, 1 dic"
		l.mon, l.day, l.shortDay, l.dayMonth = monday.LocaleEsES, "Monday, 2 de January de 2006", "Mon, 2 Jan", "Monday, 2 de January"
	default:
		// "Tuesday, 1 December 2026", "Tue 1 Dec"
		l.mon, l.day, l.shortDay, l.dayMonth = monday.LocaleEnUS, "Monday, 2 January 2006", "Mon 2 Jan", "Monday, 2 January"
	}
	return l
}

// T is the message id with its placeholders filled from kv, pairs of
// name and value: T("greeting", "Name", "Ada"). A message missing from the
// catalog shows its id, which the catalog tests make impossible for the
// built-in pages.
func (l *Lang) T(id string, kv ...any) string {
	return l.localize(id, nil, kv)
}

// N is the message id in the plural form for n, which its text may use
// as {{.Count}}.
func (l *Lang) N(id string, n int, kv ...any) string {
	return l.localize(id, n, append(kv, "Count", n))
}

func (l *Lang) localize(id string, count any, kv []any) string {
	var data map[string]any
	if len(kv) > 0 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil && s == "" {
		return id
	}
	return s
}

func (l *Lang) format(t time.Time, layout string) string { return monday.Format(t, layout, l.mon) }

// Day is a date in full: "Tuesday, 1 December 2026", "Dienstag,
// 1. Dezember 2026", "martes, 1 de diciembre de 2026".
func (l *Lang) Day(t time.Time) string { return l.format(t, l.day) }

// DayMonth is a date in full without its year: "Dienstag, 1. Dezember".
func (l *Lang) DayMonth(t time.Time) string { return l.format(t, l.dayMonth) }

// ShortDay is a date for tight spaces: "Tue 1 Dec", "Di., 1. Dez.", "mar, 1 dic".
func (l *Lang) ShortDay(t time.Time) string {
	s := l.format(t, l.shortDay)
	if l.Code == "de" && !strings.HasSuffix(s, "Mai") {
		s += "." // German abbreviates months with a full stop, but "Mai" is whole
	}
	return s
}

// Time is a time of day on the 24-hour clock, as all three languages
// write it on a booking page: "15:00".
func (l *Lang) Time(t time.Time) string { return t.Format("15:04") }

// DateTime is a date in full and a time: "Dienstag, 1. Dezember 2026, 15:00".
func (l *Lang) DateTime(t time.Time) string { return l.Day(t) + ", " + l.Time(t) }

// ShortDateTime is ShortDay and a time: "Di., 1. Dez., 15:00".
func (l *Lang) ShortDateTime(t time.Time) string { return l.ShortDay(t) + ", " + l.Time(t) }

// Weekday is a day's short name for the slot picker: "Tue", "Di", "mar".
func (l *Lang) Weekday(t time.Time) string { return l.format(t, "Mon") }

// Month is a month's short name: "Dec", "Dez", "dic".
func (l *Lang) Month(t time.Time) string { return l.format(t, "Jan") }

// WeekdayNames are the slot picker's column heads, from the first day of
// the week: Monday in all three languages (the picker's calendar is laid
// out that way in every language; German and Spanish readers expect it).
func (l *Lang) WeekdayNames() []string {
	monday := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) // a Monday
	out := make([]string, 7)
	for i := range out {
		out[i] = l.Weekday(monday.AddDate(0, 0, i))
	}
	return out
}

// Thousands writes a count with the language's thousands separator:
// "5,786" in English, "5.786" in German and Spanish.
func (l *Lang) Thousands(n int) string {
	sep := byte('.')
	if l.Code == "en" {
		sep = ','
	}
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
