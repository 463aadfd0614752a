package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// availDays are the weekdays in the order the form shows them.
var availDays = []struct{ Key, Label string }{
	{"mon", "Monday"}, {"tue", "Tuesday"}, {"wed", "Wednesday"}, {"thu", "Thursday"},
	{"fri", "Friday"}, {"sat", "Saturday"}, {"sun", "Sunday"},
}

// blankRows is how many empty rows the form offers for new windows and
// dates; "Add hours" and "Add a date" give more.
const blankRows = 1

// availForm is the availability form as shown, with each error placed
// beside the input it is about.
type availForm struct {
	HostID    uint
	Settings  []availSetting
	Days      []availDay
	Overrides []availRow
	Meeting   availMeeting
	Errors    map[string]string // errors not tied to one row
}

type availSetting struct{ Name, Label, Value, Hint, Error string }

type availDay struct {
	Key, Label string
	Rows       []availRow
	Error      string
}

type availRow struct{ Date, Start, End, Error string }

// settingFields are the number inputs, by the contract's field names.
var settingFields = []struct{ Name, Label, Hint string }{
	{"duration_minutes", "Call length (minutes)", "Shared by all hosts; a multiple of 5."},
	{"buffer_minutes", "Buffer after each call (minutes)", "Shared by all hosts."},
	{"min_notice_minutes", "Minimum notice (minutes)", "Shared by all hosts; 240 is 4 hours."},
	{"horizon_days", "Bookable days ahead", "Shared by all hosts."},
	{"max_per_day", "Daily cap for this host", "0 means no cap."},
}

// shareFields are the number inputs of the host's share of calls; one
// left empty keeps its value.
var shareFields = []struct{ Name, Label, Hint string }{
	{"weight", "Weight", "1 to 100, default 10: a host of weight 20 gets about twice the calls of one of weight 10."},
	{"priority", "Priority", "0 to 3, default 1: free hosts of the highest priority get the calls first."},
	{"max_per_week", "Weekly cap for this host", "Calls of all kinds per week, Monday to Sunday; 0 means no cap."},
}

// formFromConfig fills the form from saved availability.
func formFromConfig(cfg models.AvailabilityConfig) *availForm {
	f := &availForm{HostID: cfg.HostID, Errors: map[string]string{}}
	vals := map[string]int{"duration_minutes": cfg.DurationMinutes, "buffer_minutes": cfg.BufferMinutes,
		"min_notice_minutes": cfg.MinNoticeMinutes, "horizon_days": cfg.HorizonDays, "max_per_day": cfg.MaxPerDay}
	for _, sf := range settingFields {
		f.Settings = append(f.Settings, availSetting{Name: sf.Name, Label: sf.Label, Hint: sf.Hint, Value: strconv.Itoa(vals[sf.Name])})
	}
	share := map[string]*int{"weight": cfg.Weight, "priority": cfg.Priority, "max_per_week": cfg.MaxPerWeek}
	for _, sf := range shareFields {
		v := ""
		if p := share[sf.Name]; p != nil {
			v = strconv.Itoa(*p)
		}
		f.Settings = append(f.Settings, availSetting{Name: sf.Name, Label: sf.Label, Hint: sf.Hint, Value: v})
	}
	for _, d := range availDays {
		day := availDay{Key: d.Key, Label: d.Label}
		for _, w := range cfg.Weekly[d.Key] {
			day.Rows = append(day.Rows, availRow{Start: w[0], End: w[1]})
		}
		f.Days = append(f.Days, day)
	}
	for _, o := range cfg.Overrides {
		if len(o.Hours) == 0 {
			f.Overrides = append(f.Overrides, availRow{Date: o.Date})
		}
		for _, h := range o.Hours {
			f.Overrides = append(f.Overrides, availRow{Date: o.Date, Start: h[0], End: h[1]})
		}
	}
	f.Meeting = meetingFromConfig(cfg)
	f.addBlankRows()
	return f
}

func (f *availForm) addBlankRows() {
	for i := range f.Days {
		for range blankRows {
			f.Days[i].Rows = append(f.Days[i].Rows, availRow{})
		}
	}
	for range blankRows + 1 {
		f.Overrides = append(f.Overrides, availRow{})
	}
}

