package models

// APITokenRow is a token as the users page lists it: never the token itself.
type APITokenRow struct {
	APIToken
	UserName  string
	UserEmail string
}
