package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// TestGroupCommit_FailingJobLeavesTheOthersCommitted runs many jobs at once,
// every third one failing after it wrote: the failures leave nothing and
// every other job's row is committed, whatever batches formed.
func TestGroupCommit_FailingJobLeavesTheOthersCommitted(t *testing.T) {
	s, err := Open("sqlite:"+filepath.Join(t.TempDir(), "g.db"), Options{Secret: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 60)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.tx(context.Background(), func(tx *gorm.DB) error {
				if err := tx.Create(&models.Setting{Key: "k" + RandomToken(4) + string(rune('a'+i%26)), Value: "v"}).Error; err != nil {
					return err
				}
				if i%3 == 0 {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%3 == 0) != errors.Is(err, boom) || (i%3 != 0 && err != nil) {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	var n int64
	s.write.Model(&models.Setting{}).Where("value = ?", "v").Count(&n)
	if n != 40 {
		t.Fatalf("%d rows committed, want 40", n)
	}
}

func TestGroupCommit_PanicFailsOnlyThatJob(t *testing.T) {
	s, err := Open("sqlite:"+filepath.Join(t.TempDir(), "g.db"), Options{Secret: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = s.tx(context.Background(), func(tx *gorm.DB) error {
		tx.Create(&models.Setting{Key: "half", Value: "written"})
		panic("bug")
	})
	if err == nil {
		t.Fatal("a panicking job reported success")
	}
	if err := s.tx(context.Background(), func(tx *gorm.DB) error { return tx.Create(&models.Setting{Key: "next", Value: "v"}).Error }); err != nil {
		t.Fatalf("the writer did not survive: %v", err)
	}
	var n int64
	s.write.Model(&models.Setting{}).Where("key = ?", "half").Count(&n)
	if n != 0 {
		t.Fatal("the panicking job's write was committed")
	}
}

// TestGroupCommit_BrokenConnectionIsReplaced breaks the connection the
// group committer keeps: the batch that finds it broken fails, and the next
// one runs on a fresh connection from the pool instead of failing for good.
func TestGroupCommit_BrokenConnectionIsReplaced(t *testing.T) {
	s := openInternalStore(t)
	write := func(key string) error {
		return s.tx(context.Background(), func(tx *gorm.DB) error {
			return tx.Create(&models.Setting{Key: key, Value: "v"}).Error
		})
	}
	if err := write("before"); err != nil {
		t.Fatal(err)
	}
	broken := s.group.conn
	if err := broken.Close(); err != nil {
		t.Fatal(err)
	}
	if err := write("on-the-broken-connection"); !errors.Is(err, sql.ErrConnDone) {
		t.Fatalf("write on the closed connection: %v, want sql.ErrConnDone", err)
	}
	if err := write("after"); err != nil {
		t.Fatalf("write after the broken connection: %v", err)
	}
	if s.group.conn == broken {
		t.Fatal("the group committer still holds the broken connection")
	}
	var keys []string
	s.write.Model(&models.Setting{}).Where("value = ?", "v").Order("key").Pluck("key", &keys)
	if len(keys) != 2 || keys[0] != "after" || keys[1] != "before" {
		t.Fatalf("rows committed: %v, want [after before]", keys)
	}
}
