package store

import (
	netmail "net/mail"
	"strings"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// recipient is one person an email goes to.
type recipient struct {
	Email, Name string
}

// borrowsAddress reports whether host u has no address of its own: it
// cannot sign in and its address is the sender's or a placeholder on
// localhost, as the default team host's is. Mail to it would reach no one.
func (s *Store) borrowsAddress(u *models.User) bool {
	if u.PasswordHash != "" {
		return false
	}
	addr := models.NormalizeEmail(u.Email)
	return addr == "" || addr == models.NormalizeEmail(s.mailFrom) || strings.HasSuffix(addr, "@localhost")
}

// noticeRecipients are the people host's notices go to: the host, or for a
// host without an address of its own every active admin (none yet: no one).
func (s *Store) noticeRecipients(tx *gorm.DB, host *models.User) ([]recipient, error) {
	if !s.borrowsAddress(host) {
		return []recipient{{host.Email, host.Name}}, nil
	}
	return activeAdmins(tx)
}

// activeAdmins lists the admins who are not disabled, in id order.
func activeAdmins(tx *gorm.DB) ([]recipient, error) {
	return readOnce(tx, func(r *batchReads) *once[[]recipient] { return &r.admins }, func() ([]recipient, error) {
		var admins []recipient
		err := tx.Model(&models.User{}).Select("email, name").Where("role = ? AND disabled = ?", models.RoleAdmin, false).
			Order("id").Scan(&admins).Error
		return admins, err
	})
}

// replyTo lists the recipients' addresses, for a visitor's Reply-To.
func replyTo(rs []recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Email)
	}
	return out
}

// visitorReplyTo is the Reply-To of a host notice: the visitor, so a coach
// who answers the notice writes to the person who booked and not to the
// sender's no-reply address. net/mail quotes or encodes the name as it
// needs; none without an address.
func visitorReplyTo(l *models.Lead) []string {
	addr := strings.TrimSpace(l.Email)
	if addr == "" {
		return nil
	}
	return []string{(&netmail.Address{Name: l.Name, Address: addr}).String()}
}

// setReplyTo points a visitor's replies at the people who get host's notices.
func (s *Store) setReplyTo(tx *gorm.DB, d *models.MailData, host *models.User) error {
	to, err := s.noticeRecipients(tx, host)
	d.ReplyTo = replyTo(to)
	return err
}

// queueHostNotice queues notice d to host, or to the admins for a host
// without an address of its own.
func (s *Store) queueHostNotice(tx *gorm.DB, host *models.User, d models.MailData) error {
	to, err := s.noticeRecipients(tx, host)
	if err != nil {
		return err
	}
	for _, r := range to {
		if err := s.queueMail(tx, r.Email, r.Name, d); err != nil {
			return err
		}
	}
	return nil
}
