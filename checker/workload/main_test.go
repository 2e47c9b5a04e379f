package workload_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: Run must
// join every client it starts.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