// addRow adds an empty row to a weekday's hours (by its key) or, for
// "overrides", to the date overrides.
func (f *availForm) addRow(where string) {
	if where == "overrides" {
		f.Overrides = append(f.Overrides, availRow{})
		return
	}
	for i := range f.Days {
		if f.Days[i].Key == where {
			f.Days[i].Rows = append(f.Days[i].Rows, availRow{})
		}
	}
}

// availMapping remembers which form row each parsed window came from, so
// the store's field names ("weekly.mon[1]", "overrides[0].hours[2]") can be
// put back beside their inputs.
type availMapping struct {
	week     map[string][]int // day → row index of each window
	ovDate   []int            // override → row of its first line
	ovWindow [][]int          // override → row of each window
}

// readAvailForm reads the posted form into the form view and the config
// for the store. Bad numbers are reported at once; the rest is the
// store's to validate.
func readAvailForm(c *gin.Context, hostID uint) (*availForm, models.AvailabilityConfig, availMapping, error) {
	f := &availForm{HostID: hostID, Errors: map[string]string{}}
	cfg := models.AvailabilityConfig{HostID: hostID, Weekly: map[string]models.HoursJSON{}, Overrides: []models.OverrideJSON{}}
	m := availMapping{week: map[string][]int{}}
	verr := &models.ValidationError{}
	nums := map[string]*int{"duration_minutes": &cfg.DurationMinutes, "buffer_minutes": &cfg.BufferMinutes,
		"min_notice_minutes": &cfg.MinNoticeMinutes, "horizon_days": &cfg.HorizonDays, "max_per_day": &cfg.MaxPerDay}
	for _, sf := range settingFields {
		v := strings.TrimSpace(c.PostForm(sf.Name))
		n, err := strconv.Atoi(v)
		if err != nil {
			verr.Add(sf.Name, "must be a whole number")
		}
		*nums[sf.Name] = n
		f.Settings = append(f.Settings, availSetting{Name: sf.Name, Label: sf.Label, Hint: sf.Hint, Value: v})
	}
	share := map[string]**int{"weight": &cfg.Weight, "priority": &cfg.Priority, "max_per_week": &cfg.MaxPerWeek}
	for _, sf := range shareFields {
		v := strings.TrimSpace(c.PostForm(sf.Name))
		if v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				verr.Add(sf.Name, "must be a whole number")
			}
			*share[sf.Name] = &n
		}
		f.Settings = append(f.Settings, availSetting{Name: sf.Name, Label: sf.Label, Hint: sf.Hint, Value: v})
	}
	for _, d := range availDays {
		day := availDay{Key: d.Key, Label: d.Label}
		starts, ends := c.PostFormArray(d.Key+"_start"), c.PostFormArray(d.Key+"_end")
		for i := range max(len(starts), len(ends)) {
			r := availRow{Start: at(starts, i), End: at(ends, i)}
			day.Rows = append(day.Rows, r)
			if r.Start == "" && r.End == "" {
				continue
			}
			cfg.Weekly[d.Key] = append(cfg.Weekly[d.Key], [2]string{r.Start, r.End})
			m.week[d.Key] = append(m.week[d.Key], len(day.Rows)-1)
		}
		f.Days = append(f.Days, day)
	}
	readOverrideRows(c, f, &cfg, &m)
	f.Meeting, cfg.Meeting = readMeetingForm(c)
	return f, cfg, m, verr.Err()
}

// readOverrideRows groups override rows by date: a date with no times is
// closed, several rows of one date are its windows.
func readOverrideRows(c *gin.Context, f *availForm, cfg *models.AvailabilityConfig, m *availMapping) {
	dates, starts, ends := c.PostFormArray("ov_date"), c.PostFormArray("ov_start"), c.PostFormArray("ov_end")
	byDate := map[string]int{}
	for i := range max(len(dates), len(starts), len(ends)) {
		r := availRow{Date: at(dates, i), Start: at(starts, i), End: at(ends, i)}
		f.Overrides = append(f.Overrides, r)
		if r.Date == "" && r.Start == "" && r.End == "" {
			continue
		}
		k, seen := byDate[r.Date]
		if !seen || r.Date == "" {
			k = len(cfg.Overrides)
			byDate[r.Date] = k
			cfg.Overrides = append(cfg.Overrides, models.OverrideJSON{Date: r.Date, Hours: models.HoursJSON{}})
			m.ovDate = append(m.ovDate, i)
			m.ovWindow = append(m.ovWindow, nil)
		}
		if r.Start != "" || r.End != "" {
			cfg.Overrides[k].Hours = append(cfg.Overrides[k].Hours, [2]string{r.Start, r.End})
			m.ovWindow[k] = append(m.ovWindow[k], i)
		}
	}
}

