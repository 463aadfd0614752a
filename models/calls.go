package models

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Modes of a kind of call: one host takes it, or every listed host joins it.
const (
	ModeOneHost    = "one_host"
	ModeCollective = "collective"
)

// A host's share of calls: weight 1–100 (default 10), priority 0–3
// (default 1, the highest first).
const (
	DefaultHostWeight   = 10
	DefaultHostPriority = 1
)

// DiscoveryCallID is the one kind a role without its own kinds offers: a
// discovery call of the shared length, given to one free host.
const DiscoveryCallID = "discovery"

// DiscoveryCallTitle is that kind's title.
const DiscoveryCallTitle = "Discovery call"

// CallKind is one kind of call a role page offers: its length, how its
// start times are spaced, which hosts take it and how. The zero Minutes
// of the discovery kind means the shared call length.
type CallKind struct {
	ID          string   `yaml:"id" json:"id"`
	Title       string   `yaml:"title" json:"title"`
	Minutes     int      `yaml:"minutes" json:"minutes"`
	Description string   `yaml:"description" json:"description"`
	StepMinutes int      `yaml:"step_minutes" json:"-"`
	Hosts       []string `yaml:"hosts" json:"-"`
	Mode        string   `yaml:"mode" json:"mode"`
	MaxPerDay   int      `yaml:"max_per_day" json:"-"`
	// Public false hides the kind from the role page and the public API:
	// only a private link books it. Absent: public.
	Public *bool `yaml:"public" json:"-"`
}

// IsPublic reports whether visitors see the kind without a private link.
func (k *CallKind) IsPublic() bool { return k.Public == nil || *k.Public }

// Collective reports whether every listed host joins each call.
func (k *CallKind) Collective() bool { return k.Mode == ModeCollective }

// IsDiscovery reports whether k is the default kind of a role without kinds.
func (k *CallKind) IsDiscovery() bool { return k == nil || k.Minutes == 0 }

// StoredID is the kind's id as a booking keeps it: empty for the discovery
// call of a role without kinds.
func (k *CallKind) StoredID() string {
	if k.IsDiscovery() {
		return ""
	}
	return k.ID
}

// TitleOr is the kind's title, or the discovery call's.
func (k *CallKind) TitleOr() string {
	if k.IsDiscovery() {
		return DiscoveryCallTitle
	}
	return k.Title
}

// HostEmails are the hosts the kind names, lower-cased (none: any host).
func (k *CallKind) HostEmails() []string {
	if k == nil {
		return nil
	}
	out := make([]string, 0, len(k.Hosts))
	for _, h := range k.Hosts {
		out = append(out, NormalizeEmail(h))
	}
	return out
}

// CallRules are what a kind of call adds to the shared settings when its
// times are computed: the spacing of its start times (0: its length), its
// id and cap per host and day (0: none), and whether every host must be
// free (a collective call).
type CallRules struct {
	StepMinutes int
	KindID      string
	MaxPerDay   int
	Collective  bool
}

// Settings returns the shared settings as this kind's calls use them (its
// length) and the kind's own rules. The discovery kind keeps the shared
// length, so a role without kinds works exactly as before.
func (k *CallKind) Settings(bs BookingSettings) (BookingSettings, CallRules) {
	if k == nil || k.Minutes == 0 {
		return bs, CallRules{}
	}
	bs.DurationMinutes = k.Minutes
	return bs, CallRules{StepMinutes: k.StepMinutes, KindID: k.ID, MaxPerDay: k.MaxPerDay, Collective: k.Collective()}
}

// Key names what the kind changes about free times, for caches of them.
func (k *CallKind) Key() string {
	if k == nil || k.Minutes == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d/%s/%d/%s/%s", k.Minutes, k.StepMinutes, k.Mode, k.MaxPerDay, k.ID, strings.Join(k.Hosts, ","))
}

var callID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// CheckCallKinds fills in the defaults of a role file's kinds of call and
// reports the first problem as one line naming the kind.
func CheckCallKinds(kinds []CallKind) error {
	seen := map[string]bool{}
	public := 0
	for i := range kinds {
		k := &kinds[i]
		where := fmt.Sprintf("call %d", i+1)
		if k.ID != "" {
			where = fmt.Sprintf("call %q", k.ID)
		}
		if k.Mode == "" {
			k.Mode = ModeOneHost
		}
		if k.StepMinutes == 0 {
			k.StepMinutes = k.Minutes
		}
		unit := int(ClaimUnit / time.Minute)
		switch {
		case !callID.MatchString(k.ID):
			return fmt.Errorf("%s: id must be lower-case letters, digits and dashes", where)
		case seen[k.ID]:
			return fmt.Errorf("%s: id is used twice", where)
		case strings.TrimSpace(k.Title) == "":
			return fmt.Errorf("%s: needs a title", where)
		case k.Minutes < 5 || k.Minutes > 240 || k.Minutes%unit != 0:
			return fmt.Errorf("%s: minutes must be 5 to 240, a multiple of %d", where, unit)
		case k.StepMinutes < 5 || k.StepMinutes > 240 || k.StepMinutes%unit != 0:
			return fmt.Errorf("%s: step_minutes must be 5 to 240, a multiple of %d", where, unit)
		case k.Mode != ModeOneHost && k.Mode != ModeCollective:
			return fmt.Errorf("%s: mode must be %s or %s", where, ModeOneHost, ModeCollective)
		case k.Mode == ModeCollective && len(k.Hosts) < 2:
			return fmt.Errorf("%s: a collective call needs at least two hosts", where)
		case k.MaxPerDay < 0:
			return fmt.Errorf("%s: max_per_day must not be negative", where)
		}
		for j, h := range k.Hosts {
			if !ValidEmail(strings.TrimSpace(h)) || slices.Contains(k.Hosts[:j], h) {
				return fmt.Errorf("%s: host %q is not an email address, or is given twice", where, h)
			}
		}
		seen[k.ID] = true
		if k.IsPublic() {
			public++
		}
	}
	if len(kinds) > 0 && public == 0 {
		return fmt.Errorf("calls: at least one kind must be public")
	}
	return nil
}

// Step is the spacing of start times: the kind's step, else the length.
func (r SlotRules) Step() time.Duration {
	if r.Kind.StepMinutes > 0 {
		return time.Duration(r.Kind.StepMinutes) * time.Minute
	}
	return r.Settings.Duration()
}

// CallName is the kind of call a booking was booked as.
func (b Booking) CallName() string {
	if b.CallTitle == "" {
		return DiscoveryCallTitle
	}
	return b.CallTitle
}

// Minutes is the call's length.
func (b Booking) Minutes() int { return int(b.EndAt.Sub(b.StartAt) / time.Minute) }

// KindCount is one kind of call's figures on the dashboard.
type KindCount struct {
	CallID    string
	Title     string
	Booked    int
	Completed int
	NoShow    int
	Canceled  int
}
