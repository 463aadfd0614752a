package store

import (
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

func forUpdate() clause.Expression { return clause.Locking{Strength: "UPDATE"} }

func forUpdateSkipLocked() clause.Expression {
	return clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}
}

// isUniqueViolation reports whether err is a unique-constraint failure on
// either database. GORM's TranslateError maps both drivers' codes to
// gorm.ErrDuplicatedKey.
func isUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey)
}
