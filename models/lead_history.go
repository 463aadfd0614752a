package models

// MailLeadAssigned is the kind of the email that tells a staff user a lead
// is now theirs.
const MailLeadAssigned = "lead-assigned"

// HasSource reports whether a booking request says where the visitor came from.
func (req BookingRequest) HasSource() bool {
	return req.UTMSource != "" || req.UTMMedium != "" || req.UTMCampaign != "" ||
		req.UTMTerm != "" || req.UTMContent != "" || req.Referrer != ""
}
