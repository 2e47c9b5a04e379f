// Package sqlbench holds benchmarks of the SQL layer over a real in-process
// cluster (server.StartCluster: three nodes, the real transaction layer,
// the MySQL wire server on each), driven through go-sql-driver with
// sysbench-like statements. They exist to be profiled:
//
//	go test ./sql/sqlbench -run - -bench PointSelect -benchtime 20000x -cpuprofile cpu.out
//
// The package has no non-test code.
package sqlbench
