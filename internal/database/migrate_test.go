package database_test

import (
	"context"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

// columns lists table's column names in order, whatever the dialect.
func columns(t *testing.T, db *gorm.DB, table string) []string {
	t.Helper()
	types, err := db.Migrator().ColumnTypes(table)
	if err != nil {
		t.Fatalf("ColumnTypes(%s): %v", table, err)
	}
	var names []string
	for _, c := range types {
		names = append(names, c.Name())
	}
	return names
}

func indexes(t *testing.T, db *gorm.DB, table string) []string {
	t.Helper()
	idx, err := db.Migrator().GetIndexes(table)
	if err != nil {
		t.Fatalf("GetIndexes(%s): %v", table, err)
	}
	var names []string
	for _, i := range idx {
		if pk, _ := i.PrimaryKey(); !pk {
			names = append(names, i.Name())
		}
	}
	slices.Sort(names)
	return names
}

func TestMigrateSameSchemaOnBothDatabases(t *testing.T) {
	lite, pg := dbtest.SQLite(t), dbtest.Postgres(t)
	for _, table := range []string{"integration_requests", "job_runs", "job_ticks"} {
		if got, want := columns(t, lite, table), columns(t, pg, table); !slices.Equal(got, want) {
			t.Errorf("%s columns on sqlite = %v; postgres = %v", table, got, want)
		}
		if got, want := indexes(t, lite, table), indexes(t, pg, table); !slices.Equal(got, want) {
			t.Errorf("%s indexes on sqlite = %v; postgres = %v", table, got, want)
		}
	}
	// The indexes the template's queries rely on (a clone may add its own).
	got := indexes(t, pg, "integration_requests")
	for _, want := range []string{"integration_requests_created_at_idx", "integration_requests_dashboard_idx",
		"integration_requests_reference_idx", "integration_requests_trace_id_idx"} {
		if !slices.Contains(got, want) {
			t.Errorf("integration_requests indexes = %v; want %s among them", got, want)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		// dbtest already migrated once; a second run must find nothing to do.
		applied, err := database.Migrate(context.Background(), db)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v; want nothing", applied)
		}
		all, _ := database.Migrations(db.Dialector.Name())
		var n int64
		db.Raw("SELECT COUNT(*) FROM schema_migrations").Scan(&n)
		if int(n) != len(all) {
			t.Errorf("schema_migrations rows = %d; want %d", n, len(all))
		}
	})
}

func TestMigrationsExistForBothDialects(t *testing.T) {
	pg, err := database.Migrations(database.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := database.Migrations(database.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version || pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %04d_%s, sqlite %04d_%s", i, pg[i].Version, pg[i].Name, lite[i].Version, lite[i].Name)
		}
	}
}
