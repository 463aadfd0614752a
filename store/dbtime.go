package store

import (
	"context"
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// dbTimeSerializer reads a computed time column into a *time.Time field on
// both databases. SQLite gives an aggregate or subquery (MIN(start_at)) no
// declared type, so its driver returns text, which database/sql cannot put
// into a time; tag such fields `gorm:"serializer:dbtime"`.
type dbTimeSerializer struct{}

func init() {
	// Registered once at start and never changed: a stateless codec.
	schema.RegisterSerializer("dbtime", dbTimeSerializer{})
}

// Scan sets the *time.Time field from NULL, a time or SQLite's text form.
func (dbTimeSerializer) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	t, ok, err := parseDBTime(dbValue)
	if err != nil {
		return err
	}
	var p *time.Time
	if ok {
		u := t.UTC()
		p = &u
	}
	field.ReflectValueOf(ctx, dst).Set(reflect.ValueOf(p))
	return nil
}

// Value writes the field as a plain time (these columns are read-only in practice).
func (dbTimeSerializer) Value(_ context.Context, _ *schema.Field, _ reflect.Value, fieldValue any) (any, error) {
	if p, ok := fieldValue.(*time.Time); ok && p != nil {
		return p.UTC(), nil
	}
	return nil, nil
}

// txNowKey marks the time a transaction takes as "now" (see txNow).
type txNowKey struct{}

// withTxNow stamps ctx with the store's clock, unless it already carries a
// time, and returns that time: a transaction reads the clock once, so every
// row it writes (created and updated times, events, due times of
// reminders) carries the same time. A method that needs the time before its
// transaction starts stamps ctx itself; runTx stamps every other.
func (s *Store) withTxNow(ctx context.Context) (context.Context, time.Time) {
	if t, ok := ctx.Value(txNowKey{}).(time.Time); ok {
		return ctx, t
	}
	t := s.Now()
	return context.WithValue(ctx, txNowKey{}, t), t
}

// txNow is the time the transaction tx started, as stamped by runTx; outside
// a transaction it is the store's clock.
func (s *Store) txNow(tx *gorm.DB) time.Time {
	if tx != nil && tx.Statement != nil && tx.Statement.Context != nil {
		if t, ok := tx.Statement.Context.Value(txNowKey{}).(time.Time); ok {
			return t
		}
	}
	return s.Now()
}
