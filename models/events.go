package models

// Actors that are not staff users.
const (
	ActorVisitor = "visitor"
	ActorSystem  = "system"
)

// ActorUser names a staff user as an event's actor.
func ActorUser(u *User) string { return u.Name + " <" + u.Email + ">" }
