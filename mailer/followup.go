package mailer

import (
	htmltemplate "html/template"
	"net/url"
	"strings"

	"github.com/callbook/callbook/models"
)

// rebookURL is where a follow-up's {rebook_url} (and the host's apology
// for a missed call) leads: the one-use private link made with the email
// (MailData.RebookToken), whose page fills in the lead's details. An email
// written before such links existed has none, and leads to the role's
// booking form with the details filled in from the address instead.
func (r *Renderer) rebookURL(d models.MailData) string {
	if d.RebookToken != "" {
		return r.baseURL + "/l/" + url.PathEscape(d.RebookToken)
	}
	q := url.Values{}
	for k, v := range map[string]string{
		"name": d.Name, "email": d.Email, "phone": d.Phone, "current_title": d.CurrentTitle,
		"target_title": d.TargetTitle, "call": d.CallID,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	base := r.baseURL + "/"
	if d.RoleSlug != "" {
		base = r.baseURL + "/roles/" + url.PathEscape(d.RoleSlug) + "/book"
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// UnsubscribeURL is the one-click unsubscribe link for token.
func (r *Renderer) UnsubscribeURL(token string) string {
	return r.baseURL + "/u/" + url.PathEscape(token)
}

// followupView fills a follow-up email's links and lays its text out for
// both parts.
func (r *Renderer) followupView(v *view) {
	d := v.MailData
	if d.UnsubscribeToken != "" {
		v.UnsubscribeURL = r.UnsubscribeURL(d.UnsubscribeToken)
	}
	role := r.baseURL + "/"
	if v.RoleURL != "" {
		role = v.RoleURL
	}
	links := map[string]string{"role_url": role, "unsubscribe_url": v.UnsubscribeURL}
	body := d.FollowupBody
	if strings.Contains(body, "{rebook_url}") || strings.Contains(d.FollowupSubject, "{rebook_url}") {
		links["rebook_url"] = r.rebookURL(d)
	}
	v.FollowupSubjectText = oneLine(models.FillPlaceholders(d.FollowupSubject, links))
	v.FollowupText = strings.TrimSpace(models.FillPlaceholders(body, links))
	v.FollowupHTML = paragraphsHTML(v.FollowupText)
}

// paragraphsHTML turns plain text into HTML paragraphs: blank lines part
// paragraphs, line breaks stay, and web addresses become links. Everything
// else is escaped.
func paragraphsHTML(text string) htmltemplate.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString(`<p style="margin:0 0 14px;">`)
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			for j, word := range strings.Split(line, " ") {
				if j > 0 {
					b.WriteByte(' ')
				}
				if strings.HasPrefix(word, "https://") || strings.HasPrefix(word, "http://") {
					b.WriteString(`<a href="` + htmltemplate.HTMLEscapeString(word) + `" style="color:#2f6fde;">` + string(breakable(word)) + `</a>`)
					continue
				}
				b.WriteString(htmltemplate.HTMLEscapeString(word))
			}
		}
		b.WriteString("</p>")
	}
	return htmltemplate.HTML(b.String())
}