func at(xs []string, i int) string {
	if i < len(xs) {
		return strings.TrimSpace(xs[i])
	}
	return ""
}

// place puts each of the store's field errors beside its input.
func (f *availForm) place(fields map[string]string, m availMapping) {
	for k, msg := range fields {
		if f.placeSetting(k, msg) || f.Meeting.place(k, msg) || f.placeWeekly(k, msg, m) || f.placeOverride(k, msg, m) {
			continue
		}
		f.Errors[k] = msg
	}
}

func (f *availForm) placeSetting(k, msg string) bool {
	for i := range f.Settings {
		if f.Settings[i].Name == k {
			f.Settings[i].Error = msg
			return true
		}
	}
	return false
}

func (f *availForm) placeWeekly(k, msg string, m availMapping) bool {
	for i := range f.Days {
		d := &f.Days[i]
		var n int
		if k == "weekly."+d.Key {
			d.Error = msg
			return true
		}
		if _, err := fmt.Sscanf(k, "weekly."+d.Key+"[%d]", &n); err == nil && n < len(m.week[d.Key]) {
			d.Rows[m.week[d.Key][n]].Error = msg
			return true
		}
	}
	return false
}

func (f *availForm) placeOverride(k, msg string, m availMapping) bool {
	var n, w int
	if _, err := fmt.Sscanf(k, "overrides[%d].hours[%d]", &n, &w); err == nil && n < len(m.ovWindow) && w < len(m.ovWindow[n]) {
		f.Overrides[m.ovWindow[n][w]].Error = msg
		return true
	}
	if _, err := fmt.Sscanf(k, "overrides[%d]", &n); err == nil && n < len(m.ovDate) {
		f.Overrides[m.ovDate[n]].Error = msg
		return true
	}
	return false
}

// adminAvailability shows one host's availability form
// (GET /admin/availability?host_id=).
func (s *Server) adminAvailability(c *gin.Context) {
	hostID, err := queryHostID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cfg, err := s.store.Availability(c.Request.Context(), hostID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAvailability(c, http.StatusOK, formFromConfig(cfg), c.Query("saved") != "")
}

func (s *Server) renderAvailability(c *gin.Context, status int, f *availForm, saved bool) {
	hosts, err := s.store.Hosts(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	cal, err := s.hostCalendarPanel(c, f.HostID)
	if err != nil {
		s.fail(c, err)
		return
	}
	f.Meeting.Default = meetingWords(s.store.DefaultMeeting())
	s.render(c, status, "admin/availability.html", gin.H{
		"Cal": cal, "Title": "Availability", "Nav": "availability", "F": f, "MeetingKinds": meetingKindChoices, "Hosts": hosts, "Saved": saved,
	})
}

// adminSaveAvailability saves the form (POST /admin/availability): 303
// back on success, the form again with each problem beside its input on
// failure (422).
func (s *Server) adminSaveAvailability(c *gin.Context) {
	n, err := strconv.ParseUint(c.PostForm("host_id"), 10, 32)
	if err != nil {
		s.fail(c, models.Invalid("host_id", "must be a host's id"))
		return
	}
	f, cfg, m, err := readAvailForm(c, uint(n))
	if add := c.PostForm("add_row"); add != "" {
		// "Add hours" or "Add a date" without JavaScript: the same form,
		// unsaved, with one more empty row there.
		f.addRow(add)
		s.renderAvailability(c, http.StatusOK, f, false)
		return
	}
	var verr *models.ValidationError
	if err == nil {
		_, err = s.saveAvailability(c, cfg)
	}
	switch {
	case errors.As(err, &verr):
		f.place(verr.Fields, m)
		s.renderAvailability(c, http.StatusUnprocessableEntity, f, false)
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/availability?host_id=%d&saved=1", n))
	}
}
