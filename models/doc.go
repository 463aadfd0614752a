// Package models holds Callbook's domain types, the table definitions that
// store maps to rows, and the pure rules that need no database: slot
// arithmetic, the password policy, CSV cell safety, meeting places, answer
// and routing rules. It imports no database package and none of Callbook's
// other packages, so every layer above can share its vocabulary.
package models
