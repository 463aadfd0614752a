package storetest

import (
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/store"
)

// SchemaShape describes a database's schema as sorted lines, one per table,
// column, index, constraint and trigger, in a form that does not depend on
// the order columns were added in or on how a statement was spelled: two
// databases with equal shapes accept and return the same rows through the
// same statements.
func SchemaShape(t testing.TB, db *sql.DB, dialect string) []string {
	t.Helper()
	var lines []string
	var err error
	if dialect == store.DialectPostgres {
		lines, err = postgresShape(db)
	} else {
		lines, err = sqliteShape(db)
	}
	if err != nil {
		t.Fatalf("read the schema: %v", err)
	}
	sort.Strings(lines)
	return lines
}

var (
	spaces = regexp.MustCompile(`\s+`)
	// casts are PostgreSQL's type casts as it prints them back.
	casts  = regexp.MustCompile(`::(character varying|text|[a-z_]+)(\[\])?`)
	quotes = strings.NewReplacer("`", "", `"`, "")
)

// normalSQL spells a stored statement one way: no quotes, single spaces,
// lower case, no IF NOT EXISTS.
func normalSQL(q string) string {
	q = strings.ToLower(spaces.ReplaceAllString(quotes.Replace(strings.TrimSpace(q)), " "))
	q = strings.ReplaceAll(q, " if not exists", "")
	q = strings.ReplaceAll(q, " (", "(")
	return strings.ReplaceAll(q, "( ", "(")
}

func sqliteShape(db *sql.DB) ([]string, error) {
	type object struct{ kind, name, table, sql string }
	rows, err := db.Query(`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'`)
	if err != nil {
		return nil, err
	}
	var objs []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.table, &o.sql); err != nil {
			rows.Close()
			return nil, err
		}
		objs = append(objs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var lines []string
	for _, o := range objs {
		switch o.kind {
		case "table":
			s := normalSQL(o.sql)
			switch {
			case strings.HasPrefix(s, "create virtual table"):
				lines = append(lines, "virtual table "+o.name+": "+s)
				continue
			case strings.HasSuffix(s, "without rowid"):
				lines = append(lines, "table "+o.name+" without rowid")
			default:
				lines = append(lines, "table "+o.name)
			}
			cols, err := sqliteColumns(db, o.name)
			if err != nil {
				return nil, err
			}
			lines = append(lines, cols...)
		case "index":
			if o.sql == "" { // made by a PRIMARY KEY or UNIQUE clause: the columns say it
				continue
			}
			lines = append(lines, "index "+o.table+"."+o.name+": "+normalSQL(o.sql))
		case "trigger", "view":
			lines = append(lines, o.kind+" "+o.name+": "+normalSQL(o.sql))
		}
	}
	return lines, nil
}

func sqliteColumns(db *sql.DB, table string) ([]string, error) {
	rows, err := db.Query(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var name, typ, dflt string
		var notNull, pk int
		if err := rows.Scan(&name, &typ, &notNull, &dflt, &pk); err != nil {
			return nil, err
		}
		l := fmt.Sprintf("column %s.%s %s", table, name, strings.ToLower(typ))
		if notNull == 1 {
			l += " not null"
		}
		if dflt != "" {
			l += " default " + dflt
		}
		if pk > 0 {
			l += fmt.Sprintf(" primary key %d", pk)
		}
		lines = append(lines, l)
	}
	return lines, rows.Err()
}

func postgresShape(db *sql.DB) ([]string, error) {
	queries := []string{
		`SELECT 'table ' || table_name FROM information_schema.tables
		  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
		`SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type ||
		        COALESCE('(' || character_maximum_length || ')', '') ||
		        CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END ||
		        COALESCE(' default ' || column_default, '')
		   FROM information_schema.columns WHERE table_schema = current_schema()`,
		`SELECT 'index ' || tablename || '.' || indexname || ': ' || replace(indexdef, ' ON ' || schemaname || '.', ' ON ')
		   FROM pg_indexes WHERE schemaname = current_schema()`,
		`SELECT 'constraint ' || cl.relname || '.' || co.conname || ': ' || pg_get_constraintdef(co.oid)
		   FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
		  WHERE cl.relnamespace = current_schema()::regnamespace`,
		`SELECT 'trigger ' || event_object_table || '.' || trigger_name || ': ' || event_manipulation || ' ' || action_statement
		   FROM information_schema.triggers WHERE trigger_schema = current_schema()`,
		`SELECT 'sequence ' || sequence_name || ' ' || data_type FROM information_schema.sequences
		  WHERE sequence_schema = current_schema()`,
	}
	var lines []string
	defer func() {
		for i, l := range lines {
			// Objects of the public schema (pg_trgm's operator classes) are
			// named with it where it is not on the search path.
			lines[i] = normalPredicate(strings.ReplaceAll(l, "public.", ""))
		}
	}()
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return lines, nil
}

// Tables lists the ordinary tables of the database, sorted.
func Tables(t testing.TB, db *sql.DB, dialect string) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if dialect == store.DialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// Rows reads every row of table, each value spelled as text (NULL for a
// null), keyed by column.
func Rows(t testing.TB, db *sql.DB, table string) []map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		row := make(map[string]string, len(cols))
		for i, c := range cols {
			row[c] = textOf(vals[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return out
}

func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// normalPredicate spells a partial index's condition without casts or
// parentheses: PostgreSQL prints the condition it parsed, and prints the
// same condition two ways depending on whether it was written as
// "status IN ('a', 'b')" or read back from a dump of that index.
func normalPredicate(line string) string {
	def, where, ok := strings.Cut(line, " WHERE ")
	if !ok || !strings.HasPrefix(line, "index ") {
		return line
	}
	where = strings.NewReplacer("(", "", ")", "").Replace(casts.ReplaceAllString(where, ""))
	return def + " WHERE " + where
}
