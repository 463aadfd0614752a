package main

import (
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
)

// TestCommands_AuditTheirChangesAsTheOperator checks that user add, user
// passwd, token create, export and user reset-2fa each write their entry with an actor of
// kind cli that names the command and the operator.
func TestCommands_AuditTheirChangesAsTheOperator(t *testing.T) {
	s, _ := mustDataDB(t)
	t.Setenv("USER", "ops-alice")
	steps := []struct {
		stdin  string
		args   []string
		action string
	}{
		{"plum-otter-violin-42\n", []string{"user", "add", "--email", "ana@example.com", "--name", "Ana", "--role", "admin"}, models.AuditUserCreated},
		{"new-plum-otter-violin\n", []string{"user", "passwd", "--email", "ana@example.com"}, models.AuditUserPasswordChanged},
		{"", []string{"token", "create", "--email", "ana@example.com", "--name", "CRM sync"}, models.AuditTokenCreated},
		{"", []string{"export", "--status", "client"}, models.AuditLeadsExported},
		{"", []string{"user", "reset-2fa", "--email", "ana@example.com"}, models.AuditFactorsReset},
	}
	for _, st := range steps {
		if code, _, stderr := runIn(t, st.stdin, st.args...); code != 0 {
			t.Fatalf("%v: exit %d %q", st.args, code, stderr)
		}
		var rows []models.AuditEntry
		if err := s.DB().Where("action = ?", st.action).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		want := "callbook " + strings.Join(st.args[:min(2, len(st.args))], " ")
		if st.args[0] == "export" {
			want = "callbook export"
		}
		if len(rows) != 1 || rows[0].ActorKind != models.ActorKindCLI || rows[0].ActorID != nil ||
			!strings.Contains(rows[0].Details, `"command":"`+want+` (ops-alice)"`) {
			t.Errorf("%s entries: %+v, want one by %q as cli", st.action, rows, want)
		}
	}
}
