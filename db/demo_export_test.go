package db

import "gorm.io/gorm"

// DemoGormDB hands the demo tests (package db_test, which can use dbtest) the store's GORM handle,
// so they read the tables directly rather than through the queries they would be checking.
func DemoGormDB(s *Store) *gorm.DB { return s.db }
