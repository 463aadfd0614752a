package models

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"
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
				if err := tx.Create(&Setting{Key: "k" + RandomToken(4) + string(rune('a'+i%26)), Value: "v"}).Error; err != nil {
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
	s.write.Model(&Setting{}).Where("value = ?", "v").Count(&n)
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
		tx.Create(&Setting{Key: "half", Value: "written"})
		panic("bug")
	})
	if err == nil {
		t.Fatal("a panicking job reported success")
	}
	if err := s.tx(context.Background(), func(tx *gorm.DB) error { return tx.Create(&Setting{Key: "next", Value: "v"}).Error }); err != nil {
		t.Fatalf("the writer did not survive: %v", err)
	}
	var n int64
	s.write.Model(&Setting{}).Where("key = ?", "half").Count(&n)
	if n != 0 {
		t.Fatal("the panicking job's write was committed")
	}
}
