package handlers

import (
	"github.com/callbook/callbook/models"
)

// discoveryKind is the one kind of a role without its own: a discovery
// call of the shared length, exactly as before roles had kinds.
var discoveryKind = models.CallKind{ID: models.DiscoveryCallID, Title: models.DiscoveryCallTitle, Mode: models.ModeOneHost}

// PublicCalls lists the kinds the role page and the public API offer, in
// file order; a role without kinds offers the discovery call.
func (r *Role) PublicCalls() []models.CallKind {
	if r == nil || len(r.Calls) == 0 {
		return []models.CallKind{discoveryKind}
	}
	var out []models.CallKind
	for _, k := range r.Calls {
		if k.IsPublic() {
			out = append(out, k)
		}
	}
	return out
}

// ChoosesCall reports whether a visitor picks the kind first: the role
// offers more than one.
func (r *Role) ChoosesCall() bool { return len(r.PublicCalls()) > 1 }

// Call returns the role's kind id, or the first public kind when id is
// empty. Private kinds are found only with private (a link's booking).
// A nil role has the discovery kind only.
func (r *Role) Call(id string, private bool) (*models.CallKind, bool) {
	if r == nil || len(r.Calls) == 0 {
		if id == "" || id == models.DiscoveryCallID {
			k := discoveryKind
			return &k, true
		}
		return nil, false
	}
	if id == "" {
		k := r.PublicCalls()[0]
		return &k, true
	}
	for _, k := range r.Calls {
		if k.ID == id && (k.IsPublic() || private) {
			return &k, true
		}
	}
	return nil, false
}
