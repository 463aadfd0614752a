package models

// UserChange is an admin's change to a staff user; nil fields stay as they are.
type UserChange struct {
	Name     *string
	Role     *string
	Host     *bool
	Disabled *bool
}
