package models

// CleanupResult counts what one CleanUp changed.
type CleanupResult struct {
	IdempotencyKeys int64 // answers older than 24 hours, deleted
	OutcomesMissing int64 // past confirmed calls newly flagged as missing an outcome
	Sessions        int64 // expired staff sessions, deleted
	LoginAttempts   int64 // failed sign-ins older than a day, deleted
	DigestMarks     int64 // digest records older than 30 days, deleted
	RetentionMarks  int64 // lead-retention run records older than 30 days, deleted
	AuditEntries    int64 // audit entries older than the audit retention, deleted
	StatsFolded     int64 // dates and titles whose roll-up parts were folded into their row (PostgreSQL)
}

// Total is the number of rows CleanUp changed.
func (r CleanupResult) Total() int {
	return int(r.IdempotencyKeys + r.OutcomesMissing + r.Sessions + r.LoginAttempts + r.DigestMarks + r.RetentionMarks + r.AuditEntries + r.StatsFolded)
}
