package ws

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(benchClientsEnv); spec != "" {
		runBenchClients(spec) // BenchmarkHistoryPublish's client process
		return
	}
	goleak.VerifyTestMain(m)
}
